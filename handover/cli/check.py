"""`handover check`: every configuration problem before go-live, each on one line with what to
do; the exit status is 1 if any is an error.

It runs even when start-up itself would refuse (no secret key, another time zone), because
telling the operator *everything* that is wrong in one go is its whole purpose. This module
has the command and the configuration's own findings; `check_files` looks at the disk and
`check_data` at the database.
"""

import os

import click
from flask.cli import ScriptInfo
from flask.helpers import get_debug_flag

from handover import create_app
from handover.cli import check_data, check_files
from handover.cli.findings import error, warning
from handover.config import ConfigurationError, timezone_problem
from handover.security import keys
from handover.services import notifications

MINIMUM_SECRET_LENGTH = 32


def find_problems(app, workers=1):
    """Every configuration problem of ``app`` for a server with ``workers`` processes."""
    findings = []
    findings += _server_problems(app, workers)
    findings += _secret_problems(app)
    findings += _timezone_problems(app)
    findings += check_files.key_problems(app)
    findings += check_data.database_problems(app, workers)
    findings += check_files.instance_problems(app)
    findings += check_data.account_problems(app)
    findings += check_data.double_role_problems(app)
    findings += check_data.pending_membership_problems(app)
    findings += check_data.demo_problems(app)
    findings += check_data.worker_problems(app)
    findings += check_data.plugin_problems(app)
    return findings


def _server_problems(app, workers):
    config = app.config
    if app.debug or get_debug_flag():
        yield error("Debug mode is on: it shows code and data on errors. "
                    "Unset FLASK_DEBUG and DEBUG.")
    if not config.get("HTTPS"):
        yield error("HTTPS is off: cookies are sent without Secure and no HSTS. Serve behind "
                    "a TLS proxy and set HANDOVER_HTTPS=1.")
    elif not config.get("PROXIES"):
        yield warning("HTTPS is on but HANDOVER_PROXIES is 0: behind a TLS proxy every request "
                      "seems to come from the proxy, so one client's failed logins block "
                      "everyone's and the audit log names the proxy. Set HANDOVER_PROXIES to "
                      "the number of proxies in front of the server (1 for one TLS proxy).")
    if not str(config.get("BASE_URL", "")).startswith("https://"):
        yield warning("BASE_URL does not start with https://: e-mail links will not use TLS. "
                      "Set HANDOVER_BASE_URL.")
    if config.get("TESTING"):
        yield error("TESTING is on: errors reach the client unhandled, and the test suite's "
                    "settings (its cheap password hashing) are allowed. Remove TESTING from "
                    "the config.")
    if config.get("WTF_CSRF_ENABLED") is False:
        yield error("CSRF protection is off. Remove WTF_CSRF_ENABLED = False from the config.")
    if config.get("RATELIMIT_ENABLED") is False:
        yield error("Login rate limits are off. Remove RATELIMIT_ENABLED = False.")
    if workers > 1 and not config.get("REDIS_URL"):
        yield error(f"{workers} workers but no Redis: each worker counts login attempts "
                    "alone. Set HANDOVER_REDIS_URL.")
    if config.get("REDIS_URL") and not _redis_answers(config["REDIS_URL"]):
        yield error("Redis (HANDOVER_REDIS_URL) does not answer: logins would be refused. "
                    "Start Redis or correct the address.")
    if not config.get("SMTP_HOST"):
        yield warning("SMTP is not configured: notifications only go to the server log. "
                      "Set HANDOVER_SMTP_HOST (and port, user, password).")
    problem = notifications.unencrypted_login_problem(config)
    if problem:
        yield error(f"{problem} Until then the worker refuses to log in and sends no e-mail.")


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
        yield error("No secret key. Run `handover init` or set HANDOVER_SECRET_KEY.")
    elif len(secret) < MINIMUM_SECRET_LENGTH:
        yield error(f"The secret key is shorter than {MINIMUM_SECRET_LENGTH} characters. "
                    "Set a longer random one, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'`.")


def _timezone_problems(app):
    problem = timezone_problem(app)
    if problem:
        yield error(problem)


def _workers_from_environment():
    value = os.environ.get("WEB_CONCURRENCY", "").strip()
    return int(value) if value.isdigit() else 1


def _load_app(ctx):
    """The configured app; if start-up refuses, the app without the refusal so we can go on."""
    info = ctx.ensure_object(ScriptInfo)
    info.set_debug_flag = False  # judge the configured DEBUG, not the CLI's own default
    try:
        return info.load_app(), []
    except ConfigurationError as refusal:
        app = create_app({"INITIALISING_INSTANCE": True})
        # A missing secret or instance folder, or another time zone, is reported with the
        # other problems of its kind; anything else here.
        reported = (not app.config.get("SECRET_KEY") or not os.path.isdir(app.instance_path)
                    or timezone_problem(app) or _key_file_missing(app))
        return app, ([] if reported else [error(str(refusal))])


def _key_file_missing(app):
    """Whether start-up refused for want of the key file, which `check_files.key_problems`
    reports in the same words."""
    try:
        keys.require_key_file(app)
    except ConfigurationError:
        return True
    return False


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
