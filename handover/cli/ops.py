"""Operator commands: `handover check` before go-live, `handover backup` and `handover restore`.

`check` runs even when start-up itself would refuse (no secret key), because telling the
operator *everything* that is wrong in one go is its whole purpose.
"""

import os
import stat
import tempfile
from collections import namedtuple
from datetime import timedelta

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from flask.helpers import get_debug_flag
from flask_migrate import Config

from handover import create_app
from handover.cli import demo
from handover.config import ConfigurationError
from handover.security import keys
from handover.services import deliveries, policy
from handover.services.backup import (
    KEYS_BACKUP,
    BackupError,
    create_backup,
    database_kind,
    restore_backup,
    schema_revision,
)
from handover.store.models.base import utcnow

MINIMUM_SECRET_LENGTH = 32

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
    findings += _account_problems(app)
    findings += _demo_problems(app)
    findings += _worker_problems(app)
    return findings


def _server_problems(app, workers):
    config = app.config
    if app.debug or get_debug_flag():
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
    if config.get("REDIS_URL") and not _redis_answers(config["REDIS_URL"]):
        yield _error("Redis (HANDOVER_REDIS_URL) does not answer: logins would be refused. "
                     "Start Redis or correct the address.")
    if not config.get("SMTP_HOST"):
        yield _warning("SMTP is not configured: notifications only go to the server log. "
                       "Set HANDOVER_SMTP_HOST (and port, user, password).")


def _redis_answers(url):
    # Imported here: only `handover check` on an instance with a Redis URL needs it, and every
    # other command would pay for loading it.
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return client.ping()
    except redis.RedisError:
        return False
    finally:
        client.close()


def _secret_problems(app):
    secret = app.config.get("SECRET_KEY")
    if not secret:
        yield _error("No secret key. Run `handover init` or set HANDOVER_SECRET_KEY.")
    elif len(secret) < MINIMUM_SECRET_LENGTH:
        yield _error(f"The secret key is shorter than {MINIMUM_SECRET_LENGTH} characters. "
                     "Set a longer random one, e.g. `python -c 'import secrets; "
                     "print(secrets.token_urlsafe(48))'`.")


def _key_problems(app):
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
        keys.load_keyring(app)
    except keys.KeyFileUnreadable as error:
        yield _error(str(error))  # not JSON, or not readable: the message says what to do
    except ConfigurationError as error:
        # The key module's own validation names what is wrong (missing or short keys).
        yield _error(f"The keyring is not usable: {error} Restore it from the key backup.")


def _database_problems(app, workers):
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
    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config).get_current_head()


def _account_problems(app):
    """Administrators and auditors are refused memberships, but data from before the rule can
    still hold some. They give no access (the policy ignores them), yet they confuse whoever
    reads the member lists, and the account should say what the person is."""
    with app.app_context():
        try:
            accounts = policy.system_accounts_with_memberships()
        except Exception:  # no database or no schema: the database findings say so already
            return
        for user in accounts:
            role = "administrator" if user.is_admin else "auditor"
            units = ", ".join(sorted(f"{m.unit.name} ({m.role})" for m in user.memberships))
            yield _warning(f"{user.email} is an {role} and still a member of {units}: "
                           "administrators and auditors may not hold unit memberships (they "
                           "get nothing through them). Run `handover users remove-memberships "
                           f"{user.email}`.")


def _demo_problems(app):
    """Demo accounts sign in with a password and a two-factor secret printed in the README:
    on a production instance (HTTPS on) that lets anyone in, elsewhere it is worth a word."""
    with app.app_context():
        try:
            emails = demo.active_accounts()
        except Exception:  # no database or no schema: the database findings say so already
            return
    if not emails:
        return
    finding = _error if app.config.get("HTTPS") else _warning
    yield finding(f"{len(emails)} demo account(s) can sign in "
                  f"({demo.names_in_short(emails)}): their passwords and two-factor secrets "
                  "are published in the README, so anyone can sign in as them. On an instance "
                  "for real use, run `handover users deactivate EMAIL` for each of them.")


