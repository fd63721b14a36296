"""What an operator meets at the shell: commands that could quietly harm an instance refuse in
one clear line, and nothing that goes wrong ends in a traceback.

- `handover demo` never seeds published logins beside real data or on a production instance,
  and `handover check` names every demo account that can still sign in;
- `handover restore` with keys that cannot open the backup changes nothing;
- `handover worker --threads 0` does not start;
- a damaged key file, an instance not yet made, and a broken plugin are each one line.
"""

import hashlib
import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_migrate import stamp
from sqlalchemy import select

from handover import create_app
from handover.cli import worker
from handover.cli.demo import DEMO_PASSWORD
from handover.cli.ops import find_problems
from handover.security import crypto, keys, totp
from handover.services import deliveries
from handover.services.backup import KEYS_BACKUP, MANIFEST
from handover.store.database import db
from handover.store.models import Delivery, Handover, User
from handover.store.models.base import utcnow
from tests.support import (
    HANDOVER,
    create_unit,
    create_user,
    invoke,
    operator_environment,
    run_all,
)

TEST_PLUGINS = Path(__file__).parent / "plugins"
DEMO_ADMIN = "admin@demo.handover.example"
FORM = {"form_key": "example", "form_version": 1}


def emails(app):
    with app.app_context():
        return set(db.session.scalars(select(User.email)))


# --- `handover demo` and `handover check` ------------------------------------------------


def test_demo_refuses_an_instance_with_units_and_users_of_its_own(app):
    with app.app_context():
        create_unit("Koulu Kivikko", kind="school")
        create_user("paakayttaja@example.fi", admin=True)
    before = emails(app)

    result = invoke(app, "demo")

    assert result.exit_code != 0
    assert "Not seeding demo data" in result.output
    assert "1 unit and 1 user that the demo did not make" in result.output
    assert "Koulu Kivikko" in result.output and "paakayttaja@example.fi" in result.output
    assert "--force" in result.output
    assert "Traceback" not in result.output
    assert emails(app) == before, "not one demo account was added"


def test_demo_refuses_when_https_is_on(app_config, request):
    app_config["HTTPS"] = True
    app = request.getfixturevalue("app")

    result = invoke(app, "demo")

    assert result.exit_code != 0
    assert "HTTPS is on" in result.output and "--force" in result.output
    assert emails(app) == set()


def test_demo_runs_again_on_a_demo_instance_and_force_seeds_anywhere(app):
    """scripts/start runs `handover demo` on every start: a unit a tester added while trying
    the demo must not stop it. Once the demo's administrator is switched off, the instance is
    no longer taken for a demo one, unless the operator insists."""
    assert invoke(app, "demo").exit_code == 0
    with app.app_context():
        create_unit("Testiyksikkö", kind="school")
    again = invoke(app, "demo")
    assert again.exit_code == 0, again.output
    assert "user exists: " + DEMO_ADMIN in again.output

    with app.app_context():
        create_user("paakayttaja@example.fi", admin=True)
    deactivated = invoke(app, "users", "deactivate", DEMO_ADMIN)
    assert deactivated.exit_code == 0, deactivated.output
    refused = invoke(app, "demo")
    assert refused.exit_code != 0
    assert "Testiyksikkö, paakayttaja@example.fi" in refused.output
    forced = invoke(app, "demo", "--force")
    assert forced.exit_code == 0, forced.output


def _demo_findings(app):
    return [finding for finding in find_problems(app) if "demo account" in finding.message]


def test_check_reports_demo_accounts_as_an_error_in_production(app):
    with app.app_context():
        create_user(DEMO_ADMIN, admin=True, password=DEMO_PASSWORD, enrolled=False)
        create_user("omahoitaja@demo.handover.example", password=DEMO_PASSWORD, enrolled=False)
        create_user("rehtori@demo.handover.example", password=DEMO_PASSWORD, enrolled=False)
        db.session.execute(db.update(User).where(User.email == "rehtori@demo.handover.example")
                           .values(active=False))
        db.session.commit()

    [finding] = _demo_findings(app)
    assert finding.level == "warning"
    assert "2 demo account(s) can sign in" in finding.message
    assert DEMO_ADMIN in finding.message and "rehtori" not in finding.message
    assert "handover users deactivate" in finding.message

    app.config["HTTPS"] = True
    result = invoke(app, "check")
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if "demo account" in line]
    assert line.startswith("error: 2 demo account(s) can sign in")


