"""Fixes from an operator's review of tampered records and the tools that find them.

2. A sealed column edited to hold TEXT (what an attacker naturally writes with `sqlite3`), even
   text that is not UTF-8, fails its integrity check like a changed byte: the lists mark the
   row, the page of a handover whose content it is answers 409 and `handover keys check` names
   it and goes on, never a 500, a 503 or a traceback. PostgreSQL's ``bytea`` cannot hold text:
   those cases run on SQLite only.
6. `handover audit verify` reports an event whose timestamp was edited into something that is
   no timestamp as an edited row, instead of crashing.
8. `handover keys rotate` counts data keys and two-factor secrets apart, the same way before
   and after.
"""

import re

import lifecycle_support
import pytest
from lifecycle_support import login_as, send_handover
from sqlalchemy import select, text

from handover.security import crypto, key_backends
from handover.store.database import db
from handover.store.models import AuditEvent, Handover
from tests.support import run_command
from tests.test_audit_chain import guard_dropped, raw, record_events

app_config = lifecycle_support.app_config
world = lifecycle_support.world

INTEGRITY_MARK = "Failed its integrity check"
BINDING = {"handover_id": 1, "form_key": "psychiatric_ward", "form_version": 2,
           "purpose": crypto.Purpose.SUMMARY}

#: The edits of the review, as an attacker types them into `sqlite3` (SQLite only).
TEXT_SUMMARY = "UPDATE handovers SET summary = 'plain text summary' WHERE id = :id"
TEXT_CONTENT = "UPDATE handovers SET content = 'x' WHERE id = :id"
#: `||` makes TEXT of the blob's bytes, and a NUL or 0xff in the middle is not UTF-8 the
#: driver can decode (a sealed blob almost never is).
NOT_UTF8_SUMMARY = ("UPDATE handovers SET summary = "
                    "substr(summary, 1, 40) || X'ff' || substr(summary, 42) WHERE id = :id")
NOT_UTF8_CONTENT = ("UPDATE handovers SET content = "
                    "substr(content, 1, 40) || X'00' || substr(content, 42) WHERE id = :id")


@pytest.fixture
def sqlite_only(database_backend):
    if database_backend != "sqlite":
        pytest.skip("PostgreSQL's bytea and timestamptz columns cannot hold text: the edit "
                    "these tests make is SQLite's alone")


def _edit(statement, handover_id):
    db.session.execute(text(statement), {"id": handover_id})
    db.session.commit()


def _stored_type(column, handover_id):
    return db.session.execute(text(f"SELECT typeof({column}) FROM handovers WHERE id = :id"),
                              {"id": handover_id}).scalar_one()


def _integrity_events(handover_id):
    return db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "handover.integrity_failed",
        AuditEvent.handover_id == handover_id)).all()


# --- 2. a sealed value that is not bytes --------------------------------------------------

@pytest.mark.parametrize("stored", ["plain text summary", "x", ""])
def test_text_in_place_of_a_sealed_value_is_tampered_not_a_type_error(stored):
    data_key = crypto.new_data_key()
    with pytest.raises(key_backends.DoesNotOpen):
        key_backends.split_blob(stored)
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_sealed(data_key, stored, **BINDING)
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_json(data_key, stored, **BINDING)


def test_a_sealed_value_handed_over_as_a_memoryview_still_opens():
    data_key = crypto.new_data_key()
    blob = crypto.seal_json(data_key, {"name": "Ilmari"}, **BINDING)
    assert crypto.open_json(data_key, memoryview(blob), **BINDING) == {"name": "Ilmari"}
    assert crypto.open_json(data_key, bytearray(blob), **BINDING) == {"name": "Ilmari"}


def test_a_wrapped_key_of_text_is_tampered(app):
    with app.app_context():
        kek_id, wrapped = crypto.wrap_data_key(crypto.new_data_key(), 5)
        assert len(crypto.unwrap_data_key(kek_id, wrapped, 5)) == crypto.DATA_KEY_BYTES
        with pytest.raises(crypto.TamperedRecord):
            crypto.unwrap_data_key(kek_id, "plain text key", 5)


