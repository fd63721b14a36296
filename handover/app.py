"""The application factory."""

import os

from apiflask import APIFlask
from jinja2 import FileSystemBytecodeCache
from werkzeug.middleware.proxy_fix import ProxyFix

from handover import config as configuration
from handover import i18n, jobs, web
from handover.i18n import babel
from handover.plugins import manager as plugin_manager
from handover.security import hardening, keys, known_devices, passwords, sessions, throttle
from handover.security.sessions import login_manager
from handover.security.throttle import limiter
from handover.store import models  # noqa: F401  (every table must be known to migrations)
from handover.store.database import db, migrate
from handover.web import ui
from handover.web.csrf import csrf

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "store", "migrations")


def create_app(config=None):
    """Build a Handover app.

    ``config`` overrides everything else (tests pass their database and secret here). The
    instance folder comes from ``HANDOVER_INSTANCE_PATH`` or Flask's default beside the package.
    """
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "HANDOVER_INSTANCE_PATH"
    )
    # APIFlask is Flask plus the OpenAPI document of the JSON API (web/api): served at
    # /api/v1/openapi.json, no script UI (it would load from a CDN), and HTML errors left to
    # web/errors.py, which answers JSON under /api/ only.
    app = APIFlask(
        __name__,
        title="Handover API", version="1", spec_path="/api/v1/openapi.json", docs_path=None,
        docs_oauth2_redirect_path=None, json_errors=False,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    configuration.load(app, config)
    _cache_compiled_templates(app)
    keys.init_app(app)
    problem = passwords.profile_problem(app.config)
    if problem and not app.config.get("INITIALISING_INSTANCE"):   # `handover check` reports it
        raise configuration.ConfigurationError(problem)
    if not app.config.get("INITIALISING_INSTANCE"):
        configuration.require_secret_key(app)
        keys.require_key_file(app)
    _trust_proxies(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    _init_limiter(app)

    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    sessions.init_app(app)
    known_devices.init_app(app)
    hardening.init_app(app)
    i18n.init_app(app)
    ui.init_app(app)

    plugin_manager.init_app(app)
    web.register_blueprints(app)
    jobs.init_app(app)
    return app


def _cache_compiled_templates(app):
    """With ``TEMPLATE_CACHE`` (a folder), templates compiled by one app are kept there for the
    next, with Jinja's own bytecode cache (keyed by each template's source, so a changed
    template is compiled again). The test suite starts an app for every test and gives them
    one folder: compiling the same templates anew was a fifth of a page test's time. Must run
    before anything touches ``app.jinja_env``."""
    folder = app.config.get("TEMPLATE_CACHE")
    if folder:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        app.jinja_options = {**app.jinja_options,
                             "bytecode_cache": FileSystemBytecodeCache(folder)}


def _trust_proxies(app):
    """Behind ``PROXIES`` proxies (a TLS proxy is one), take the client's address and scheme
    from the headers they set, as far back as they go: the login limits count each client
    apart, and the audit log and the sessions name the client, not the proxy. Headers beyond
    that number, or with none set, are the client's own words and are not believed."""
    proxies = app.config["PROXIES"]
    if not isinstance(proxies, int) or isinstance(proxies, bool) or not 0 <= proxies <= 10:
        raise configuration.ConfigurationError(
            f"PROXIES must be the number of proxies in front of the server (0-10), not "
            f"{proxies!r}. Set HANDOVER_PROXIES.")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _init_limiter(app):
    """Counts live in Redis when configured, so that every gunicorn worker sees the same counts."""
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)

    throttle.configure(app)
    limiter.init_app(app)
