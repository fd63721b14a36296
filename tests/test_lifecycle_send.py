"""Writing and sending a handover (service level): routing re-checked on the server, one
handover per submission, every change with its audit event or not at all."""

import secrets

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    FORM_KEY,
    content,
    handover,
    send_handover,
)
from sqlalchemy import func, select

from handover.security import crypto
from handover.services import AlreadySent, LifecycleError, drafts, sending
from handover.services.routing import RouteRefused
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world



def _draft(world, **routing):
    return drafts.start(
        world.user("sending_sender"), world.unit("sending"), FORM_KEY,
        routing.get("receiver", world.unit("receiving")),
        routing.get("copies", [world.unit("copy")]), routing.get("basis", "lsl_disclosure"),
    )


def _count(model=Handover):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_sent_handover_has_due_time_identity_hash_and_sealed_summary(app, world):
    with app.app_context():
        sent = handover(send_handover(world))
        assert sent.status == "sent"
        assert sent.identity_hash == crypto.identity_hash(CHILD_CODE)
        assert (sent.due_at - sent.sent_at).total_seconds() == 24 * 3600
        from handover.services.reading import summary_for_reader
        assert summary_for_reader(sent) == {"child_name": content()["child_name"]}


def test_receiver_not_allowed_by_routing_is_refused_and_nothing_is_stored(app, world):
    with app.app_context():
        with pytest.raises(RouteRefused):
            _draft(world, receiver=world.unit("copy"))
        assert _count() == 0


def test_copy_unit_not_allowed_by_routing_is_refused(app, world):
    with app.app_context():
        with pytest.raises(RouteRefused):
            _draft(world, copies=[world.unit("other")])
        assert _count() == 0


def test_send_rechecks_a_route_changed_behind_the_form(app, world):
    with app.app_context():
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content())
        draft.receiver_unit_id = world.unit("copy").id  # a forged route in the stored draft
        db.session.commit()
        with pytest.raises(RouteRefused):
            sending.send(world.user("sending_sender"), draft, "token-1")
        db.session.rollback()
        assert db.session.get(Handover, draft.id).status == "draft"


@pytest.mark.parametrize("who", ["sending_receiver", "sending_lead", "receiving_sender", "admin"])
def test_only_a_sender_of_the_sending_unit_can_start_or_send(app, world, who):
    with app.app_context():
        with pytest.raises(LifecycleError):
            drafts.start(world.user(who), world.unit("sending"), FORM_KEY,
                         world.unit("receiving"), [], "lsl_disclosure")
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content())
        with pytest.raises(LifecycleError):
            sending.send(world.user(who), draft, "token-x")
        db.session.rollback()
        assert db.session.get(Handover, draft.id).status == "draft"


def test_removed_membership_stops_the_send(app, world):
    from handover.store.models import Membership

    with app.app_context():
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content())
        sender = world.user("sending_sender")
        for membership in list(sender.memberships):
            db.session.delete(membership)
        db.session.commit()
        with pytest.raises(LifecycleError):
            sending.send(sender, db.session.get(Handover, draft.id), "t")
        assert db.session.execute(select(func.count()).select_from(Membership)).scalar() > 0


def test_colleague_with_sender_role_continues_the_draft(app, world):
    from support import create_user

    with app.app_context():
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content(health_notes="first part"))
        colleague = create_user("colleague@example.test",
                                memberships=[(world.unit("sending"), "sender")])
        assert drafts.content_of(draft)["health_notes"] == "first part"
        drafts.save(colleague, draft, content(health_notes="first part, second part"))
        sent = sending.send(colleague, draft, "t-colleague")
        assert sent.sent_by_id == colleague.id and sent.created_by_id != colleague.id


def test_send_without_legal_basis_is_refused(app, world):
    with app.app_context():
        draft = _draft(world, basis="")
        drafts.save(world.user("sending_sender"), draft, content())
        with pytest.raises(LifecycleError):
            sending.send(world.user("sending_sender"), draft, "t")


