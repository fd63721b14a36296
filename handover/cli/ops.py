"""Operator commands: `handover check` before go-live, `handover backup` and `handover restore`.

`check` runs even when start-up itself would refuse (no secret key), because telling the
operator *everything* that is wrong in one go is its whole purpose.
"""

import os
import stat
import tempfile
from collections import namedtuple

import click
from flask.cli import ScriptInfo

from handover.config import ConfigurationError

MINIMUM_SECRET_LENGTH = 32
KEY_BYTES = 32

Finding = namedtuple("Finding", "level message")


def _error(message):
    return Finding("error", message)


def _warning(message):
    return Finding("warning", message)


def find_problems(app, workers=1):
    """Every configuration problem of ``app`` for a server with ``workers`` processes."""
    findings = []
    findings += _server_problems(app, workers)
    findings += _secret_problems(app)
    findings += _key_problems(app)
    findings += _database_problems(app, workers)
    findings += _instance_problems(app)
    return findings


def _server_problems(app, workers):
    config = app.config
    if app.debug or config.get("DEBUG"):
        yield _error("Debug mode is on: it shows code and data on errors. "
                     "Unset FLASK_DEBUG and DEBUG.")
    if not config.get("HTTPS"):
        yield _error("HTTPS is off: cookies are sent without Secure and no HSTS. Serve behind "
                     "a TLS proxy and set HANDOVER_HTTPS=1.")
    if not str(config.get("BASE_URL", "")).startswith("https://"):
        yield _warning("BASE_URL does not start with https://: e-mail links will not use TLS. "
                       "Set HANDOVER_BASE_URL.")
    if config.get("WTF_CSRF_ENABLED") is False:
        yield _error("CSRF protection is off. Remove WTF_CSRF_ENABLED = False from the config.")
    if config.get("RATELIMIT_ENABLED") is False:
        yield _error("Login rate limits are off. Remove RATELIMIT_ENABLED = False.")
    if workers > 1 and not config.get("REDIS_URL"):
        yield _error(f"{workers} workers but no Redis: each worker counts login attempts "
                     "alone. Set HANDOVER_REDIS_URL.")
    if not config.get("SMTP_HOST"):
        yield _warning("SMTP is not configured: notifications only go to the server log. "
                       "Set HANDOVER_SMTP_HOST (and port, user, password).")


def _secret_problems(app):
    secret = app.config.get("SECRET_KEY")
    if not secret:
        yield _error("No secret key. Run `handover init` or set HANDOVER_SECRET_KEY.")
    elif len(secret) < MINIMUM_SECRET_LENGTH:
        yield _error(f"The secret key is shorter than {MINIMUM_SECRET_LENGTH} characters. "
                     "Set a longer random one, e.g. `python -c 'import secrets; "
                     "print(secrets.token_urlsafe(48))'`.")


def _key_problems(app):
    from handover import keys

    path = app.config["KEYS_FILE"]
    if not app.config.get("KEYS_JSON"):
        if not os.path.exists(path):
            yield _error(f"No key file at {path}. Run `handover init` or set HANDOVER_KEYS; "
                         "restore it from the key backup if this instance had data.")
            return
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            yield _error(f"The key file {path} has mode {mode:04o}: others can read it. "
                         f"Run `chmod 600 {path}`.")
    try:
        keyring = keys.load_keyring(app)
    except (ValueError, OSError, ConfigurationError) as error:
        yield _error(f"The key file cannot be read ({error.__class__.__name__}). "
                     "Restore it from the key backup.")
        return
    if not isinstance(keyring, dict):
        yield _error("The key file is not a JSON object. Restore it from the key backup.")
        return
    keks = keyring.get("keks") or {}
    if keyring.get("active_kek") not in keks:
        yield _error("The key file has no active key-encryption key. "
                     "Restore it from the key backup.")
    for kek_id, material in keks.items():
        if not _is_key(material):
            yield _error(f"Key-encryption key {kek_id} is not {KEY_BYTES} bytes of base64. "
                         "Restore the key file from the key backup.")
    if "identity_hash_key" not in keyring:
        yield _error("The key file has no identity_hash_key: children's handovers cannot be "
                     "found by identity code. Restore the key file from the key backup.")
    elif not _is_key(keyring["identity_hash_key"]):
        yield _error(f"identity_hash_key is not {KEY_BYTES} bytes of base64. "
                     "Restore the key file from the key backup.")


def _is_key(material):
    from handover import keys

    try:
        return len(keys.decode(material)) == KEY_BYTES
    except (TypeError, ValueError):
        return False


def _database_problems(app, workers):
    from handover.backup import database_kind, schema_revision

    if database_kind(app) == "sqlite" and workers > 1:
        yield _error(f"SQLite with {workers} workers: writers will queue and wait. "
                     "Use PostgreSQL (HANDOVER_DATABASE_URL) or one worker.")
    with app.app_context():
        try:
            revision = schema_revision()
        except Exception as error:  # whatever the driver raises, the database is not usable
            yield _error(f"The database cannot be reached ({error.__class__.__name__}). "
                         "Check HANDOVER_DATABASE_URL and that the server runs.")
            return
        head = _head_revision(app)
        if revision != head:
            yield _error(f"The database schema is at {revision or 'no revision'}, the code "
                         f"expects {head}. Run `handover db upgrade`.")


def _head_revision(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config).get_current_head()


def _instance_problems(app):
    folder = app.instance_path
    if not os.path.isdir(folder):
        yield _error(f"The instance folder {folder} does not exist. Run `handover init` "
                     "or set HANDOVER_INSTANCE_PATH.")
        return
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        yield _error(f"The instance folder {folder} is not writable by this user. "
                     "Give the service user write access to it.")


def _workers_from_environment():
    value = os.environ.get("WEB_CONCURRENCY", "").strip()
    return int(value) if value.isdigit() else 1


def _load_app(ctx):
    """The configured app; if start-up refuses, the app without the refusal so we can go on."""
    try:
        return ctx.ensure_object(ScriptInfo).load_app(), []
    except ConfigurationError as error:
        from handover import create_app

        return create_app({"ALLOW_MISSING_SECRET": True}), [_error(str(error))]


@click.command("check")
@click.option("--workers", type=int, default=None,
              help="Worker processes you will run (default: WEB_CONCURRENCY, else 1).")
@click.pass_context
def check_command(ctx, workers):
    """Report configuration problems before go-live; exit status 1 if any is an error."""
    app, findings = _load_app(ctx)
    workers = workers if workers is not None else _workers_from_environment()
    findings += list(find_problems(app, workers))
    for finding in findings:
        click.echo(f"{finding.level}: {finding.message}")
    errors = sum(1 for finding in findings if finding.level == "error")
    warnings = len(findings) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s).")
    if errors:
        ctx.exit(1)


COMMANDS = (check_command,)