def test_check_says_nothing_of_demo_accounts_when_there_are_none(app):
    with app.app_context():
        create_user("paakayttaja@example.fi", admin=True)
    assert _demo_findings(app) == []


# --- `handover restore` with keys that do not open the backup -----------------------------


def _sqlite_instance(folder, *, with_data):
    """An instance as `handover init` leaves it, with its own keys; with one sealed handover
    and one user enrolled in two-factor when ``with_data``."""
    folder.mkdir()
    (folder / "plugins").mkdir()
    keys.create_key_file(str(folder / "keys.json"))
    app = create_app({"TESTING": True, "SECRET_KEY": "s" * 40, "INSTANCE_PATH": str(folder),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'handover.sqlite3'}"})
    with app.app_context():
        db.create_all()
        stamp()
        if with_data:
            sender = create_unit("Lastenkoti Majakka")
            receiver = create_unit("Nuorisopsykiatrian osasto 4", kind="psychiatric_ward")
            nurse = create_user("omahoitaja@example.fi", memberships=[(receiver, "receiver")])
            handover_row = Handover(status="sent", sender_unit_id=sender.id,
                                    receiver_unit_id=receiver.id, created_by_id=nurse.id, **FORM)
            db.session.add(handover_row)
            db.session.flush()
            data_key = crypto.ensure_data_key(handover_row)
            handover_row.content = crypto.seal_json(
                data_key, {"child_name": "Testi Lapsi"}, handover_id=handover_row.id,
                purpose=crypto.Purpose.CONTENT, **FORM)
            db.session.commit()
    return app


@pytest.fixture
def instances(tmp_path):
    """A backed-up instance with data, and a new, empty one with keys of its own."""
    source = _sqlite_instance(tmp_path / "source", with_data=True)
    backup = tmp_path / "backup"
    result = invoke(source, "backup", str(backup))
    assert result.exit_code == 0, result.output
    target = _sqlite_instance(tmp_path / "target", with_data=False)
    yield source, backup, target
    for app in (source, target):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _fingerprint(app):
    """The database file's and the key file's bytes, as hashes."""
    paths = (app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
             app.config["KEYS_FILE"])
    return [hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in paths]


def test_restore_with_the_wrong_keys_changes_nothing_and_the_right_ones_work(instances,
                                                                             tmp_path):
    source, backup, target = instances
    manifest = json.loads((backup / MANIFEST).read_text())
    with source.app_context():
        source_kek = keys.active_kek_id()
    assert manifest["kek_ids"] == [source_kek]
    other_keys = tmp_path / "other-keys.json"
    keys.create_key_file(str(other_keys))
    before = _fingerprint(target)
    files_before = sorted(os.listdir(target.instance_path))

    for arguments in ((), ("--keys", str(other_keys))):
        refused = invoke(target, "restore", str(backup), *arguments)
        assert refused.exit_code == 1, refused.output
        assert f"does not hold {source_kek}" in refused.output
        assert "Nothing was changed" in refused.output
        assert "Traceback" not in refused.output
        assert _fingerprint(target) == before
        assert sorted(os.listdir(target.instance_path)) == files_before

    restored = invoke(target, "restore", str(backup), "--with-keys")
    assert restored.exit_code == 0, restored.output
    assert "Restored 1 handover(s)" in restored.output
    with target.app_context():
        handover_row = db.session.scalars(select(Handover)).one()
        content = crypto.open_json(crypto.handover_data_key(handover_row), handover_row.content,
                                   handover_id=handover_row.id, purpose=crypto.Purpose.CONTENT,
                                   **FORM)
        assert content == {"child_name": "Testi Lapsi"}
        user = db.session.scalars(select(User)).one()
        assert totp.secret_of(user)


def test_a_backup_of_users_alone_still_needs_its_keys(tmp_path):
    """Two-factor secrets are sealed under the KEK too: restoring them without it would lock
    every user out, handovers or none."""
    source = _sqlite_instance(tmp_path / "source", with_data=False)
    with source.app_context():
        create_user("paakayttaja@example.fi", admin=True)
        source_kek = keys.active_kek_id()
    backup = tmp_path / "backup"
    assert invoke(source, "backup", str(backup)).exit_code == 0
    assert json.loads((backup / MANIFEST).read_text())["kek_ids"] == [source_kek]
    target = _sqlite_instance(tmp_path / "target", with_data=False)
    before = _fingerprint(target)

    refused = invoke(target, "restore", str(backup))

    assert refused.exit_code == 1
    assert f"does not hold {source_kek}" in refused.output
    assert _fingerprint(target) == before
    assert invoke(target, "restore", str(backup), "--keys",
                  str(backup / KEYS_BACKUP)).exit_code == 0
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


# --- `handover worker` ---------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_worker_without_threads_does_not_start(app, threads, monkeypatch):
    def started(_app):
        raise AssertionError("the worker started")  # and would wait for ever on its queue

    monkeypatch.setattr(worker, "background", SimpleNamespace(jobs_of=started))

    result = invoke(app, "worker", "--threads", threads)

    assert result.exit_code == 2
    assert "--threads" in result.output and "x>=1" in result.output
    with app.app_context():
        assert deliveries.last_heartbeat() is None, "a worker that delivers nothing hid itself"


# --- `handover check`: the worker that never started --------------------------------------


def test_check_names_a_worker_that_never_reported_in_plain_words(app):
    with app.app_context():
        db.session.add(Delivery(channel="email", event="arrived", recipient="a@example.fi",
                                dedupe_key="waiting", occurred_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()

    result = invoke(app, "check")

    [line] = [line for line in result.output.splitlines() if "reported" in line]
    assert line.startswith("warning: The `handover worker` has never reported: ")
    assert "No `handover worker`" not in result.output


# --- the real `handover` command: one line, never a traceback -----------------------------



def test_a_key_file_that_is_not_json_is_one_line_for_every_key_command(tmp_path):
    instance = tmp_path / "instance"
    environment = operator_environment(instance)
    done = subprocess.run([str(HANDOVER), "init"], env=environment, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    (instance / "keys.json").write_text('{"active_kek": ')
    commands = (["keys", "check"], ["keys", "rotate"], ["keys", "retire", "k-old"],
                ["backup", str(tmp_path / "backup")])

    results = run_all([(command, environment) for command in commands])

    for command, (returncode, stdout, stderr) in zip(commands, results, strict=True):
        assert returncode != 0, command
        assert "Traceback" not in stderr, (command, stderr)
        assert stderr.strip() == (f"Error: The key file is not valid JSON. Restore "
                                  f"{instance / 'keys.json'} from the key backup."), command
    assert not (tmp_path / "backup").exists()


def test_help_and_commands_before_init_say_what_to_do(tmp_path):
    instance = tmp_path / "instance"
    without_secret = operator_environment(instance)
    with_secret = operator_environment(instance, HANDOVER_SECRET_KEY="s" * 40)

    (help_code, help_out, help_err), *refused = run_all([
        (["--help"], without_secret),
        (["users", "list"], without_secret),
        (["users", "list"], with_secret),
        (["worker"], with_secret),
    ])

    assert help_code == 0
    assert "Commands:" in help_out and "init " in help_out and "db " in help_out
    assert "Traceback" not in help_err
    assert "Run `handover init`" in help_err
    for returncode, stdout, stderr in refused:
        assert returncode != 0
        assert "Traceback" not in stderr
        assert stderr.startswith("Error: ") and "Run `handover init`" in stderr
        assert stderr.strip().count("\n") == 0, stderr
    assert not instance.exists(), "nothing was created by asking"


def test_plugins_check_names_a_broken_plugin_in_one_line(tmp_path):
    [(returncode, stdout, stderr)] = run_all([
        (["plugins", "check", str(TEST_PLUGINS / "broken_import.py")],
         operator_environment(tmp_path / "no-instance"))])

    assert returncode == 1
    assert stdout.strip() == (f"{TEST_PLUGINS / 'broken_import.py'}: could not be imported: "
                              "RuntimeError: this plugin is broken at import")
    assert "Traceback" not in stderr and "disabled" not in stderr, stderr
