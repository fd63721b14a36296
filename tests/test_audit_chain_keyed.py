"""The audit chain is keyed: someone who can write to the database but does not hold the
instance's keys cannot add an event that `handover audit verify` accepts, and an operator who
noted a head earlier (`--expect ID:HASH`) finds the newest events deleted. A log written
before the key still verifies, a backup restored with its keys too."""

import base64
import hashlib
import hmac
import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import insert, select

from handover.security import keys
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent
from tests import test_backup
from tests.support import invoke, run_command, unstamp
from tests.test_audit_chain import guard_dropped, raw, record_events

empty_instance = test_backup.empty_instance
EVENTS = AuditEvent.__table__


def plain_sha256(event):
    """The row hash as it was computed before the key, from public fields only: what anyone
    who read the code (or docs/api.md) could compute."""
    fields = [event["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds"),
              str(event["actor_id"] or ""), event["actor_label"], str(event["unit_id"] or ""),
              event["action"], str(event["handover_id"] or ""), event["outcome"],
              event["client_address"], event["detail"], event["previous_hash"]]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def an_event(previous_hash, **fields):
    """An event's fields chained onto ``previous_hash``, without its own hash yet."""
    return {"occurred_at": datetime.now(UTC), "actor_id": None,
            "actor_label": "principal@example.fi", "unit_id": None, "action": "handover.viewed",
            "handover_id": 7, "outcome": "ok", "client_address": "10.0.0.9", "detail": "",
            "previous_hash": previous_hash, **fields}


def insert_directly(event):
    """INSERT with the database's own rights, as someone who bypasses the application does (the
    append-only triggers refuse UPDATE and DELETE only); returns the new row's id."""
    with db.engine.begin() as connection:
        return connection.execute(insert(EVENTS).values(**event)).inserted_primary_key[0]


def forge_onto_head(row_hash_of):
    """Chain a forged "principal viewed handover 7" onto the newest event, its hash made by
    ``row_hash_of(fields)``; returns its id."""
    _head_id, head_hash = audit.chain_head()
    event = an_event(head_hash)
    event["row_hash"] = row_hash_of(event)
    return insert_directly(event)


def noted_head(result):
    """``ID:HASH`` as `handover audit verify` offers it for noting."""
    for line in result.output.splitlines():
        if line.startswith("Check later with: handover audit verify --expect "):
            return line.rsplit(" ", 1)[1]
    raise AssertionError(f"no head offered for noting in {result.output!r}")


def test_new_events_are_keyed_with_a_key_outside_the_database(app):
    with app.app_context():
        ids = record_events(2)
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.id.in_(ids))).scalars()
        for row in rows:
            assert row.row_hash.startswith("h2:") and len(row.row_hash) <= 64
            assert row.row_hash != plain_sha256(vars(row))
        # The key is the keyring's, not the database's: another instance's keys give others.
        other = json.loads(json.dumps(keys.load_keyring(app)))
        other["identity_hash_key"] = keys.new_key_material()
        assert keys.audit_chain_key(other) != keys.current_audit_chain_key()
        assert keys.current_audit_chain_key() not in (
            keys.current_identity_hash_key(), *[keys.decode(material) for material in
                                                keys.load_keyring(app)["keks"].values()])


def test_a_forged_insert_with_a_correct_plain_hash_is_reported(app, runner):
    """The reviewer's attack: an event nobody did, chained onto the last row_hash with the
    SHA-256 computed as the code computed it. Verify used to answer "Audit chain OK"."""
    with app.app_context():
        record_events(3)
        forged_id = forge_onto_head(plain_sha256)
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Audit chain broken at event {forged_id}: ")
    assert "forged" in result.output and "Audit chain OK" not in result.output


def test_a_forged_insert_with_a_guessed_keyed_hash_is_reported(app, runner):
    """Copying the keyed format does not help without the key."""
    with app.app_context():
        record_events(2)
        wrong_key = keys.decode(keys.new_key_material())
        forged_id = forge_onto_head(lambda event: audit.event_hash(
            type("Event", (), event), wrong_key))
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Audit chain broken at event {forged_id}: ")
    assert "without this instance's keys" in result.output


