"""What a review of notices and background jobs found: an event that happens again on the same
handover (a second return, an arrival or a first view after a reroute, the new unit's overdue
deadline) was taken for a repeat and told to nobody; a reroute told the new unit's system
nothing; an overdue notice to a unit without a lead reached nobody while marked as told;
notices queued before a person left the unit, or before the handover was acknowledged or the
late draft sent, still went out. `deliveries.deliver_due()` does here what the worker does."""

from datetime import timedelta

import lifecycle_support
import pytest
from lifecycle_support import access_for, send_handover
from sqlalchemy import delete, select, update

from handover.services import (
    accounts,
    deliveries,
    notifications,
    policy,
    reading,
    returning,
    webhooks,
)
from handover.store.database import db
from handover.store.models import AuditEvent, Delivery, Handover, Membership, Unit, User
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

HOOK = "https://system.example.test/hook"


def _rows(channel, event):
    return list(db.session.execute(
        select(Delivery).where(Delivery.channel == channel, Delivery.event == event)
        .order_by(Delivery.id)).scalars())


def _give_back(world, handover_id, person):
    user = world.user(person)
    returning.give_back(policy.require(user, handover_id, "return"), user, "wrong_unit")


def _reroute(world, handover_id, unit):
    sender = world.user("sending_sender")
    returning.reroute(policy.require(sender, handover_id, "reroute"), sender,
                      db.session.get(Unit, world.units[unit].id))


def _endpoint(world, unit, events):
    return webhooks.create_endpoint(world.user("admin"), world.units[unit].id, HOOK, events)[0]


def test_a_second_return_and_an_arrival_after_a_reroute_are_told(app, world):
    with app.app_context():
        sending_hook = _endpoint(world, "sending", ["returned", "opened"])
        other_hook = _endpoint(world, "other", ["arrived"])
        handover_id = send_handover(world, copies=False)
        _give_back(world, handover_id, "receiving_receiver")
        _reroute(world, handover_id, "other")
        reading.record_view(access_for(world, "other_receiver", handover_id),
                            world.user("other_receiver"))
        _give_back(world, handover_id, "other_receiver")

        returned_mail = [row.recipient for row in _rows(deliveries.EMAIL, "returned")]
        assert returned_mail.count("sending.sender@example.test") == 2, "both returns"
        returned_hooks = [row for row in _rows(deliveries.WEBHOOK, "returned")
                          if row.endpoint_id == sending_hook.id]
        assert len(returned_hooks) == 2
        arrived_hooks = [row for row in _rows(deliveries.WEBHOOK, "arrived")
                         if row.endpoint_id == other_hook.id]
        assert len(arrived_hooks) == 1, "the new unit's system hears it arrived"
        assert "other.receiver@example.test" in [
            row.recipient for row in _rows(deliveries.EMAIL, "arrived")]
        opened_hooks = [row for row in _rows(deliveries.WEBHOOK, "opened")
                        if row.endpoint_id == sending_hook.id]
        assert len(opened_hooks) == 1 and opened_hooks[0].unit_id == world.units["sending"].id


