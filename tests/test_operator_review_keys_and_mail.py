"""What an operator following README.md found, fixed: the SMTP password never crosses the network
unencrypted (STARTTLS and implicit TLS from the environment, `handover check` reports it), and a
missing key file stops start-up and every command with `handover check`'s advice (restore it from
the key backup) instead of a 500 at the first login."""

import logging
import os
import smtplib
import subprocess

import pytest
from support import invoke

from handover import create_app
from handover.config import ConfigurationError
from handover.services import deliveries, notifications
from handover.services.backup_manifest import KEYS_BACKUP
from handover.store.database import db
from tests.support import HANDOVER, free_port, operator_environment, run_all

# --- 1. SMTP: no password without TLS, STARTTLS and SMTPS from the environment ------------


def _send(app):
    """Hand one message to the configured SMTP server, as the worker does."""
    with app.app_context():
        message = notifications._message("lead@example.test", "Subject", "Text")
        notifications._smtp_send([message])


def test_a_password_is_never_sent_over_an_unencrypted_connection(app, caplog):
    app.config.update(SMTP_HOST="smtp.example.fi", SMTP_PORT=25, SMTP_USERNAME="handover",
                      SMTP_PASSWORD="secret")
    connected = []
    caplog.set_level(logging.ERROR)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(smtplib, "SMTP", lambda *arguments, **options: connected.append(1))
        with pytest.raises(deliveries.DeliveryFailed) as refused:
            _send(app)

    assert not connected, "refused before connecting"
    assert "SMTP password without TLS" in str(refused.value)
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "HANDOVER_SMTP_USERNAME is set but the connection to the SMTP server " \
           "smtp.example.fi is not encrypted" in errors[0]
    assert "HANDOVER_SMTP_STARTTLS=1" in errors[0] and "HANDOVER_SMTP_SSL=1" in errors[0]
    assert "secret" not in errors[0]


class _Recorder:
    """Stands in for the SMTP connection; records what Handover asks of it."""

    def __init__(self, calls, kind, **options):
        self.calls, self.kind, self.tls_context = calls, kind, "context" in options
        self.sock = None

    def connect(self, host, port):
        self.calls.append((self.kind, host, port, self.tls_context))

    def __enter__(self):
        return self

    def __exit__(self, *_exception):
        return False

    def starttls(self, context=None):
        self.calls.append(("starttls", context is not None))

    def login(self, user, password):
        self.calls.append(("login", user))

    def send_message(self, message):
        self.calls.append(("send",))


def _recorded(app, monkeypatch):
    calls = []
    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **o: _Recorder(calls, "plain", *a, **o))
    monkeypatch.setattr(smtplib, "SMTP_SSL", lambda *a, **o: _Recorder(calls, "tls", *a, **o))
    _send(app)
    return calls


def test_starttls_and_implicit_tls_come_from_theoperator_environment(app_config, monkeypatch):
    monkeypatch.setenv("HANDOVER_SMTP_HOST", "smtp.example.fi")
    monkeypatch.setenv("HANDOVER_SMTP_PORT", "587")
    monkeypatch.setenv("HANDOVER_SMTP_STARTTLS", "1")
    monkeypatch.setenv("HANDOVER_SMTP_USERNAME", "handover")
    monkeypatch.setenv("HANDOVER_SMTP_TIMEOUT", "7")
    app = create_app(app_config)
    assert app.config["SMTP_TIMEOUT"] == 7

    assert _recorded(app, monkeypatch) == [
        ("plain", "smtp.example.fi", 587, False), ("starttls", True), ("login", "handover"),
        ("send",)]

    monkeypatch.delenv("HANDOVER_SMTP_STARTTLS")
    monkeypatch.setenv("HANDOVER_SMTP_PORT", "465")       # implicit TLS by itself
    assert _recorded(create_app(app_config), monkeypatch)[0] == (
        "tls", "smtp.example.fi", 465, True)

    monkeypatch.setenv("HANDOVER_SMTP_PORT", "2465")
    monkeypatch.setenv("HANDOVER_SMTP_SSL", "1")
    assert _recorded(create_app(app_config), monkeypatch)[0] == (
        "tls", "smtp.example.fi", 2465, True)


def test_a_relay_on_this_machine_may_take_a_password_without_tls(app, monkeypatch):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=25, SMTP_USERNAME="handover")
    assert _recorded(app, monkeypatch)[0] == ("plain", "127.0.0.1", 25, False)


