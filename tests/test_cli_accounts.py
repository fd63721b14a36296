"""`handover users ...` and `handover units ...`: an operator sets up an instance from the shell.
Every bad input ends in one `Error:` line and a non-zero exit, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import handover
from handover.cli import cli
from handover.security.passwords import verify_password
from handover.store.database import db
from handover.store.models import AuditEvent, Unit, User
from tests.support import create_unit, run_command

GOOD_PASSWORD = "kolme vihreää omenaa pöydällä"
HANDOVER = Path(sys.executable).with_name("handover")


@pytest.fixture
def app_config(app_config):
    """Operators here read English messages (HANDOVER_CLI_LANGUAGE=en); the default is Finnish."""
    return {**app_config, "CLI_LANGUAGE": "en"}


def assert_one_line_error(result):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1, result.output


def test_operator_creates_unit_and_lists_it(app, runner):
    result = run_command(runner, "units", "create", "--name", "Päiväkoti Satakieli", "--kind",
                    "daycare", "--organisation", "Kivikylän kaupunki")
    assert result.exit_code == 0, result.output
    result = run_command(runner, "units", "list")
    assert result.exit_code == 0
    assert "Päiväkoti Satakieli\tdaycare\tKivikylän kaupunki\tactive\tmembers: 0" in result.output
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="admin.unit_created").count() == 1


def test_kind_registered_by_a_plugin_is_accepted(app, runner, monkeypatch):
    from handover.plugins import manager as plugin_manager

    monkeypatch.setattr(plugin_manager, "unit_kinds", lambda app=None: {
        "daycare": "Daycare", "health_service": "Health service"})
    result = run_command(runner, "units", "create", "--name", "Neuvola", "--kind", "health_service")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(Unit).one().kind == "health_service"


@pytest.mark.parametrize("args, complaint", [
    (["--name", "Koulu Kivikko", "--kind", "prison"], "unknown kind"),
    (["--name", "Existing", "--kind", "school"], "already exists"),
    (["--name", "   ", "--kind", "school"], "name"),
    (["--kind", "school"], "--name"),
])
def test_bad_unit_input_is_one_line_error(app, runner, args, complaint):
    with app.app_context():
        create_unit("Existing", "school")
    result = run_command(runner, "units", "create", *args)
    assert_one_line_error(result)
    assert complaint in result.output
    with app.app_context():
        assert db.session.query(Unit).count() == 1


def test_operator_creates_user_with_memberships_and_password_from_stdin(app, runner):
    with app.app_context():
        create_unit("Majakka", "child_welfare_institution")
        create_unit("Osasto 3", "psychiatric_ward")
    result = run_command(runner, "users", "create", "--email", " Kaisa.Koskinen@Example.FI ",
                    "--name", "Kaisa Koskinen", "--unit", "Majakka", "--role", "sender",
                    "--unit", "Osasto 3", "--role", "receiver", "--password-stdin",
                    input=GOOD_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert GOOD_PASSWORD not in result.output
    with app.app_context():
        user = db.session.query(User).one()
        assert user.email == "kaisa.koskinen@example.fi"
        assert verify_password(user.password_hash, GOOD_PASSWORD)
        assert not user.must_change_password and not user.is_admin
        assert sorted((m.unit.name, m.role) for m in user.memberships) == [
            ("Majakka", "sender"), ("Osasto 3", "receiver")]
    listed = run_command(runner, "users", "list").output
    assert "kaisa.koskinen@example.fi\tKaisa Koskinen\t-\tMajakka (sender), Osasto 3 (receiver)" \
        in listed


def test_first_admin_without_password_gets_temporary_one(app, runner):
    result = run_command(runner, "users", "create", "--email", "admin@example.fi", "--name",
                    "Ylläpitäjä", "--admin")
    assert result.exit_code == 0, result.output
    temporary = result.output.split("first login): ")[1].split()[0]
    with app.app_context():
        user = db.session.query(User).one()
        assert user.is_admin and not user.is_auditor and user.must_change_password
        assert verify_password(user.password_hash, temporary)
    assert "admin" in run_command(runner, "users", "list").output


@pytest.mark.parametrize("args, stdin, complaint", [
    (["--email", "taken@example.fi"], GOOD_PASSWORD, "already exists"),
    (["--email", "TAKEN@example.fi"], GOOD_PASSWORD, "already exists"),
    (["--email", "not-an-address"], GOOD_PASSWORD, "e-mail"),
    (["--email", "new@example.fi"], "short", "12"),
    (["--email", "new@example.fi"], "", "no password"),
    (["--email", "new@example.fi", "--unit", "Nowhere", "--role", "sender"], GOOD_PASSWORD,
     "no unit named"),
    (["--email", "new@example.fi", "--unit", "Majakka"], GOOD_PASSWORD, "--role"),
    (["--email", "new@example.fi", "--unit", "Majakka", "--role", "boss"], GOOD_PASSWORD,
     "boss"),
])
def test_bad_user_input_is_one_line_error(app, runner, args, stdin, complaint):
    with app.app_context():
        create_unit("Majakka")
    run_command(runner, "users", "create", "--email", "taken@example.fi", "--name", "Taken",
           "--password-stdin", input=GOOD_PASSWORD + "\n")
    result = run_command(runner, "users", "create", "--name", "Uusi Käyttäjä", *args,
                    "--password-stdin", input=stdin + "\n")
    assert_one_line_error(result)
    assert complaint in result.output
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_deactivate_ends_the_users_sessions(app, runner):
    run_command(runner, "users", "create", "--email", "leaver@example.fi", "--name", "Leaver",
           "--password-stdin", input=GOOD_PASSWORD + "\n")
    result = run_command(runner, "users", "deactivate", "Leaver@Example.fi")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(User).one().active is False
    assert "inactive" in run_command(runner, "users", "list").output


def test_deactivating_unknown_user_is_one_line_error(app, runner):
    result = run_command(runner, "users", "deactivate", "nobody@example.fi")
    assert_one_line_error(result)
    assert "nobody@example.fi" in result.output


def test_real_console_script_on_a_fresh_instance(tmp_path):
    """The installed `handover` command, as an operator runs it after `handover init`."""
    environment = {**os.environ, "HANDOVER_INSTANCE_PATH": str(tmp_path / "instance"),
                   "PYTHONPATH": str(Path(handover.__file__).resolve().parents[1])}
    for variable in ("HANDOVER_DATABASE_URL", "HANDOVER_SECRET_KEY", "HANDOVER_KEYS"):
        environment.pop(variable, None)

    def run(*args, stdin=""):
        return subprocess.run([str(HANDOVER), *args], input=stdin, capture_output=True,
                              text=True, env=environment, timeout=120, check=False)

    assert run("init").returncode == 0
    assert run("units", "create", "--name", "Koulu Kivikko", "--kind", "school").returncode == 0
    created = run("users", "create", "--email", "rehtori@example.fi", "--name", "Rehtori",
                  "--unit", "Koulu Kivikko", "--role", "receiver", "--password-stdin",
                  stdin=GOOD_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "Koulu Kivikko (receiver)" in run("users", "list").stdout
    assert "Koulu Kivikko\tschool" in run("units", "list").stdout

    failed = run("units", "create", "--name", "Vankila", "--kind", "prison")
    assert failed.returncode != 0
    assert "Traceback" not in failed.stderr
    assert failed.stderr.startswith("Error: --kind: unknown kind 'prison'")
    assert failed.stderr.strip().count("\n") == 0
    unknown = run("users", "deactivate", "nobody@example.fi")
    assert unknown.returncode != 0
    assert unknown.stderr.strip() == "Error: No user with the e-mail address 'nobody@example.fi'."


def test_cli_speaks_finnish_unless_told_otherwise(app_config, database_backend):
    from handover import create_app

    finnish_app = create_app({**app_config, "CLI_LANGUAGE": None})
    try:
        with finnish_app.app_context():
            db.create_all()
        runner = finnish_app.test_cli_runner()
        arguments = ["units", "create", "--name", "Yksikkö", "--kind", "school"]
        assert runner.invoke(cli, args=arguments).exit_code == 0
        result = runner.invoke(cli, args=arguments)
        assert result.exit_code != 0
        assert "A unit with this name already exists." in result.output
    finally:
        with finnish_app.app_context():
            db.session.remove()
            db.engine.dispose()
