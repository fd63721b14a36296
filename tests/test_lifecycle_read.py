"""Reading a handover (service level): opening, acknowledging once, replying, withdrawing."""

import threading

import lifecycle_support
import pytest
from lifecycle_support import (
    access_for,
    handover,
    send_handover,
)
from sqlalchemy import func, select

from handover.services import (
    AlreadyAcknowledged,
    LifecycleError,
    NotWithdrawable,
    reading,
    replies,
    withdrawal,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world



def _events(action):
    return db.session.execute(
        select(func.count()).where(AuditEvent.action == action)).scalar()


def test_first_view_by_receiving_unit_opens_the_handover_once(app, world):
    with app.app_context():
        hid = send_handover(world)
        assert reading.record_view(access_for(world, "receiving_receiver", hid),
                                   world.user("receiving_receiver"))
        first_opened = handover(hid).opened_at
        assert handover(hid).status == "opened"
        assert not reading.record_view(access_for(world, "receiving_lead", hid),
                                       world.user("receiving_lead"))
        assert handover(hid).opened_at == first_opened
        assert _events("handover.opened") == 1
        assert _events("handover.viewed") == 2


def _at_once(app, world, handover_id, capability, work):
    """``work(granted, user)`` for the receiving unit's receiver and lead, each in a thread of
    its own with the handover loaded first, released together; what each returned (the
    exception's name when it was told the handover was already acknowledged), sorted."""
    barrier = threading.Barrier(2)
    outcomes = []

    def one(user_name):
        with app.app_context():
            granted = access_for(world, user_name, handover_id, capability)
            barrier.wait()
            try:
                outcomes.append(work(granted, world.user(user_name)))
            except AlreadyAcknowledged as refused:
                outcomes.append(type(refused).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=(name,))
               for name in ("receiving_receiver", "receiving_lead")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes, key=str)


def test_two_concurrent_first_views_open_the_handover_once(app, world):
    """Both readers loaded the handover as "sent"; the status change (sent together with the
    audit chain's lock on PostgreSQL) tells exactly one of them that its view opened it."""
    with app.app_context():
        hid = send_handover(world)
    assert _at_once(app, world, hid, "read", reading.record_view) == [False, True]
    with app.app_context():
        assert handover(hid).status == "opened"
        assert _events("handover.opened") == 1 and _events("handover.viewed") == 2
        assert audit.verify_chain() == (True, None, None)


def test_failed_audit_write_leaves_the_handover_unopened(app, world, monkeypatch):
    """The status change goes to the database before the audit rows are made; if they cannot
    be, the whole transaction is rolled back (as the request's teardown does)."""
    with app.app_context():
        hid = send_handover(world)
        granted = access_for(world, "receiving_receiver", hid)
        monkeypatch.setattr(audit, "event_hash", lambda *a, **k: (_ for _ in ()).throw(
            RuntimeError("audit down")))
        with pytest.raises(RuntimeError):
            reading.record_view(granted, world.user("receiving_receiver"))
        monkeypatch.undo()
        db.session.rollback()
        assert handover(hid).status == "sent" and handover(hid).opened_at is None
        assert _events("handover.opened") == 0 and _events("handover.viewed") == 0


@pytest.mark.parametrize("reader", ["sending_sender", "copy_receiver"])
def test_views_by_sender_or_copy_do_not_open_the_handover(app, world, reader):
    with app.app_context():
        hid = send_handover(world)
        reading.record_view(access_for(world, reader, hid), world.user(reader))
        assert handover(hid).status == "sent" and handover(hid).opened_at is None


def test_acknowledgement_with_a_note_is_sealed_and_readable(app, world):
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "Primary nurse: Anna")
        acknowledged = handover(hid)
        assert acknowledged.status == "acknowledged" and acknowledged.opened_at is not None
        assert b"Anna" not in acknowledged.acknowledgement_note
        assert reading.acknowledgement_note(acknowledged) == "Primary nurse: Anna"