def test_deleting_the_newest_events_is_reported_against_a_noted_head(app, runner):
    with app.app_context():
        ids = record_events(4)
    first = run_command(runner, "audit", "verify")
    assert first.exit_code == 0, first.output
    head = noted_head(first)
    assert head.startswith(f"{ids[-1]}:h2:")
    with app.app_context(), guard_dropped():
        raw("DELETE FROM audit_events WHERE id >= :id", id=ids[2])
    # The shorter chain holds together; only the noted head shows what is missing.
    assert run_command(runner, "audit", "verify").exit_code == 0
    result = run_command(runner, "audit", "verify", "--expect", head)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Audit chain broken at event {ids[-1]}: ")
    assert f"the log ends at event {ids[1]}" in result.output and "deleted" in result.output


def test_a_noted_head_of_a_log_since_emptied_is_reported(app, runner):
    with app.app_context():
        record_events(2)
    head = noted_head(run_command(runner, "audit", "verify"))
    with app.app_context(), guard_dropped():
        raw("DELETE FROM audit_events")
    result = run_command(runner, "audit", "verify", "--expect", head)
    assert result.exit_code == 1, result.output
    assert "the log is empty (every event was deleted)" in result.output


def test_a_noted_head_with_another_hash_is_reported(app, runner):
    with app.app_context():
        ids = record_events(2)
        _head_id, head_hash = audit.chain_head()
    result = run_command(runner, "audit", "verify", "--expect", f"{ids[0]}:{head_hash}")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Audit chain broken at event {ids[0]}: ")
    assert "rewritten" in result.output


def test_a_noted_head_still_there_verifies(app, runner):
    with app.app_context():
        record_events(2)
    head = noted_head(run_command(runner, "audit", "verify"))
    with app.app_context():
        record_events(2)
    result = run_command(runner, "audit", "verify", "--expect", head)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Audit chain OK (4 events)"


@pytest.mark.parametrize("value", ["12", "x:h2:abc", "12:"])
def test_a_noted_head_that_is_no_id_and_hash_is_refused(app, runner, value):
    result = run_command(runner, "audit", "verify", "--expect", value)
    assert result.exit_code == 2
    assert "is not ID:HASH" in result.output


def test_a_log_rewritten_from_its_start_with_plain_hashes_is_reported(app, runner):
    """The second reviewer's attack, with database rights only: drop the guard, delete the
    reads to hide, and rewrite every remaining row with a plain SHA-256 chained from the
    start. An instance whose key file was made with the keyed chain accepts no plain hash."""
    with app.app_context():
        ids = record_events(4)
        assert keys.audit_keyed_from_start()
        rows = [dict(row._mapping) for row in db.session.execute(
            select(EVENTS).order_by(EVENTS.c.id))]
        db.session.rollback()
        with guard_dropped():
            raw("DELETE FROM audit_events WHERE id = :id", id=ids[1])
            previous = audit.GENESIS
            for row in rows:
                if row["id"] == ids[1]:
                    continue
                row["previous_hash"] = previous
                previous = plain_sha256(row)
                raw("UPDATE audit_events SET previous_hash = :previous, row_hash = :hash "
                    "WHERE id = :id", previous=row["previous_hash"], hash=previous, id=row["id"])
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Audit chain broken at event {ids[0]}: ")
    assert "rewritten" in result.output and "Audit chain OK" not in result.output


def test_a_new_key_file_marks_the_log_keyed_from_its_start(tmp_path):
    keyring = keys.create_key_file(str(tmp_path / "keys.json"))
    assert keyring[keys.AUDIT_KEYED_FROM_START] is True
    assert json.loads((tmp_path / "keys.json").read_text())[keys.AUDIT_KEYED_FROM_START] is True


def key_file_from_before_the_keyed_chain(app):
    """The app's key file as an instance made before the chain was keyed has it: no mark."""
    keyring = keys.load_keyring(app)
    del keyring[keys.AUDIT_KEYED_FROM_START]
    keys.write_key_file(app.config["KEYS_FILE"], keyring)
    assert not keys.audit_keyed_from_start(app)


