"""Answers taken over into a draft that a colleague (or the sender in another tab) sent
meanwhile: refused, and the sent handover still opens for its receiver. Before, the take-over
sealed the sent content again as a draft, and the receiver got the integrity-failure page."""

import secrets

import lifecycle_support
import pytest
from lifecycle_support import FORM_KEY, access_for, send_handover
from sqlalchemy import select

from handover.services import LifecycleError, drafts, prefill, reading, sending
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _draft(app, world, **content):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, lifecycle_support.content(**content))
        return draft.id


def _sent_by_colleague(app, world, draft_id):
    """Another request sends the draft while the first one holds its page's access."""
    with app.app_context():
        sending.send(world.user("sending_sender"), db.session.get(Handover, draft_id),
                     secrets.token_urlsafe(16))


def _receiver_reads(app, world, draft_id):
    with app.app_context():
        return reading.content_for_reader(access_for(world, "receiving_receiver", draft_id))


def test_taking_over_answers_into_a_draft_sent_meanwhile_is_refused(app, world):
    with app.app_context():
        source_id = send_handover(world)
    draft_id = _draft(app, world, health_notes="")
    with app.app_context():
        granted = access_for(world, "sending_sender", draft_id, "edit")
        _sent_by_colleague(app, world, draft_id)
        with pytest.raises(LifecycleError):
            prefill.take_over(granted, world.user("sending_sender"),
                              db.session.get(Handover, source_id), "whole")
    with app.app_context():
        sent = db.session.get(Handover, draft_id)
        assert sent.status == "sent" and sent.prefilled_from_id is None
    assert _receiver_reads(app, world, draft_id)


def test_confirming_taken_over_answers_of_a_draft_sent_meanwhile_is_refused(app, world):
    with app.app_context():
        source_id = send_handover(world)
    draft_id = _draft(app, world, health_notes="")
    with app.app_context():
        granted = access_for(world, "sending_sender", draft_id, "edit")
        prefill.take_over(granted, world.user("sending_sender"),
                          db.session.get(Handover, source_id), "whole")
    with app.app_context():
        granted = access_for(world, "sending_sender", draft_id, "edit")
        waiting = prefill.awaiting(granted.handover)
        with app.app_context():    # a colleague confirms every section and sends meanwhile
            for key in waiting:
                prefill.confirm(access_for(world, "sending_sender", draft_id, "edit"),
                                world.user("sending_sender"), key)
            _sent_by_colleague(app, world, draft_id)
        with pytest.raises(LifecycleError):
            prefill.confirm(granted, world.user("sending_sender"), waiting[0])
    with app.app_context():
        confirmed = db.session.scalars(select(AuditEvent.id).where(
            AuditEvent.handover_id == draft_id,
            AuditEvent.action == "handover.prefill_confirmed")).all()
        assert len(confirmed) == len(waiting)    # the colleague's, none after the send
