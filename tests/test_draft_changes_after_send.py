"""A change of a draft that a colleague sent (or deleted) meanwhile is refused, and the sent
handover stays as it was sent.

Drafts are shared by the sending unit, and the fill pages save in the background: a save, a
change of routing, an attachment or a delete from a page loaded before the send used to be
written by id alone, over the sent handover (its content re-sealed as a draft, which the
receiver's page then reported as tampered; its receiver changed; the delete a 500). Each test
loads the draft in one request's session, sends it in another, then makes the change with
the first request's object, as the two requests would on a server."""

import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import CHILD_CODE, FORM_KEY, FREE_TEXT_MARKER, PDF, content

from handover.services import (
    LifecycleError,
    NotFound,
    attachments,
    drafts,
    policy,
    reading,
    sending,
)
from handover.store.database import db
from handover.store.models import Attachment, Handover, HandoverCopy

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _saved_draft(app, world):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        return draft.id


def _send_meanwhile(app, world, draft_id):
    with app.app_context():
        user = world.user("sending_sender")
        sending.send(user, policy.require(user, draft_id, "send").handover, "sent-meanwhile")


def _as_received(app, world, handover_id):
    """(status, content as the receiver reads it, receiver unit id, copy unit ids)."""
    with app.app_context():
        stored = db.session.get(Handover, handover_id)
        copies = sorted(copy.unit_id for copy in db.session.query(HandoverCopy).filter_by(
            handover_id=handover_id))
        granted = policy.require(world.user("receiving_receiver"), handover_id, "view")
        return stored.status, reading.content_for_reader(granted), stored.receiver_unit_id, copies


@pytest.fixture
def loaded_then_sent(app, world):
    """A saved draft loaded by a first request (its object in that request's session), then
    sent by a second; yields (the first request's user, its handover object, the id)."""
    draft_id = _saved_draft(app, world)
    with app.test_request_context(), force_locale("en"):
        user = world.user("sending_sender")
        granted = policy.require(user, draft_id, "edit")
        _send_meanwhile(app, world, draft_id)
        yield user, granted, draft_id


def test_a_background_save_after_the_send_is_refused_and_the_sent_content_stays(
        app, world, loaded_then_sent):
    user, granted, draft_id = loaded_then_sent
    with pytest.raises(LifecycleError, match="already been sent"):
        drafts.save(user, granted.handover, content(health_notes="typed in the other tab"))
    status, received, _, _ = _as_received(app, world, draft_id)
    assert status == "sent"
    assert received["health_notes"] == FREE_TEXT_MARKER
    assert received["child_identity_code"] == CHILD_CODE


def test_a_change_of_routing_after_the_send_is_refused(app, world, loaded_then_sent):
    user, granted, draft_id = loaded_then_sent
    with pytest.raises(LifecycleError, match="already been sent"):
        drafts.change_routing(user, granted.handover, world.unit("other"), [world.unit("copy")],
                              "lsl_disclosure")
    status, _, receiver_id, copies = _as_received(app, world, draft_id)
    assert (status, receiver_id, copies) == ("sent", world.units["receiving"].id, [])
    with app.app_context():   # the unit it was never sent to sees nothing
        with pytest.raises(NotFound):
            policy.require(world.user("other_receiver"), draft_id, "view")


def test_a_delete_after_the_send_is_refused_not_a_crash(app, world, loaded_then_sent):
    user, granted, draft_id = loaded_then_sent
    with pytest.raises(LifecycleError, match="already been sent"):
        drafts.discard(user, granted.handover)
    assert _as_received(app, world, draft_id)[0] == "sent"


def test_an_attachment_after_the_send_is_refused(app, world, loaded_then_sent):
    user, granted, draft_id = loaded_then_sent
    with pytest.raises(attachments.AttachmentRejected, match="only while"):
        attachments.add(granted, user, "lausunto.pdf", PDF)
    with app.app_context():
        assert db.session.query(Attachment).filter_by(handover_id=draft_id).count() == 0


def test_an_attachment_removed_after_the_send_stays(app, world):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        attachment_id = attachments.add(policy.require(sender, draft.id, "attach"), sender,
                                        "lausunto.pdf", PDF).id
        draft_id = draft.id
    with app.test_request_context(), force_locale("en"):
        user = world.user("sending_sender")
        granted = policy.require(user, draft_id, "attach")
        _send_meanwhile(app, world, draft_id)
        with pytest.raises(attachments.AttachmentRejected, match="only while"):
            attachments.remove(granted, user, attachment_id)
    with app.app_context():
        assert db.session.get(Attachment, attachment_id) is not None


def test_a_save_after_a_colleague_deleted_the_draft_says_it_was_deleted(app, world):
    draft_id = _saved_draft(app, world)
    with app.test_request_context():
        user = world.user("sending_sender")
        granted = policy.require(user, draft_id, "edit")
        with app.app_context():
            colleague = world.user("sending_sender")
            drafts.discard(colleague, policy.require(colleague, draft_id, "discard").handover)
        with pytest.raises(policy.DraftDiscarded):   # "already deleted", not a bare 404
            drafts.save(user, granted.handover, content(health_notes="typed too late"))
    with app.app_context():
        assert db.session.get(Handover, draft_id) is None