@pytest.mark.usefixtures("sqlite_only")
def test_text_in_a_sealed_column_fails_its_integrity_check_on_every_page(app, client, world):
    with app.app_context():
        ids = [send_handover(world) for _ in range(5)]
        text_summary, text_content, undecodable_summary, undecodable_content, intact = ids
        for statement, handover_id in ((TEXT_SUMMARY, text_summary),
                                       (TEXT_CONTENT, text_content),
                                       (NOT_UTF8_SUMMARY, undecodable_summary),
                                       (NOT_UTF8_CONTENT, undecodable_content)):
            _edit(statement, handover_id)
        assert {_stored_type(column, handover_id) for column, handover_id in (
            ("summary", text_summary), ("content", text_content),
            ("summary", undecodable_summary), ("content", undecodable_content))} == {"text"}
    for user, listing in (("receiving_receiver", "/handovers/inbox"),
                          ("sending_sender", "/handovers/outbox")):
        login_as(client, app, world.users[user])
        for url in ("/", listing):
            response = client.get(url)
            assert response.status_code == 200, (user, url)
            # Every edited row is marked, as a changed byte is (a row's urgency is read from
            # its content); the intact one is listed as before.
            page = response.get_data(as_text=True)
            assert page.count(INTEGRITY_MARK) == 4, (user, url)
    login_as(client, app, world.users["receiving_receiver"])
    for handover_id in (text_content, undecodable_content):
        response = client.get(f"/handovers/{handover_id}")
        assert response.status_code == 409, handover_id
        assert "failed its integrity check" in response.get_data(as_text=True)
    # The page of a handover does not show its summary: an edited summary alone leaves it
    # readable, exactly as a changed byte in the summary does.
    for handover_id in (text_summary, undecodable_summary, intact):
        assert client.get(f"/handovers/{handover_id}").status_code == 200, handover_id
    with app.app_context():
        for handover_id in ids[:4]:
            assert _integrity_events(handover_id), handover_id
        assert not _integrity_events(intact)


@pytest.mark.usefixtures("sqlite_only")
def test_keys_check_names_every_row_holding_text_and_goes_on(
        app, runner, world):
    with app.app_context():
        ids = [send_handover(world) for _ in range(5)]
        _edit(TEXT_SUMMARY, ids[0])
        _edit(TEXT_CONTENT, ids[1])
        _edit(NOT_UTF8_SUMMARY, ids[2])
        _edit(NOT_UTF8_CONTENT, ids[3])
        assert _stored_type("content", ids[3]) == "text"
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert f"Handover {ids[0]}: cannot open summary" in lines
    assert f"Handover {ids[1]}: cannot open content" in lines
    assert f"Handover {ids[2]}: cannot open summary" in lines
    assert f"Handover {ids[3]}: cannot open content" in lines
    assert not any(line.startswith(f"Handover {ids[4]}:") for line in lines)
    assert "Checked 5 handovers; 4 failed." in lines


def test_keys_check_reports_a_row_it_cannot_bind_and_goes_on(app, runner, world):
    """A row edited so that its values bind to nothing (an empty form key) used to end the
    check with a traceback at that row; now it is one more line, on either database."""
    with app.app_context():
        ids = [send_handover(world) for _ in range(3)]
        db.session.execute(text("UPDATE handovers SET form_key = '' WHERE id = :id"),
                           {"id": ids[0]})
        db.session.commit()
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert f"Handover {ids[0]}: cannot open content, summary" in lines
    assert "Checked 3 handovers; 1 failed." in lines


def test_a_changed_byte_is_still_reported_the_same_way(app, client, runner, world):
    """The reference the text cases are held to, on both databases."""
    with app.app_context():
        changed_summary, changed_content = send_handover(world), send_handover(world)
        for handover_id, column in ((changed_summary, "summary"), (changed_content, "content")):
            stored = db.session.get(Handover, handover_id)
            blob = bytearray(getattr(stored, column))
            blob[-3] ^= 0x01
            setattr(stored, column, bytes(blob))
        db.session.commit()
    login_as(client, app, world.users["receiving_receiver"])
    home = client.get("/")
    assert home.status_code == 200 and home.get_data(as_text=True).count(INTEGRITY_MARK) == 2
    assert client.get(f"/handovers/{changed_content}").status_code == 409
    assert client.get(f"/handovers/{changed_summary}").status_code == 200  # shows no summary
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"Handover {changed_summary}: cannot open summary" in lines
    assert f"Handover {changed_content}: cannot open content" in lines


