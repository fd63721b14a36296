"""`handover backup` and `handover restore`: an operator backs up an instance holding sealed
handovers, restores it into an empty instance elsewhere, and every handover opens there."""

import json
import os
import secrets
import stat
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from handover.security import crypto, keys
from handover.services.backup import DATABASE_FILES, KEYS_BACKUP, MANIFEST
from handover.store.database import db
from handover.store.models import Handover, Reply
from tests.support import create_unit, create_user, invoke, unstamp

FORM = {"form_key": "example", "form_version": 1}


def _seal_handover(sender, receiver, author, content, reply_text, status):
    handover = Handover(status=status, sender_unit_id=sender.id, receiver_unit_id=receiver.id,
                        created_by_id=author.id, **FORM)
    db.session.add(handover)
    db.session.flush()
    data_key = crypto.ensure_data_key(handover)
    handover.content = crypto.seal_json(data_key, content, handover_id=handover.id,
                                        purpose=crypto.Purpose.CONTENT, **FORM)
    reply = Reply(handover_id=handover.id, author_id=author.id, unit_id=receiver.id)
    db.session.add(reply)
    db.session.flush()
    reply.body = crypto.seal(data_key, reply_text.encode(), handover_id=handover.id,
                             purpose=crypto.Purpose.REPLY, record_id=reply.id, **FORM)
    return handover.id


@pytest.fixture
def sealed_handovers(app):
    """Three sealed handovers with a reply each, at the latest schema revision; what they say."""
    with app.app_context():
        stamp()
        sender = create_unit("Lastenkoti Majakka")
        receiver = create_unit("Nuorisopsykiatrian osasto 4", kind="psychiatric_ward")
        nurse = create_user("omahoitaja@example.fi", memberships=[(receiver, "receiver")])
        expected = {}
        for number, status in enumerate(["sent", "opened", "acknowledged"]):
            content = {"child_name": f"Testi Lapsi {number}", "marker": secrets.token_hex(8)}
            reply_text = f"Vastaanotettu {number}"
            handover_id = _seal_handover(sender, receiver, nurse, content, reply_text, status)
            expected[handover_id] = (content, reply_text)
        db.session.commit()
    yield expected
    with app.app_context():
        unstamp()


