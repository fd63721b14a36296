"""Nothing about the child is stored in the clear: the raw database (the SQLite file and its
write-ahead log as bytes; on PostgreSQL every row of every table cast to text, as a dump would
show it) is searched for a known child's name, identity code and a free-text marker."""

import io

import lifecycle_support
from lifecycle_support import (
    ADDRESS,
    CHILD_CODE,
    CHILD_NAME,
    FORM_KEY,
    FREE_TEXT_MARKER,
    access_for,
    content,
    login_as,
    send_handover,
)
from sqlalchemy import text

from handover.services import drafts, reading, replies
from handover.store.database import db
from tests.support import raw_database

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


SECRETS = (CHILD_NAME, CHILD_CODE, FREE_TEXT_MARKER, ADDRESS, "NOTE-MARKER-3c1", "REPLY-MARKER-9d2",
           "ATTACHMENT-MARKER-5e7", "secret-file-name-Ilmari")


def _fill_every_sealed_column(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "NOTE-MARKER-3c1")
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "REPLY-MARKER-9d2 " + CHILD_NAME)
        draft = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [], "lsl_disclosure")
        drafts.save(world.user("sending_sender"), draft, content())
        draft_id = draft.id
    login_as(client, app, world.users["sending_sender"])
    response = client.post(
        f"/handovers/{draft_id}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.4 ATTACHMENT-MARKER-5e7 " + CHILD_CODE.encode()),
                       "secret-file-name-Ilmari.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    client.post("/handovers/find", data={"identity_code": CHILD_CODE})  # searched, audited


def _assert_absent(raw):
    for secret in SECRETS:
        for form in (secret, secret.lower(), secret.encode("utf-8").hex()):
            assert form.encode("utf-8") not in raw, f"{secret!r} found in the database"


def test_raw_database_holds_no_child_data(app, client, world, database_backend):
    _fill_every_sealed_column(app, client, world)
    with app.app_context():
        raw = raw_database(database_backend)
        assert len(raw) > 1000
        _assert_absent(raw)


def test_the_search_itself_really_looks(app, client, world, database_backend):
    """The check above must be able to fail: a plain column with the name is found."""
    with app.app_context():
        db.session.execute(text("UPDATE units SET organisation = :name"), {"name": CHILD_NAME})
        db.session.commit()
        raw = raw_database(database_backend)
    assert CHILD_NAME.encode() in raw
