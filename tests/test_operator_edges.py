"""What an operator meets at the edges of the `handover` command, each in one clear line:

- `handover restore` with a key file whose KEK has the backup's id but other bytes changes
  nothing (an id alone proves nothing: after the restore no record would open);
- a command on a database that `handover db upgrade` has not migrated says to run it, instead
  of a traceback;
- every command's `--help` works before `handover init`, `db` too;
- `handover check` names accounts that are both administrator and auditor;
- a display time zone other than the one Handover counts days in is refused.
"""

import json
import os
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from handover import create_app
from handover.cli import cli, main
from handover.config import ConfigurationError
from handover.security import crypto, keys, totp
from handover.services.backup import KEYS_BACKUP, MANIFEST
from handover.store.database import db
from handover.store.models import Handover, User
from tests.support import create_unit, create_user, invoke, operator_environment, run_all

FORM = {"form_key": "example", "form_version": 1}
UPGRADE = "Run `handover db upgrade`."


# --- fixtures: a second instance with its own, empty database ------------------------------


@pytest.fixture
def target_folder(second_instance_path):
    """An instance folder as `handover init` makes it, with keys of its own (no database yet)."""
    folder = second_instance_path
    folder.mkdir(mode=0o700)
    (folder / "plugins").mkdir()
    keys.create_key_file(str(folder / "keys.json"))
    return folder


