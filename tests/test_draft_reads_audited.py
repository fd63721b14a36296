"""A sender who opens a draft in the editor or the preview reads client data, and the auditor
finds that read in the log like any other: one event per page, naming the handover and the
sender, and never the content."""

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, CHILD_NAME, FORM_KEY, FREE_TEXT_MARKER, content, login_as
from sqlalchemy import select

from handover.services import drafts
from handover.store.database import db
from handover.store.models import AuditEvent

app_config = lifecycle_support.app_config
world = lifecycle_support.world


@pytest.fixture
def draft_id(app, world):
    """A filled draft of the sending unit, not yet sent."""
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [world.unit("copy")], "lsl_disclosure")
        drafts.save(sender, draft, content())
        return draft.id


def _events_after(app, last_id):
    """(action, handover id, actor id, detail) of every event written after ``last_id``."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(AuditEvent.action, AuditEvent.handover_id, AuditEvent.actor_id,
                   AuditEvent.detail).where(AuditEvent.id > last_id).order_by(AuditEvent.id))]


def _last_event_id(app):
    with app.app_context():
        return db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc())
                                  .limit(1)).scalar() or 0


@pytest.mark.parametrize("page", ["edit", "preview"])
def test_sender_opening_a_draft_is_audited_once_without_content(app, client, world, draft_id,
                                                                  page):
    sender = world.users["sending_sender"]
    login_as(client, app, sender)
    before = _last_event_id(app)
    response = client.get(f"/handovers/{draft_id}/{page}")
    assert response.status_code == 200
    assert CHILD_NAME in response.get_data(as_text=True)
    events = _events_after(app, before)
    assert [(action, handover, actor) for action, handover, actor, _ in events] == [
        ("handover.draft_viewed", draft_id, sender.id)]
    detail = events[0][3]
    assert page in detail
    assert not any(secret in detail for secret in (CHILD_NAME, CHILD_CODE, FREE_TEXT_MARKER))


def test_failed_preview_keeps_what_was_typed_and_logs_the_read_and_the_save(
        app, client, world, draft_id):
    sender = world.users["sending_sender"]
    login_as(client, app, sender)
    before = _last_event_id(app)
    typed = content(child_name="", health_notes="typed just now")
    response = client.post(f"/handovers/{draft_id}/edit", data={**typed, "preview": "1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "typed just now" in page and CHILD_CODE in page
    assert [(action, handover, actor) for action, handover, actor, _ in
            _events_after(app, before)] == [
        ("handover.draft_viewed", draft_id, sender.id),
        ("handover.draft_saved", draft_id, sender.id)]


def test_auditor_finds_each_draft_read_in_the_log(app, client, world, draft_id):
    sender = world.users["sending_sender"]
    login_as(client, app, sender)
    client.get(f"/handovers/{draft_id}/edit")
    client.get(f"/handovers/{draft_id}/preview")
    auditor = app.test_client()
    login_as(auditor, app, world.users["auditor"])
    page = auditor.get(f"/audit/?handover={draft_id}&action=handover.draft_viewed").get_data(
        as_text=True)
    rows = page.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    assert rows.count("<tr") == 2 and rows.count("Draft opened") == 2
    assert rows.count(sender.name) == 2 and rows.count("Sending unit") == 2
    assert CHILD_NAME not in page


def test_someone_else_opening_the_draft_reads_nothing_and_is_logged_as_refused(
        app, client, world, draft_id):
    login_as(client, app, world.users["receiving_receiver"])
    before = _last_event_id(app)
    assert client.get(f"/handovers/{draft_id}/edit").status_code == 404
    assert [action for action, *_ in _events_after(app, before)] == [
        "handover.access_denied"]