def test_unknown_legal_basis_is_refused(app, world):
    with app.app_context():
        with pytest.raises(LifecycleError):
            _draft(world, basis="because_i_said_so")


def test_send_posted_twice_with_the_same_token_creates_one_handover(app, world):
    with app.app_context():
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content())
        token = secrets.token_urlsafe(16)
        first = sending.send(world.user("sending_sender"), draft, token)
        again = sending.send(world.user("sending_sender"), db.session.get(Handover, draft.id),
                             token)
        assert first.id == again.id
        assert _count() == 1
        sent_events = db.session.execute(
            select(func.count()).where(AuditEvent.action == "handover.sent")).scalar()
        assert sent_events == 1


def test_send_of_an_already_sent_handover_with_another_token_is_refused(app, world):
    with app.app_context():
        hid = send_handover(world)
        with pytest.raises(AlreadySent):
            sending.send(world.user("sending_sender"), handover(hid), "another-token")


def test_validation_errors_stop_the_send_and_keep_the_draft(app, world):
    with app.app_context():
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content(child_name=""))
        with pytest.raises(drafts.ValidationFailed) as failure:
            sending.send(world.user("sending_sender"), draft, "t",
                         validate=lambda d, c: {} if c.get("child_name") else
                         {"child_name": ["required"]})
        assert "child_name" in failure.value.errors
        assert drafts.content_of(db.session.get(Handover, draft.id))["health_notes"]


def test_failed_audit_write_rolls_the_send_back(app, world, monkeypatch):
    with app.app_context():
        draft = _draft(world)
        drafts.save(world.user("sending_sender"), draft, content())

        def broken(*args, **kwargs):
            raise RuntimeError("audit store unavailable")

        monkeypatch.setattr(audit, "event_hash", broken)
        with pytest.raises(RuntimeError):
            sending.send(world.user("sending_sender"), draft, "t")
        monkeypatch.undo()
        stored = db.session.get(Handover, draft.id)
        assert stored.status == "draft" and stored.sent_at is None


def test_hooks_run_after_commit(app, world, monkeypatch):
    from handover.plugins import manager as plugin_manager

    seen = []

    def spy(name, **kwargs):
        if name.startswith("handover_"):
            committed = db.session.execute(
                select(Handover.status).where(Handover.id == kwargs["handover"].id)
            ).scalar()
            seen.append((name, committed))
        return []

    with app.app_context():
        monkeypatch.setattr(plugin_manager, "call_hook", spy)
        send_handover(world)
    assert ("handover_sent", "sent") in seen


def test_correction_is_a_new_draft_linked_to_the_old_handover(app, world):
    from handover.services import policy as access
    from handover.services import withdrawal

    with app.app_context():
        old_id = send_handover(world)
        granted = access.require(world.user("sending_sender"), old_id, "correct")
        new = withdrawal.correct(granted, world.user("sending_sender"))
        assert new.replaces_id == old_id and new.status == "draft"
        assert drafts.content_of(new)["child_identity_code"] == CHILD_CODE
        assert {c.unit_id for c in new.copies} == {world.unit("copy").id}
        sent = sending.send(world.user("sending_sender"), new, "t-correction")
        assert sent.replaces_id == old_id


def test_first_view_tells_a_listening_plugin_after_commit(app, world, monkeypatch):
    from lifecycle_support import access_for

    from handover.plugins import manager as plugin_manager
    from handover.services import reading

    seen = []

    def spy(name, **kwargs):
        committed = db.session.execute(
            select(Handover.status).where(Handover.id == kwargs["handover"].id)).scalar()
        seen.append((name, committed, kwargs.get("unit") and kwargs["unit"].id))
        return []

    with app.app_context():
        hid = send_handover(world)
        monkeypatch.setattr(plugin_manager, "implemented", lambda name, app=None: True)
        monkeypatch.setattr(plugin_manager, "call_hook", spy)
        reading.record_view(access_for(world, "receiving_receiver", hid),
                            world.user("receiving_receiver"))
        assert seen == [("handover_opened", "opened", world.unit("receiving").id)]
