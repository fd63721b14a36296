"""Attachments: type by content not name, a size limit with a clear message, sealed storage,
download only by those who may read the handover, every download audited."""

import io

import lifecycle_support
import pytest
from lifecycle_support import (
    FORM_KEY,
    content,
    handover,
    login_as,
)
from sqlalchemy import func, select

from handover.services import drafts, sending
from handover.store.database import db
from handover.store.models import Attachment, AuditEvent

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


PDF = b"%PDF-1.7\n% a tiny test document with a MARKER-in-attachment\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def draft_id(app, world):
    with app.app_context():
        draft = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [world.unit("copy")], "lsl_disclosure")
        drafts.save(world.user("sending_sender"), draft, content())
        return draft.id


def _upload(client, draft_id, data, name):
    return client.post(f"/handovers/{draft_id}/attachments",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


@pytest.mark.parametrize("data,name,media_type", [
    (PDF, "report.pdf", "application/pdf"),
    (PNG, "photo.png", "image/png"),
    (JPEG, "photo.jpg", "image/jpeg"),
    (PDF, "misleading-name.png", "application/pdf"),
])
def test_type_is_decided_by_content(app, client, world, draft_id, data, name, media_type):
    login_as(client, app, world.users["sending_sender"])
    assert "File attached" in _upload(client, draft_id, data, name).get_data(as_text=True)
    with app.app_context():
        stored = db.session.execute(select(Attachment)).scalar_one()
        assert stored.media_type == media_type and stored.size == len(data)
        assert data not in stored.body and name.encode() not in stored.filename


@pytest.mark.parametrize("data,name", [
    (b"<html><script>alert(1)</script></html>", "report.pdf"),
    (b"MZ\x90\x00 executable", "photo.jpg"),
    (b"", "empty.pdf"),
])
def test_other_content_is_refused_whatever_its_name(app, client, world, draft_id, data, name):
    login_as(client, app, world.users["sending_sender"])
    page = _upload(client, draft_id, data, name).get_data(as_text=True)
    assert "PDF, JPEG and PNG" in page or "empty" in page or "Choose a file" in page
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Attachment)).scalar() == 0


def test_too_large_file_gets_a_clear_error(app, client, world, draft_id):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024 * 1024
    login_as(client, app, world.users["sending_sender"])
    page = _upload(client, draft_id, PDF + b"0" * (1024 * 1024), "big.pdf").get_data(
        as_text=True)
    assert "too large" in page and "1 MB" in page
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Attachment)).scalar() == 0


def test_download_only_by_readers_and_audited(app, client, world, draft_id):
    login_as(client, app, world.users["sending_sender"])
    _upload(client, draft_id, PDF, "report.pdf")
    with app.app_context():
        sending.send(world.user("sending_sender"), handover(draft_id), "attach-token")
        attachment_id = db.session.execute(select(Attachment.id)).scalar_one()
    url = f"/handovers/{draft_id}/attachments/{attachment_id}"
    expected = {"receiving_receiver": 200, "sending_sender": 200, "copy_receiver": 404,
                "other_receiver": 404, "admin": 404, "auditor": 404}
    for user_name, status in expected.items():
        reader = app.test_client()
        login_as(reader, app, world.users[user_name])
        response = reader.get(url)
        assert response.status_code == status, user_name
        if status == 200:
            assert response.data == PDF
            assert response.headers["Content-Type"] == "application/pdf"
            assert "attachment" in response.headers["Content-Disposition"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    with app.app_context():
        assert db.session.execute(select(func.count()).where(
            AuditEvent.action == "handover.attachment_downloaded")).scalar() == 2


def test_attachment_of_another_handover_is_not_found(app, client, world, draft_id):
    login_as(client, app, world.users["sending_sender"])
    _upload(client, draft_id, PDF, "report.pdf")
    with app.app_context():
        other = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [], "lsl_disclosure")
        attachment_id = db.session.execute(select(Attachment.id)).scalar_one()
        other_id = other.id
    assert client.get(f"/handovers/{other_id}/attachments/{attachment_id}").status_code == 404


def test_the_handover_page_lists_files_without_reading_their_contents(
        app, client, world, draft_id):
    """A 10 MB scan must not be read into memory each time someone opens the handover: the
    page lists the file by name, and only the download reads its content."""
    from sqlalchemy import event

    login_as(client, app, world.users["sending_sender"])
    _upload(client, draft_id, PDF, "report.pdf")
    with app.app_context():
        sending.send(world.user("sending_sender"), handover(draft_id), "list-token")
        engine = db.engine
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    reader = app.test_client()
    login_as(reader, app, world.users["receiving_receiver"])
    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = reader.get(f"/handovers/{draft_id}").get_data(as_text=True)
        attachment_id = int(page.split(f"/handovers/{draft_id}/attachments/")[1].split('"')[0])
        listed = [s for s in statements if "attachments.body" in s]
        assert "report.pdf" in page and listed == []
        assert reader.get(f"/handovers/{draft_id}/attachments/{attachment_id}").data == PDF
        assert any("attachments.body" in s for s in statements)
    finally:
        event.remove(engine, "before_cursor_execute", remember)


@pytest.mark.parametrize("name, shown", [
    ("\u202egpj.pdf", "gpj.pdf"),          # read as "fdp.jpg" with the override
    ("lausunto\u2066\u202e.exe\u2069.pdf", "lausunto.exe.pdf"),
    ("a\x00b\x1b.pdf", "ab.pdf"),
])
def test_a_file_name_keeps_only_the_characters_it_shows(app, client, world, draft_id, name,
                                                         shown):
    """A right-to-left override in a name reversed what followed it on the page, so a PDF
    could be listed as "fdp.jpg"; control characters were stored and shown raw."""
    login_as(client, app, world.users["sending_sender"])
    page = _upload(client, draft_id, PDF, name).get_data(as_text=True)
    assert "File attached" in page
    assert shown in page and "\u202e" not in page and "\x00" not in page