@pytest.fixture
def empty_instance(second_instance_path, app_config, empty_database_url):
    """A new instance as `handover init` leaves it: its own (different) keys, no handovers."""
    from handover import create_app

    path = second_instance_path
    path.mkdir()
    keys.create_key_file(str(path / "keys.json"))
    (path / "plugins").mkdir()
    config = dict(app_config, INSTANCE_PATH=str(path),
                  SQLALCHEMY_DATABASE_URI=empty_database_url)
    application = create_app(config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def read_every_handover(app):
    """Open every handover's content and reply with the instance's keys."""
    found = {}
    with app.app_context():
        for handover in db.session.scalars(db.select(Handover)):
            data_key = crypto.handover_data_key(handover)
            content = crypto.open_json(data_key, handover.content, handover_id=handover.id,
                                       purpose=crypto.Purpose.CONTENT, **FORM)
            reply = handover.replies[0]
            reply_text = crypto.open_sealed(
                data_key, reply.body, handover_id=handover.id, purpose=crypto.Purpose.REPLY,
                record_id=reply.id, **FORM).decode()
            found[handover.id] = (content, reply_text)
    return found


@pytest.mark.parametrize("schema", ["fresh database", "migrated empty database"])
def test_restore_into_empty_instance_reads_every_handover(app, sealed_handovers, empty_instance,
                                                          tmp_path, database_backend, schema):
    destination = tmp_path / "backup"
    result = invoke(app, "backup", str(destination))
    assert result.exit_code == 0, result.output
    assert "Backed up 3 handover(s)" in result.output
    assert "different place" in result.output
    if schema == "migrated empty database":
        with empty_instance.app_context():
            db.create_all()

    result = invoke(empty_instance, "restore", str(destination), "--with-keys")

    assert result.exit_code == 0, result.output
    # The database replaced is named (never its password), should the shell have been the
    # live instance's.
    target = make_url(empty_instance.config["SQLALCHEMY_DATABASE_URI"])
    assert result.output.startswith(
        f"Restored 3 handover(s) into {target.render_as_string(hide_password=True)} ")
    assert target.password is None or target.password not in result.output
    assert read_every_handover(empty_instance) == sealed_handovers
    key_file = empty_instance.config["KEYS_FILE"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    replaced = [name for name in os.listdir(os.path.dirname(key_file))
                if name.startswith("keys.json.replaced-")]
    assert len(replaced) == 1, "the empty instance's own keys are kept, never destroyed"


def test_backup_keeps_keys_apart_and_describes_itself(app, sealed_handovers, tmp_path,
                                                     database_backend):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0

    manifest = json.loads((destination / MANIFEST).read_text())
    assert manifest["database"] == database_backend
    assert manifest["database_file"] == DATABASE_FILES[database_backend]
    assert manifest["handovers"] == {
        "total": 3, "by_status": {"sent": 1, "opened": 1, "acknowledged": 1}}
    with app.app_context():
        keyring = keys.load_keyring()
        assert manifest["schema_revision"] == db.session.execute(
            text("SELECT version_num FROM alembic_version")).scalar()
    assert manifest["kek_ids"] == [keyring["active_kek"]]
    assert json.loads((destination / KEYS_BACKUP).read_text()) == keyring
    for name in os.listdir(destination):
        assert stat.S_IMODE(os.stat(destination / name).st_mode) == 0o600, name
    dump = (destination / manifest["database_file"]).read_bytes()
    for material in [*keyring["keks"].values(), keyring["identity_hash_key"]]:
        assert material.encode() not in dump and keys.decode(material) not in dump
    for content, reply_text in sealed_handovers.values():
        assert content["marker"].encode() not in dump
        assert reply_text.encode() not in dump


def test_backup_never_overwrites_an_earlier_backup(app, sealed_handovers, tmp_path):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    result = invoke(app, "backup", str(destination))
    assert result.exit_code == 1
    assert "already holds a backup" in result.output


def test_restore_refuses_a_database_with_data_unless_forced(app, sealed_handovers, tmp_path):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    with app.app_context():
        db.session.execute(db.delete(Reply))
        db.session.commit()

    refused = invoke(app, "restore", str(destination))
    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--force" in refused.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Reply.id))) == 0

    forced = invoke(app, "restore", str(destination), "--force")
    assert forced.exit_code == 0, forced.output
    assert read_every_handover(app) == sealed_handovers


def test_keys_stored_elsewhere_restore_with_keys_option(app, sealed_handovers, empty_instance,
                                                        tmp_path):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    vault = tmp_path / "vault"
    vault.mkdir()
    (destination / KEYS_BACKUP).rename(vault / "keys-2026.json")

    assert invoke(empty_instance, "restore", str(destination), "--with-keys").exit_code == 1
    result = invoke(empty_instance, "restore", str(destination),
                    "--keys", str(vault / "keys-2026.json"))
    assert result.exit_code == 0, result.output
    assert read_every_handover(empty_instance) == sealed_handovers


def test_restore_without_the_backups_keys_is_refused_before_anything_changes(
        app, sealed_handovers, empty_instance, tmp_path):
    """A restore onto keys that do not hold the backup's would leave every record unreadable
    (and nobody able to log in): it is refused, and nothing changes."""
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    key_file = Path(empty_instance.config["KEYS_FILE"])
    keys_before = key_file.read_text()
    result = invoke(empty_instance, "restore", str(destination))
    assert result.exit_code == 1
    assert "does not hold" in result.output and "Nothing was changed" in result.output
    assert key_file.read_text() == keys_before
    with empty_instance.app_context():
        assert "handovers" not in db.inspect(db.engine).get_table_names()


def test_damaged_backup_is_refused_before_anything_changes(app, sealed_handovers,
                                                           empty_instance, tmp_path):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    manifest = json.loads((destination / MANIFEST).read_text())
    database_file = destination / manifest["database_file"]
    damaged = bytearray(database_file.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    database_file.write_bytes(bytes(damaged))
    key_file = empty_instance.config["KEYS_FILE"]
    before = Path(key_file).read_text()

    result = invoke(empty_instance, "restore", str(destination), "--with-keys")

    assert result.exit_code == 1
    assert "damaged" in result.output
    assert Path(key_file).read_text() == before


def test_backup_of_another_database_kind_is_refused(app, sealed_handovers, empty_instance,
                                                    tmp_path, database_backend):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    manifest_path = destination / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["database"] = "postgresql" if database_backend == "sqlite" else "sqlite"
    manifest_path.write_text(json.dumps(manifest))
    result = invoke(empty_instance, "restore", str(destination))
    assert result.exit_code == 1
    assert f"this instance uses {database_backend}" in result.output


def test_invalid_key_backup_is_refused(app, sealed_handovers, empty_instance, tmp_path):
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    bad = tmp_path / "bad-keys.json"
    bad.write_text(json.dumps({"active_kek": "k", "keks": {"k": "c2hvcnQ="},
                               "identity_hash_key": "c2hvcnQ="}))
    result = invoke(empty_instance, "restore", str(destination), "--keys", str(bad))
    assert result.exit_code == 1
    assert "32 bytes" in result.output


def test_a_backup_restores_over_a_newer_schema_whose_tables_need_its_keys(
        app, sealed_handovers, tmp_path):
    """An older backup restored into an instance at a newer schema (`handover init` of the
    next release, or the rollback of an upgrade): a table the later migration added, whose
    foreign key needs the users' key, used to stop pg_restore's own clean-up with a raw error.
    The restore replaces every table in one transaction; `handover db upgrade` then brings the
    schema forward again."""
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    with app.app_context():
        db.session.execute(text("CREATE TABLE later_marks (user_id INTEGER NOT NULL "
                                "REFERENCES users (id) ON DELETE CASCADE, seen INTEGER)"))
        db.session.execute(text("INSERT INTO later_marks SELECT id, 1 FROM users"))
        db.session.commit()
    try:
        restored = invoke(app, "restore", str(destination), "--force")
        assert restored.exit_code == 0, restored.output
        assert read_every_handover(app) == sealed_handovers
        with app.app_context():
            assert "later_marks" not in db.inspect(db.engine).get_table_names()
    finally:   # the next test's tables are dropped by name: this one must not hold them
        with app.app_context():
            db.session.execute(text("DROP TABLE IF EXISTS later_marks"))
            db.session.commit()


def test_a_restore_that_fails_changes_nothing(app, sealed_handovers, tmp_path,
                                              database_backend):
    if database_backend != "postgresql":
        pytest.skip("SQLite's restore copies the file whole: there is no half-way")
    destination = tmp_path / "backup"
    assert invoke(app, "backup", str(destination)).exit_code == 0
    manifest = json.loads((destination / MANIFEST).read_text())
    dump = destination / manifest["database_file"]
    damaged = dump.read_bytes()
    dump.write_bytes(damaged[:len(damaged) // 2])       # cut short, as on a full disk
    manifest["database_sha256"] = __import__("hashlib").sha256(dump.read_bytes()).hexdigest()
    (destination / MANIFEST).write_text(json.dumps(manifest))
    refused = invoke(app, "restore", str(destination), "--force")
    assert refused.exit_code == 1 and "failed" in refused.output
    assert read_every_handover(app) == sealed_handovers