def _worker_problems(app):
    """A `handover worker` that stopped reporting, and deliveries that wait too long: notices
    and webhooks are then only on record, and overdue notices and the purge do not run."""
    minutes = int(app.config.get("WORKER_HEARTBEAT_MINUTES", 5))
    with app.app_context():
        try:
            beat = deliveries.last_heartbeat()
            backlog = deliveries.backlog()
        except Exception:  # no database or no schema: the database findings say so already
            return
    now = utcnow()
    # A new instance without a worker yet, and with nothing to deliver, is not warned about.
    never = beat is None and backlog["oldest_seconds"] > minutes * 60
    if never or (beat is not None and now - beat > timedelta(minutes=minutes)):
        since = "has never reported" if beat is None else (
            f"has not reported for {int((now - beat).total_seconds() // 60)} minutes")
        yield _warning(f"The `handover worker` {since}: e-mail notices and webhooks wait, and "
                       "overdue notices and the retention purge do not run. Start it (see "
                       "docs/deploy/).")
    waited = int(app.config.get("DELIVERY_BACKLOG_MINUTES", 15))
    if backlog["oldest_seconds"] > waited * 60:
        yield _warning(f"{backlog['pending'] + backlog['sending']} deliveries are waiting, the "
                       f"oldest for {backlog['oldest_seconds'] // 60} minutes: check the mail "
                       "server and webhook endpoints (Administration, Deliveries).")
    if backlog["failed"]:
        yield _warning(f"{backlog['failed']} deliveries failed for good: see Administration, "
                       "Deliveries, and try them again once the recipient works.")


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
        return
    yield from _readable_by_others(app, folder)


def _readable_by_others(app, folder):
    """The instance folder holds the database, its WAL, the secret key and the key file: none
    of it is for other accounts on the machine. Plugin code is not secret and is left out;
    the key file has its own finding."""
    mode = stat.S_IMODE(os.stat(folder).st_mode)
    if mode & 0o077:
        yield _error(f"The instance folder {folder} has mode {mode:04o}: other accounts can "
                     f"look into it. Run `chmod 700 {folder}`.")
    skipped = {os.path.abspath(app.config["PLUGINS_DIR"])}
    key_file = os.path.abspath(app.config["KEYS_FILE"])
    for here, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders
                            if os.path.abspath(os.path.join(here, name)) not in skipped)
        for name in sorted(files):
            path = os.path.join(here, name)
            if os.path.abspath(path) == key_file or os.path.islink(path):
                continue
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode & 0o077:
                yield _error(f"{path} has mode {mode:04o}: other accounts can read it. "
                             f"Run `chmod 600 {path}`.")


def _workers_from_environment():
    value = os.environ.get("WEB_CONCURRENCY", "").strip()
    return int(value) if value.isdigit() else 1


def _load_app(ctx):
    """The configured app; if start-up refuses, the app without the refusal so we can go on."""
    info = ctx.ensure_object(ScriptInfo)
    info.set_debug_flag = False  # judge the configured DEBUG, not the CLI's own default
    try:
        return info.load_app(), []
    except ConfigurationError as error:
        app = create_app({"INITIALISING_INSTANCE": True})
        # A missing secret or instance folder is reported with the other problems of its kind;
        # anything else here.
        reported = not app.config.get("SECRET_KEY") or not os.path.isdir(app.instance_path)
        return app, ([] if reported else [_error(str(error))])


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


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False))
@with_appcontext
def backup_command(destination):
    """Back up the database, and the keys into a separate file, into the folder DESTINATION."""
    try:
        manifest = create_backup(current_app._get_current_object(), destination)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {manifest['handovers']['total']} handover(s) of a "
               f"{manifest['database']} database at revision {manifest['schema_revision']} "
               f"into {destination}.")
    click.echo(f"Move {os.path.join(destination, manifest['keys_file'])} to a different place "
               "than the database backup: one without the other cannot be read, and both "
               "together in one place protect nothing.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@click.option("--with-keys", is_flag=True,
              help="Also restore the key file from the backup folder.")
@click.option("--keys", "keys_path", type=click.Path(exists=True, dir_okay=False),
              help="Restore the key file from this key backup (kept apart from SOURCE).")
@with_appcontext
def restore_command(source, force, with_keys, keys_path):
    """Restore the backup in the folder SOURCE into this instance's (empty) database."""
    if with_keys and keys_path:
        raise click.UsageError("Give either --with-keys or --keys FILE, not both.")
    if with_keys:
        keys_path = os.path.join(source, KEYS_BACKUP)
        if not os.path.exists(keys_path):
            raise click.ClickException(f"No {KEYS_BACKUP} in {source}; use --keys FILE.")
    app = current_app._get_current_object()
    try:
        manifest, restored = restore_backup(app, source, force=force, keys_path=keys_path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {restored['handovers']['total']} handover(s) from the backup of "
               f"{manifest['created_at']} (revision {restored['schema_revision']}).")
    if restored["handovers"] != manifest["handovers"]:
        raise click.ClickException("The restored handovers do not match the manifest's counts.")
    if keys_path:
        click.echo(f"Key file restored to {app.config['KEYS_FILE']}.")
    if restored["schema_revision"] != _head_revision(app):
        click.echo("Run `handover db upgrade`: the backup is from an older schema.")
    click.echo("Run `handover keys check` to open every record with the restored keys.")


COMMANDS = (check_command, backup_command, restore_command)