@pytest.fixture
def target(app_config, target_folder, empty_database_url):
    """The instance a backup is restored into: its own keys, an empty database."""
    application = create_app(dict(app_config, INSTANCE_PATH=str(target_folder),
                                  SQLALCHEMY_DATABASE_URI=empty_database_url))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def backup(app, tmp_path):
    """A backup of ``app`` holding one sealed handover and a user enrolled in two-factor."""
    with app.app_context():
        sender = create_unit("Lastenkoti Majakka")
        receiver = create_unit("Nuorisopsykiatrian osasto 4", kind="psychiatric_ward")
        nurse = create_user("omahoitaja@example.fi", memberships=[(receiver, "receiver")])
        sealed = Handover(status="sent", sender_unit_id=sender.id, receiver_unit_id=receiver.id,
                          created_by_id=nurse.id, **FORM)
        db.session.add(sealed)
        db.session.flush()
        sealed.content = crypto.seal_json(crypto.ensure_data_key(sealed),
                                          {"child_name": "Testi Lapsi"}, handover_id=sealed.id,
                                          purpose=crypto.Purpose.CONTENT, **FORM)
        db.session.commit()
    folder = tmp_path / "backup"
    result = invoke(app, "backup", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def _same_id_other_bytes(backup_folder):
    """The backup's keyring with every KEK's bytes replaced, under the same ids."""
    keyring = json.loads((backup_folder / KEYS_BACKUP).read_text())
    keyring["keks"] = {kek_id: keys.new_key_material() for kek_id in keyring["keks"]}
    return keyring


def _state(application):
    """What a refused restore must leave as it was: the instance folder and the tables."""
    with application.app_context():
        tables = db.inspect(db.engine).get_table_names()
        db.engine.dispose()
    folder = Path(application.instance_path)
    files = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    return files, tables


# --- 1. restore: the keys must open the backup, not just carry its KEK ids ------------------


@pytest.mark.parametrize("given", ["the instance's key file", "--keys FILE"])
def test_restore_with_same_kek_id_but_other_key_bytes_changes_nothing(
        backup, target, target_folder, tmp_path, given):
    impostor = _same_id_other_bytes(backup)
    [kek_id] = json.loads((backup / MANIFEST).read_text())["kek_ids"]
    assert kek_id in impostor["keks"]
    if given == "--keys FILE":
        arguments = ("--keys", str(tmp_path / "impostor-keys.json"))
        keys.write_key_file(arguments[1], impostor)
    else:
        arguments = ()
        keys.write_key_file(str(target_folder / "keys.json"), impostor)
    before = _state(target)

    refused = invoke(target, "restore", str(backup), *arguments)

    assert refused.exit_code == 1, refused.output
    [line] = refused.output.strip().splitlines()
    assert line.startswith("Error: ") and kek_id in line
    assert "other key bytes" in line and "Nothing was changed." in line
    assert _state(target) == before, "neither the database nor the key file changed"

    restored = invoke(target, "restore", str(backup), "--with-keys")
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        row = db.session.scalars(select(Handover)).one()
        assert crypto.open_json(crypto.handover_data_key(row), row.content, handover_id=row.id,
                                purpose=crypto.Purpose.CONTENT, **FORM) == {
            "child_name": "Testi Lapsi"}
        assert totp.secret_of(db.session.scalars(select(User)).one())


def test_restore_onto_the_same_keks_with_another_identity_code_key_changes_nothing(
        backup, target, target_folder):
    """With the KEKs in an HSM a fresh instance's key file holds little but the identity-code
    key: every KEK is found, and yet no child would be found by their code and the audit log
    would not verify. The manifest's fingerprint of that key tells."""
    other = json.loads((backup / KEYS_BACKUP).read_text())
    other["identity_hash_key"] = keys.new_key_material()
    keys.write_key_file(str(target_folder / "keys.json"), other)
    manifest_text = (backup / MANIFEST).read_text()
    assert json.loads((backup / KEYS_BACKUP).read_text())["identity_hash_key"] not in (
        manifest_text), "a fingerprint, never the key"
    before = _state(target)

    refused = invoke(target, "restore", str(backup))

    assert refused.exit_code == 1, refused.output
    assert "another identity-code key" in refused.output
    assert "Nothing was changed." in refused.output and "--with-keys" in refused.output
    assert _state(target) == before
    assert invoke(target, "restore", str(backup), "--with-keys").exit_code == 0
    assert invoke(target, "audit", "verify").exit_code == 0


def test_restore_of_a_backup_from_before_key_checks_tries_its_records(
        backup, target, target_folder, database_backend):
    """The manifest carries a check value per KEK, never a key. One written before check
    values existed is still read; a SQLite backup is then proved by opening one of its own
    records with the keys."""
    if database_backend != "sqlite":
        pytest.skip("a pg_dump cannot be read before it is restored")
    manifest_path = backup / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    keyring = json.loads((backup / KEYS_BACKUP).read_text())
    assert set(manifest["kek_checks"]) == set(manifest["kek_ids"])
    for material in [*keyring["keks"].values(), keyring["identity_hash_key"]]:
        assert material not in manifest_path.read_text(), "a check value, never a key"
    del manifest["kek_checks"]
    manifest_path.write_text(json.dumps(manifest))
    keys.write_key_file(str(target_folder / "keys.json"), _same_id_other_bytes(backup))
    before = _state(target)

    refused = invoke(target, "restore", str(backup))

    assert refused.exit_code == 1
    assert "other key bytes" in refused.output and "Nothing was changed." in refused.output
    assert _state(target) == before
    assert invoke(target, "restore", str(backup), "--with-keys").exit_code == 0


# --- the real `handover` command, as an operator's shell runs it ---------------------------



def _initialised_folder(folder, config=""):
    """An instance folder as `handover init` leaves it, before any migration."""
    folder.mkdir(mode=0o700)
    (folder / "plugins").mkdir()
    keys.create_key_file(str(folder / "keys.json"))
    (folder / "config.py").write_text(f"SECRET_KEY = {'s' * 40!r}\n{config}")
    os.chmod(folder / "config.py", 0o600)
    return folder


# --- 2. a database not yet migrated: one line that says to run `handover db upgrade` --------

READ_COMMANDS = (["users", "list"], ["units", "list"], ["audit", "verify"], ["keys", "check"])


def test_commands_on_a_database_not_yet_migrated_say_run_db_upgrade(second_instance_path,
                                                                     empty_database_url):
    instance = _initialised_folder(second_instance_path)
    environment = operator_environment(instance, HANDOVER_DATABASE_URL=empty_database_url)

    results = run_all([(command, environment) for command in READ_COMMANDS])

    for command, (returncode, stdout, stderr) in zip(READ_COMMANDS, results, strict=True):
        assert returncode != 0, command
        assert "Traceback" not in stderr, (command, stderr)
        assert stderr.strip().count("\n") == 0, (command, stderr)
        assert stderr.startswith("Error: The database schema is at no revision"), stderr
        assert stderr.strip().endswith(UPGRADE), (command, stderr)
        assert stdout == "", command


@pytest.mark.parametrize("command, shown", [
    (["users", "list"], "one line"), (["db", "upgrade"], "the fault itself"),
    (["init"], "the fault itself"), (["-e", "handover.env", "db", "upgrade"], "the fault itself")])
def test_a_failed_migration_shows_its_fault_not_run_db_upgrade(monkeypatch, capsys, command,
                                                               shown):
    """A revision failing half-way leaves the schema behind the code's: the one line said to
    run `handover db upgrade`, the very command that had just failed."""
    from sqlalchemy.exc import OperationalError

    import handover.cli as handover_cli

    def fails(*_args, **_kwargs):
        raise OperationalError("DROP TABLE users", {}, Exception("FOREIGN KEY constraint failed"))

    monkeypatch.setattr(handover_cli.cli, "main", fails)
    monkeypatch.setattr(handover_cli, "_database_problem",
                        lambda: "The database schema is at 0002. " + UPGRADE)
    monkeypatch.setattr(sys, "argv", ["handover", *command])
    if shown == "one line":
        with pytest.raises(SystemExit):
            main()
        assert capsys.readouterr().err.strip().endswith(UPGRADE)
    else:
        with pytest.raises(OperationalError, match="FOREIGN KEY constraint failed"):
            main()


# --- 3. --help before `handover init` ------------------------------------------------------


def _command_paths(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))