def test_second_acknowledgement_is_told_already_acknowledged(app, world):
    with app.app_context():
        hid = send_handover(world)
        # Both had the page open; the lead clicks a moment after the receiver.
        lead = access_for(world, "receiving_lead", hid, "acknowledge")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"))
        with pytest.raises(AlreadyAcknowledged):
            reading.acknowledge(lead, world.user("receiving_lead"))
        assert _events("handover.acknowledged") == 1


def test_two_concurrent_acknowledgements_yield_one(app, world):
    with app.app_context():
        hid = send_handover(world)

    def acknowledge(granted, user):
        reading.acknowledge(granted, user)
        return "ok"

    assert _at_once(app, world, hid, "acknowledge", acknowledge) == ["AlreadyAcknowledged", "ok"]
    with app.app_context():
        assert _events("handover.acknowledged") == 1


def test_failed_audit_write_rolls_the_acknowledgement_back(app, world, monkeypatch):
    with app.app_context():
        hid = send_handover(world)
        granted = access_for(world, "receiving_receiver", hid, "acknowledge")
        monkeypatch.setattr(audit, "record", lambda *a, **k: (_ for _ in ()).throw(
            RuntimeError("audit down")))
        with pytest.raises(RuntimeError):
            reading.acknowledge(granted, world.user("receiving_receiver"), "note")
        monkeypatch.undo()
        db.session.expire_all()
        assert handover(hid).status == "sent" and handover(hid).acknowledged_at is None


def test_copy_unit_cannot_acknowledge(app, world):
    from handover.services.policy import WrongState

    with app.app_context():
        hid = send_handover(world)
        with pytest.raises(WrongState, match="Vastaanottava yksikkö kuittaa"):   # fi: default
            access_for(world, "copy_receiver", hid, "acknowledge")


def test_thread_both_ways_and_reply_form(app, world):
    with app.app_context():
        hid = send_handover(world)
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "Arrived safely")
        replies.add_message(access_for(world, "sending_sender", hid, "reply"),
                            world.user("sending_sender"), "Thank you")
        replies.add_form_reply(access_for(world, "receiving_receiver", hid, "reply"),
                               world.user("receiving_receiver"), "ward_reply",
                               {"primary_nurse": "Nurse Noora"})
        thread = replies.thread(handover(hid))
        assert [value for _, value in thread] == [
            {"text": "Arrived safely"}, {"text": "Thank you"},
            {"content": {"primary_nurse": "Nurse Noora"}}]
        assert replies.replied_by_receiver(handover(hid))


def test_sender_cannot_answer_with_the_receivers_reply_form(app, world):
    with app.app_context():
        hid = send_handover(world)
        with pytest.raises(LifecycleError):
            replies.add_form_reply(access_for(world, "sending_sender", hid, "reply"),
                                   world.user("sending_sender"), "ward_reply",
                                   {"primary_nurse": "x"})


def test_swapped_reply_bodies_are_detected(app, world):
    from handover.security.crypto import TamperedRecord

    with app.app_context():
        hid = send_handover(world)
        granted = access_for(world, "receiving_receiver", hid, "reply")
        first = replies.add_message(granted, world.user("receiving_receiver"), "one")
        second = replies.add_message(granted, world.user("receiving_receiver"), "two")
        first.body, second.body = second.body, first.body
        db.session.commit()
        with pytest.raises(TamperedRecord):
            replies.thread(handover(hid))


def test_withdraw_before_opening(app, world):
    with app.app_context():
        hid = send_handover(world)
        withdrawal.withdraw(access_for(world, "sending_sender", hid, "withdraw"),
                            world.user("sending_sender"))
        assert handover(hid).status == "withdrawn"
        with pytest.raises(LifecycleError):
            reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                                world.user("receiving_receiver"))


def test_withdraw_after_opening_is_refused(app, world):
    with app.app_context():
        hid = send_handover(world)
        # The sender's page offered "withdraw" a moment before the receiver opened it.
        granted = access_for(world, "sending_sender", hid, "withdraw")
        reading.record_view(access_for(world, "receiving_receiver", hid),
                            world.user("receiving_receiver"))
        with pytest.raises(NotWithdrawable):
            withdrawal.withdraw(granted, world.user("sending_sender"))
        assert handover(hid).status == "opened"
