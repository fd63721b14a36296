"""What an operator following README.md found wrong in it, fixed: the SMTP variables and every
setting worth tuning are documented where they are read, the default instance folder of a
wheel install is stated, the backup cron line works as written and moves the key backup off,
and the built-in forms are those that ship."""

import re
from pathlib import Path

from handover.config import DEFAULTS, ENVIRONMENT
from handover.plugins.manager import DEFAULT_PLUGINS
from handover.services import deliveries

REPOSITORY = Path(__file__).resolve().parents[1]
README = (REPOSITORY / "README.md").read_text()


def _section(title):
    start = README.index(title)
    following = README.find("\n#", start + len(title))
    return README[start:following if following >= 0 else None]


def test_every_smtp_variable_is_documented():
    configuration = _section("## Configuration")
    assert "SMTP_TIMEOUT" in DEFAULTS
    for variable in ("HANDOVER_SMTP_STARTTLS", "HANDOVER_SMTP_SSL", "HANDOVER_SMTP_TIMEOUT"):
        assert variable in ENVIRONMENT
        assert f"`{variable}`" in configuration
    assert "465" in configuration
    assert "never sends the SMTP password over an unencrypted connection" in configuration


def test_the_settings_read_with_defaults_elsewhere_are_in_the_readme():
    configuration = _section("## Configuration")
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{4,})`", configuration))
    elsewhere = {*deliveries.DEFAULTS, "WORKER_HEARTBEAT_MINUTES", "DELIVERY_BACKLOG_MINUTES",
                 "FORM_UPLOAD_FOUR_EYES", "FORM_UPLOAD_MAX_BYTES", "FORM_UPLOADS_RECHECK_SECONDS",
                 "API_RATE_LIMIT", "API_REFUSAL_LIMIT", "API_REFUSAL_AUDIT_SECONDS",
                 "WEBHOOK_TIMEOUT"}
    tunable = {"IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "SESSION_WARNING_SECONDS",
               "LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS", "ATTACHMENT_MAX_BYTES",
               "ARGON2_PROFILE"}
    missing = (elsewhere | tunable) - named
    assert not missing, sorted(missing)
    assert "see\n`handover/config.py` for the names" not in README


def test_the_default_instance_folder_is_stated_for_a_wheel_install():
    assert "`<venv>/var/handover.app-instance`" in _section("## Configuration")


def test_the_backup_cron_line_works_as_written():
    backups = _section("### Backups and checks")
    assert "15 2 * * * handover backup" not in backups
    [line] = [line.strip() for line in backups.splitlines() if line.strip().startswith("15 2 ")]
    minute, hour, day, month, weekday, user, command = line.split()
    assert user == "handover" and command.startswith("/")
    script = backups[backups.index(f"# {command}"):]
    assert ". /etc/handover/handover.env" in script
    assert "/srv/handover/app/.venv/bin/handover backup" in script
    assert re.search(r"mv \"\$backup/handover-KEYS-store-separately\.json\"", script)


def test_the_readme_names_the_forms_that_ship():
    intro = README[:README.index("## Try it")]
    assert "three built-in forms" not in intro
    shipped = [name for name in DEFAULT_PLUGINS if "restrictions" not in name]
    assert len(shipped) == 5
    assert "five built-in forms" in intro
    for name in shipped:
        assert f"`{name.rsplit('.', 1)[-1]}`" in intro, name
