"""A newcomer runs `scripts/start` on a port of their choosing, gets a login hint naming that
address and a code command that works on plain Debian, and sees notifications on the console
when there is no SMTP server."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from handover.cli import cli, demo
from handover.services import notifications
from handover.store.models import Delivery

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_clone(tmp_path):
    """A copy of scripts/start in a tree whose install step and `handover` only record what
    they were asked, so the script's own choices can be seen without installing anything."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPOSITORY / "scripts" / "start", tmp_path / "scripts" / "start")
    (tmp_path / "scripts" / "install").write_text("#!/bin/sh\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "handover").write_text(
        '#!/bin/sh\necho "handover $* BASE_URL=$HANDOVER_BASE_URL" >> "$0.log"\n')
    for script in ("scripts/start", "scripts/install", ".venv/bin/handover"):
        os.chmod(tmp_path / script, 0o755)
    return tmp_path


def start(clone, *arguments, port=None):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PORT", "HANDOVER_BASE_URL", "HANDOVER_INSTANCE_PATH")}
    if port is not None:
        environment["PORT"] = port
    done = subprocess.run([str(clone / "scripts" / "start"), *arguments], env=environment,
                          capture_output=True, text=True, timeout=30, check=False)
    log = clone / ".venv" / "bin" / "handover.log"
    return done, (log.read_text() if log.exists() else "")


@pytest.mark.parametrize("arguments, port, expected", [
    ((), None, "5000"),
    ((), "8123", "8123"),
    (("--port", "8124"), None, "8124"),
    (("--port=8125",), "8123", "8125"),
])
def test_start_serves_and_points_the_demo_at_the_chosen_port(fake_clone, arguments, port,
                                                             expected):
    done, calls = start(fake_clone, *arguments, port=port)
    assert done.returncode == 0, done.stderr
    assert f"Serving on http://127.0.0.1:{expected} " in done.stdout
    assert f"handover run --host 127.0.0.1 --port {expected} " in calls
    assert f"handover demo BASE_URL=http://127.0.0.1:{expected}\n" in calls


def test_start_refuses_a_port_that_is_not_a_number(fake_clone):
    done, calls = start(fake_clone, "--port", "http")
    assert done.returncode == 2
    assert "must be a number" in done.stderr
    assert calls == ""


def test_demo_login_hint_names_the_configured_address(app_config, request):
    app_config["BASE_URL"] = "http://127.0.0.1:8123"
    app = request.getfixturevalue("app")
    result = app.test_cli_runner().invoke(cli, ["demo"])
    assert "open http://127.0.0.1:8123/login" in result.output
    assert "demo-code EMAIL" in result.output


def test_demo_code_prints_the_current_code_of_a_demo_user(runner):
    email, *_rest, secret = demo.USERS[0]
    result = runner.invoke(cli, ["demo-code", email])
    assert result.exit_code == 0, result.output
    assert pyotp.TOTP(secret).verify(result.output.strip(), valid_window=1)


def test_demo_code_refuses_any_other_account(runner):
    result = runner.invoke(cli, ["demo-code", "anna@example.fi"])
    assert result.exit_code != 0
    assert "not a demo account" in result.output


def test_without_smtp_an_operator_sees_the_notification_on_the_console(app_config, tmp_path):
    """Python's default logging drops INFO; the notice must reach a console nobody set up."""
    app_config.pop("TESTING")
    app_config.pop("ARGON2_PROFILE")   # the suite's cheap hashing starts no server
    app_config["BASE_URL"] = "http://127.0.0.1:5000"
    program = (
        "import json, sys\n"
        "from handover import create_app\n"
        "from handover.services import notifications as n\n"
        "from handover.store.models import Delivery\n"
        "app = create_app(json.loads(sys.argv[1]))\n"
        "n.no_longer_due = lambda row: None  # the console is tested, not the handover\n"
        "with app.app_context():\n"
        "    n.send_email(Delivery(channel='email', event='arrived', handover_id=3, unit_id=7,\n"
        "                          recipient='ward@example.fi'))\n"
    )
    done = subprocess.run([sys.executable, "-c", program, json.dumps(app_config)],
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=REPOSITORY)
    assert done.returncode == 0, done.stderr
    assert "notification to 7 not e-mailed (HANDOVER_SMTP_HOST is not set): A new handover " \
           "is waiting http://127.0.0.1:5000/handovers/3" in done.stderr


def test_the_console_notice_is_a_warning(app, caplog, monkeypatch):
    monkeypatch.setattr(notifications, "no_longer_due", lambda row: None)   # no handover here
    with app.app_context():
        notifications.send_email(Delivery(channel="email", event="overdue", handover_id=3,
                                          unit_id=7, recipient="ward@example.fi"))
    [record] = [r for r in caplog.records if "notification to 7" in r.getMessage()]
    assert record.levelname == "WARNING"