def test_a_log_from_before_the_key_still_verifies_and_continues_keyed(app, runner):
    """An instance upgraded with events already logged: its plain SHA-256 rows verify, new
    events chain onto them keyed, and from then on an unkeyed row is refused."""
    with app.app_context():
        key_file_from_before_the_keyed_chain(app)
        previous = audit.GENESIS
        for number in range(3):
            event = an_event(previous, action="handover.opened", detail=f'{{"n": {number}}}')
            event["row_hash"] = previous = plain_sha256(event)
            insert_directly(event)
    old = run_command(runner, "audit", "verify")
    assert old.exit_code == 0, old.output
    assert old.output.splitlines()[0] == "Audit chain OK (3 events)"
    with app.app_context():
        new_id = record_events(1)[0]
        new = db.session.get(AuditEvent, new_id)
        assert new.previous_hash == previous and new.row_hash.startswith("h2:")
    assert run_command(runner, "audit", "verify").exit_code == 0
    with app.app_context():
        forged_id = forge_onto_head(plain_sha256)
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit chain broken at event {forged_id}: ")


def test_the_keys_from_the_environment_key_the_same_chain(app, runner):
    """Keys in ``HANDOVER_KEYS`` (a secret store) instead of the key file: same keyring, same
    audit key, without any step of the operator's."""
    with app.app_context():
        record_events(2)
        app.config["KEYS_JSON"] = json.dumps(keys.load_keyring(app))
        assert db.session.get(AuditEvent, record_events(1)[0]).row_hash.startswith("h2:")
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 0, result.output


def test_the_chain_verifies_after_a_restore_with_the_backups_keys(app, empty_instance, tmp_path):
    with app.app_context():
        stamp()
    try:
        with app.app_context():
            record_events(3)
        first = invoke(app, "audit", "verify")
        assert first.exit_code == 0, first.output
        destination = tmp_path / "backup"
        backup = invoke(app, "backup", str(destination))
        assert backup.exit_code == 0, backup.output
        restore = invoke(empty_instance, "restore", str(destination), "--with-keys")
        assert restore.exit_code == 0, restore.output
        restored = invoke(empty_instance, "audit", "verify", "--expect", noted_head(first))
        assert restored.exit_code == 0, restored.output
        with empty_instance.app_context():
            record_events(1)   # and the restored instance appends keyed events onto it
        assert invoke(empty_instance, "audit", "verify").exit_code == 0
    finally:
        with app.app_context():
            unstamp()


def test_the_benchmarks_bulk_load_continues_the_chain(app):
    """bench/run.py loads a large instance's audit trail straight into the table; the measured
    requests then append to it, so it must verify as a real one does."""
    path = Path(__file__).parent.parent / "bench" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_run", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with app.app_context():
        record_events(1)
        rows = [{"sent_at": datetime.now(UTC)} for _ in range(3)]
        bench.bulk_audit_events([1, 2, 3], rows, None, None, {"previous": None})
        db.session.commit()
        record_events(1)
        assert audit.verify_chain() == (True, None, None)
        hashes = db.session.scalars(select(AuditEvent.row_hash).order_by(AuditEvent.id)).all()
        assert len(hashes) == 5 and all(row_hash.startswith("h2:") for row_hash in hashes)


def test_comparing_a_keyed_hash_needs_the_key():
    """The keyed hash is HMAC-SHA256 under the key, in base64url after "h2:" (46 characters,
    within the column's 64)."""
    event = type("Event", (), an_event(audit.GENESIS))
    key = b"k" * 32
    expected = hmac.digest(key, "\x1f".join([
        event.occurred_at.isoformat(timespec="microseconds"), "", "principal@example.fi", "",
        "handover.viewed", "7", "ok", "10.0.0.9", "", audit.GENESIS]).encode(), "sha256")
    assert audit.event_hash(event, key) == (
        "h2:" + base64.urlsafe_b64encode(expected).rstrip(b"=").decode())
    assert len(audit.event_hash(event, key)) == 46