def test_an_overdue_notice_goes_to_the_receivers_of_a_unit_without_a_lead(app, world):
    with app.app_context():
        db.session.execute(delete(Membership).where(
            Membership.unit_id == world.units["receiving"].id, Membership.role == "lead"))
        handover_id = send_handover(world, copies=False)
        db.session.execute(update(Handover).where(Handover.id == handover_id)
                           .values(due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        assert notifications.notify_overdue() == [handover_id]
        assert [row.recipient for row in _rows(deliveries.EMAIL, "overdue")] == [
            "receiving.receiver@example.test"]


def test_an_overdue_notice_nobody_can_get_is_logged_as_failed(app, world):
    with app.app_context():
        db.session.execute(delete(Membership).where(
            Membership.unit_id == world.units["receiving"].id,
            Membership.role.in_(("lead", "receiver"))))
        handover_id = send_handover(world, copies=False)
        db.session.execute(update(Handover).where(Handover.id == handover_id)
                           .values(due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        notifications.notify_overdue()
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.overdue_notified")).scalar_one()
        assert event.outcome == "failed" and "no_recipient" in event.detail


def test_a_notice_queued_before_its_person_left_is_not_sent(app, world):
    with app.app_context():
        send_handover(world, copies=False)
        accounts.set_user_active(db.session.get(User, world.users["receiving_receiver"].id),
                                 False, actor=world.user("admin"))
        db.session.execute(delete(Membership).where(
            Membership.user_id == world.users["receiving_lead"].id))
        db.session.commit()
        outcomes = {row.recipient: (row.status, row.last_error)
                    for row in deliveries.deliver_due() if row.channel == deliveries.EMAIL}
    for person in ("receiving.receiver@example.test", "receiving.lead@example.test"):
        assert outcomes[person] == (deliveries.DROPPED, "recipient no longer in the unit")


def test_an_arrival_notice_is_not_sent_once_the_unit_acknowledged_it(app, world):
    with app.app_context():
        handover_id = send_handover(world)   # with a copy unit
        reading.acknowledge(access_for(world, "receiving_receiver", handover_id, "acknowledge"),
                            world.user("receiving_receiver"), "")
        outcomes = {row.recipient: row.status for row in deliveries.deliver_due()
                    if row.channel == deliveries.EMAIL and row.event == "arrived"}
    assert outcomes["receiving.lead@example.test"] == deliveries.DROPPED
    assert outcomes["copy.receiver@example.test"] == "delivered", "a copy unit may not have looked"


def test_someone_of_the_receiving_and_a_copy_unit_is_told_of_the_copy_still(app, world):
    """Told once, under the receiving unit: when that unit acknowledged before the worker came
    to the notice, it was dropped, and she never heard a copy had reached her other unit."""
    from support import create_user

    with app.app_context():
        nurse_id = create_user("nurse.of.both@example.test", memberships=[
            (world.unit("receiving"), "receiver"), (world.unit("copy"), "receiver")]).id
        handover_id = send_handover(world)   # to the receiving unit, a copy to the copy unit
        [row] = [row for row in _rows(deliveries.EMAIL, "arrived")
                 if row.recipient == "nurse.of.both@example.test"]
        assert row.unit_id == world.units["receiving"].id
        reading.acknowledge(access_for(world, "receiving_receiver", handover_id, "acknowledge"),
                            world.user("receiving_receiver"), "")
        # And she left the ward meanwhile: she is still of the copy unit.
        db.session.execute(delete(Membership).where(
            Membership.user_id == nurse_id, Membership.unit_id == world.units["receiving"].id))
        db.session.commit()
        outcomes = {delivered.recipient: delivered.status
                    for delivered in deliveries.deliver_due()
                    if delivered.channel == deliveries.EMAIL and delivered.event == "arrived"}
    assert outcomes["nurse.of.both@example.test"] == "delivered"



def test_a_return_and_its_notice_are_one_transaction(app, world, monkeypatch):
    """The README says each notice is a row of the action's own transaction: a return's,
    a reroute's and an update's e-mails were written after it, in one of their own, so a
    failure between the two returned the handover with nobody told."""
    def broken(*_args, **_kwargs):
        raise RuntimeError("the outbox could not be written")

    with app.app_context():
        handover_id = send_handover(world, copies=False)
        monkeypatch.setattr(notifications, "record_email", broken)
        with pytest.raises(RuntimeError):
            _give_back(world, handover_id, "receiving_receiver")
        db.session.rollback()
        assert db.session.get(Handover, handover_id).status == "sent"


def test_a_copy_units_arrival_notice_stands_when_the_receiver_returns_it(app, world):
    """Queued, then the receiving unit returned it before the worker came: the copy units
    keep their copies and can read it, but their notices were dropped as "returned"."""
    with app.app_context():
        handover_id = send_handover(world)   # a copy to the copy unit
        _give_back(world, handover_id, "receiving_receiver")
        outcomes = {row.recipient: row.status for row in deliveries.deliver_due()
                    if row.channel == deliveries.EMAIL and row.event == "arrived"}
    assert outcomes["copy.receiver@example.test"] == "delivered"
    assert outcomes["receiving.receiver@example.test"] == deliveries.DROPPED


def test_an_arrival_is_not_told_through_a_unit_where_one_only_sends(app, world):
    """She left the receiving unit; her other unit got a copy, but there she only sends (a
    sender of a copy unit sees nothing of it): the notice went to her all the same."""
    from support import create_user

    with app.app_context():
        person_id = create_user("left.the.ward@example.test", memberships=[
            (world.unit("receiving"), "receiver"), (world.unit("copy"), "sender")]).id
        send_handover(world)
        db.session.execute(delete(Membership).where(
            Membership.user_id == person_id, Membership.unit_id == world.units["receiving"].id))
        db.session.commit()
        outcomes = {row.recipient: row.status for row in deliveries.deliver_due()
                    if row.channel == deliveries.EMAIL and row.event == "arrived"}
    assert outcomes["left.the.ward@example.test"] == deliveries.DROPPED