def test_sealed_columns_are_read_as_they_are_on_postgresql_and_as_blobs_on_sqlite(app):
    """Reading raw bytes costs SQLite a cast of a blob to a blob (no work) and PostgreSQL
    nothing: the statement a page sends is the same one, with no extra query."""
    with app.app_context():
        statement = str(select(Handover.id, Handover.summary).compile(db.engine))
        on_sqlite = db.engine.dialect.name == "sqlite"
    if on_sqlite:
        assert "CAST(handovers.summary AS BLOB)" in statement
    else:
        assert "CAST" not in statement and "handovers.summary" in statement


# --- 6. an audit event whose timestamp is no timestamp ------------------------------------

@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize("stored", ["garbage", "2024-13-45 99:99:99.000000", "5", ""])
def test_audit_verify_reports_an_event_whose_time_is_no_timestamp(
        app, runner, stored):
    with app.app_context():
        ids = record_events(4)
        with guard_dropped():
            raw("UPDATE audit_events SET occurred_at = :stored WHERE id = :id",
                stored=stored, id=ids[2])
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.splitlines() == [
        f"Audit chain broken at event {ids[2]}: the event's content does not match its hash "
        "(the row was edited)"]


def test_audit_verify_still_reports_an_edited_time_that_is_a_timestamp(app, runner):
    with app.app_context():
        ids = record_events(3)
        with guard_dropped():
            raw("UPDATE audit_events SET occurred_at = (SELECT occurred_at FROM audit_events "
                "WHERE id = :earlier) WHERE id = :id", earlier=ids[0], id=ids[1])
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit chain broken at event {ids[1]}: ")
    assert "edited" in result.output


# --- 8. what a rotation counts ------------------------------------------------------------

def _figures(line):
    return [int(number) for number in re.findall(r"\d+(?= (?:data keys|two-factor))", line)]


def test_rotate_counts_data_keys_and_two_factor_secrets_apart(app, runner, world):
    with app.app_context():
        handovers = [send_handover(world) for _ in range(2)]
        enrolled = db.session.scalar(text(
            "SELECT count(*) FROM users WHERE totp_secret IS NOT NULL"))
    assert enrolled and len(handovers) != enrolled
    result = run_command(runner, "keys", "rotate")
    assert result.exit_code == 0, result.output
    started = next(line for line in result.output.splitlines() if line.startswith("Added "))
    finished = next(line for line in result.output.splitlines()
                    if line.startswith("Re-wrapped "))
    assert started.endswith(f"; 2 data keys and {enrolled} two-factor secrets to re-wrap.")
    assert finished.startswith(f"Re-wrapped 2 data keys and {enrolled} two-factor secrets "
                               "with ")
    assert _figures(started) == _figures(finished) == [2, enrolled]


def test_a_resumed_rotation_counts_them_apart_too(app, runner, world, monkeypatch):
    from handover.services import key_maintenance

    with app.app_context():
        for _ in range(3):
            send_handover(world)
        enrolled = db.session.scalar(text(
            "SELECT count(*) FROM users WHERE totp_secret IS NOT NULL"))
    monkeypatch.setattr(key_maintenance, "_after_batch",
                        lambda number: (_ for _ in ()).throw(RuntimeError("power cut")))
    run_command(runner, "keys", "rotate", "--batch-size", "2")
    monkeypatch.undo()
    resumed = run_command(runner, "keys", "rotate", "--batch-size", "2")
    assert resumed.exit_code == 0, resumed.output
    assert (f": 1 data key and {enrolled} two-factor secrets left to re-wrap."
            in resumed.output)
    assert f"Re-wrapped 1 data key and {enrolled} two-factor secrets with " in resumed.output