def test_every_help_works_before_init(tmp_path, monkeypatch, capsys):
    """`handover.cli.main` in this process, the function the console script runs: no
    database is touched, so one process can ask for every help in turn."""
    instance = tmp_path / "not-yet"
    for variable in [name for name in os.environ if name.startswith("HANDOVER_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    commands = click.Group(commands={
        **cli.commands, **create_app({"INITIALISING_INSTANCE": True}).cli.commands})
    paths = list(_command_paths(commands))
    assert ("db", "upgrade") in paths and ("users", "list") in paths and ("check",) in paths

    failed = []
    for path in paths:
        monkeypatch.setattr(sys, "argv", ["handover", *path, "--help"])
        try:
            main()
            code = 0
        except SystemExit as exited:
            code = exited.code
        out, err = capsys.readouterr()
        if code != 0 or f"Usage: handover {' '.join(path)}" not in out:
            failed.append((path, code, err.strip()))
    assert failed == []
    assert not instance.exists(), "asking for help created nothing"


def test_db_help_of_the_real_command_before_init(tmp_path):
    environment = operator_environment(tmp_path / "not-yet")
    (code, out, err), (sub_code, sub_out, _), (run_code, _, run_err) = run_all([
        (["db", "--help"], environment), (["db", "upgrade", "--help"], environment),
        (["db", "upgrade"], environment)])
    assert (code, sub_code) == (0, 0), err
    assert "Usage: handover db" in out and "upgrade" in out
    assert "Usage: handover db upgrade" in sub_out
    assert run_code == 2 and run_err.startswith("Error: No secret key"), run_err
    assert "Traceback" not in run_err
    assert not (tmp_path / "not-yet").exists()


# --- 4. check: accounts that are both administrator and auditor ----------------------------


def test_check_names_an_account_that_is_both_administrator_and_auditor(app):
    with app.app_context():
        create_user("paakayttaja@example.fi", admin=True)
        create_user("kaksoisrooli@example.fi", admin=True, auditor=True)

    result = invoke(app, "check")

    [line] = [line for line in result.output.splitlines() if "kaksoisrooli" in line]
    assert line.startswith("warning: kaksoisrooli@example.fi is both an administrator and an "
                           "auditor")
    assert "handover users set-roles kaksoisrooli@example.fi --admin" in line
    assert "paakayttaja" not in result.output

    kept = invoke(app, "users", "set-roles", "kaksoisrooli@example.fi", "--admin")
    assert kept.exit_code == 0, kept.output
    assert "kaksoisrooli" not in invoke(app, "check").output


# --- 5. one time zone for pages and for the rules that count days --------------------------


def test_another_display_time_zone_is_refused_in_one_line_and_an_error_in_check(tmp_path):
    instance = _initialised_folder(tmp_path / "instance",
                                   config="BABEL_DEFAULT_TIMEZONE = 'Europe/Stockholm'\n")
    with pytest.raises(ConfigurationError, match="BABEL_DEFAULT_TIMEZONE is 'UTC'"):
        create_app({"INSTANCE_PATH": str(instance), "BABEL_DEFAULT_TIMEZONE": "UTC"})

    environment = operator_environment(instance)

    (code, out, err), (check_code, check_out, check_err) = run_all([
        (["users", "list"], environment), (["check"], environment)])

    assert code == 2 and out == "" and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("Error: BABEL_DEFAULT_TIMEZONE is 'Europe/Stockholm'")
    assert "Europe/Helsinki" in line and "config.py" in line
    assert check_code == 1 and "Traceback" not in check_err
    [finding] = [found for found in check_out.splitlines() if "BABEL_DEFAULT_TIMEZONE" in found]
    assert finding == "error: " + line.removeprefix("Error: ")