def test_check_reports_a_password_without_tls_with_advice(app_config, monkeypatch):
    app_config.update(SMTP_HOST="smtp.example.fi", SMTP_USERNAME="handover")
    app = create_app(app_config)
    result = invoke(app, "check")
    with app.app_context():
        db.engine.dispose()

    lines = [line for line in result.output.splitlines() if "SMTP_USERNAME" in line]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: HANDOVER_SMTP_USERNAME is set but the connection")
    assert "HANDOVER_SMTP_STARTTLS=1" in lines[0]
    assert result.exit_code == 1


# --- 2. a missing key file: start-up refuses, every command says restore it ----------------


def test_the_key_backup_is_named_as_backup_writes_it():
    from handover.security import keys
    assert keys.KEY_BACKUP_NAME == KEYS_BACKUP


def test_start_up_refuses_without_the_key_file(app_config, instance_path):
    (instance_path / "config.py").write_text(f"SECRET_KEY = {app_config['SECRET_KEY']!r}\n")
    os.rename(instance_path / "keys.json", instance_path / "keys.json.moved")

    with pytest.raises(ConfigurationError) as refused:
        create_app(app_config)

    message = str(refused.value)
    assert message.startswith(f"No key file at {instance_path / 'keys.json'}, though ")
    assert f"restore the key file from the key backup ({KEYS_BACKUP}" in message
    assert "handover init" not in message


def test_keys_in_the_environment_start_without_the_key_file(app_config, instance_path):
    os.unlink(instance_path / "keys.json")
    app_config.update({"KEYS_JSON": "{}"})
    app = create_app(app_config)
    with app.app_context():
        db.engine.dispose()


def test_an_hsm_instance_does_not_start_without_its_key_file(app_config, instance_path):
    """With the KEKs in an HSM the file still holds the identity-code key, from which the
    audit chain's key comes: without it every audited write would fail after start-up."""
    os.unlink(instance_path / "keys.json")
    app_config.update({"KEY_BACKEND": "pkcs11"})
    with pytest.raises(ConfigurationError, match="^No key file at "):
        create_app(app_config)



def test_every_command_sends_a_lost_key_file_to_the_key_backup(tmp_path):
    instance = tmp_path / "instance"
    environment = operator_environment(instance)
    done = subprocess.run([str(HANDOVER), "init"], env=environment, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    os.rename(instance / "keys.json", tmp_path / "keys.json")
    commands = (["keys", "check"], ["keys", "rotate"], ["audit", "verify"],
                ["backup", str(tmp_path / "backup")], ["users", "list"])
    # The server too; one that started anyway is stopped, never left running.
    server = subprocess.Popen([str(HANDOVER), "run", "--port", str(free_port())],
                              env=environment, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    results = run_all([(command, environment) for command in commands])
    try:
        _, server_err = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail("`handover run` started without the key file")
    results.append((server.returncode, "", server_err))
    commands += (["run"],)

    advice = (f"Error: No key file at {instance / 'keys.json'}, though "
              f"{instance / 'config.py'} shows this instance was set up: restore the key file "
              f"from the key backup ({KEYS_BACKUP}, written by `handover backup` and kept apart "
              f"from it) to {instance / 'keys.json'} with mode 0600, or set HANDOVER_KEYS. "
              "Without it nothing sealed in the database can be opened.")
    for command, (returncode, _stdout, stderr) in zip(commands, results, strict=True):
        assert returncode == 2, (command, stderr)
        assert stderr.strip() == advice, command
    assert not (tmp_path / "backup").exists()


def test_restore_brings_a_lost_key_file_back(tmp_path):
    """The operator whose key file is lost restores it with the backup, as the README says:
    the one command that starts without it."""
    instance = tmp_path / "instance"
    environment = operator_environment(instance)

    def handover_command(*arguments):
        return subprocess.run([str(HANDOVER), *arguments], env=environment,
                              capture_output=True, text=True, timeout=180, check=False)

    for arguments in (["init"], ["db", "upgrade"], ["backup", str(tmp_path / "backup")]):
        done = handover_command(*arguments)
        assert done.returncode == 0, (arguments, done.stderr)
    kept = (instance / "keys.json").read_bytes()
    os.unlink(instance / "keys.json")

    restored = handover_command("restore", str(tmp_path / "backup"), "--with-keys", "--force")
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert (instance / "keys.json").read_bytes() == kept
    assert handover_command("keys", "check").returncode == 0
