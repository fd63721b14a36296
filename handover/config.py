"""Configuration: defaults, then the instance's ``config.py``, then ``HANDOVER_*`` variables.

There is deliberately no default secret key: a server that started with a guessable key would
sign sessions and CSRF tokens anyone could forge. ``handover init`` writes one into the instance.
"""

import os
from datetime import timedelta

#: Handover is a Finnish service, and its rules count days in Finland: send-by dates of late
#: drafts, the days of the audit log's filter, integration clients' token expiry, "today" for
#: identity codes (`formdefs.content.TIMEZONE`). Pages show times in the same zone
#: (``BABEL_DEFAULT_TIMEZONE``), so it is fixed: another one is refused at start-up, or a page
#: would say one day while the rule behind it counts another.
SERVICE_TIMEZONE = "Europe/Helsinki"

DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "handover_session",
    "PREFERRED_URL_SCHEME": "https",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
    # A fill page's post (typing and a file) is read up to this, so that a file over the
    # attachment limit is refused while the typing beside it is saved (web/handovers).
    "FILL_PAGE_MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "fi",
    "BABEL_DEFAULT_TIMEZONE": SERVICE_TIMEZONE,
    "LANGUAGES": ["fi", "sv", "en"],
    "IDLE_TIMEOUT": timedelta(minutes=30),
    # How long before the idle timeout every logged-in page warns (and says so in minutes).
    "SESSION_WARNING_SECONDS": 120,
    "ABSOLUTE_TIMEOUT": timedelta(hours=12),
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute",
    "LOGIN_LIMIT_PER_ADDRESS": "30 per minute",
    # Wrong codes in a row after which the code step of a login refuses every code until an
    # administrator resets the password (`security.login.check_code`).
    "CODE_FAILURES_BEFORE_LOCK": 10,
    "REDIS_URL": None,
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    # STARTTLS after connecting (port 587); SMTP_SSL: TLS from the first byte (SMTPS), None
    # meaning "on when the port is 465". A password is never sent unencrypted (but to a
    # server on this machine): see `services.notifications`.
    "SMTP_STARTTLS": False,
    "SMTP_SSL": None,
    "SMTP_TIMEOUT": 15,
    "SMTP_USERNAME": None,
    "MAIL_FROM": "handover@localhost",
    "BASE_URL": "http://127.0.0.1:5000",
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "HTTPS": False,
    # How many proxies in front of the server set X-Forwarded-For and -Proto (`app.py`): a TLS
    # proxy is one. 0 believes no such header, since a client could then name any address.
    "PROXIES": 0,
    # Where the key-encryption keys live: "file" (the key file) or "pkcs11" (an HSM).
    "KEY_BACKEND": "file",
    # Sign-in through the organisation's OpenID Connect provider: on when OIDC_ISSUER is set.
    "OIDC_SCOPES": "openid email profile",
    "OIDC_EMAIL_CLAIM": "email",
    "OIDC_NAME_CLAIM": "name",
    "OIDC_REQUIRE_MFA": False,
    "OIDC_PROVISION": False,
    # The argon2id parameters of password hashes (`security.passwords.PROFILES`).
    "ARGON2_PROFILE": "RFC_9106_LOW_MEMORY",
    # A folder where compiled templates are kept from one app start to the next (`app.py`);
    # none by default: a server compiles each template once per worker anyway.
    "TEMPLATE_CACHE": None,
}

#: Settings an environment variable HANDOVER_<NAME> may set, by the config key each sets.
_FROM_ENVIRONMENT = (
    ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
    ("KEYS", "KEYS_JSON"),
    *((name, name) for name in (
        "REDIS_URL", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD",
        "SMTP_STARTTLS", "SMTP_SSL", "SMTP_TIMEOUT", "MAIL_FROM", "BASE_URL", "HTTPS",
        "PROXIES", "CLI_LANGUAGE", "PGBOUNCER",
    )),
    *((name, name) for name in (
        "KEY_BACKEND", "PKCS11_MODULE", "PKCS11_TOKEN", "PKCS11_PIN", "PKCS11_PIN_FILE",
        "PKCS11_KEK", "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES",
        "OIDC_EMAIL_CLAIM", "OIDC_NAME_CLAIM", "OIDC_TENANT_CLAIM", "OIDC_REQUIRE_MFA",
        "OIDC_MFA_AMR", "OIDC_MFA_ACR", "OIDC_PROVISION", "OIDC_LABEL",
    )),
)
ENVIRONMENT = {f"HANDOVER_{variable}": key for variable, key in _FROM_ENVIRONMENT}

INTEGER_KEYS = {"SMTP_PORT", "SMTP_TIMEOUT", "PROXIES"}
BOOLEAN_KEYS = {"SMTP_STARTTLS", "SMTP_SSL", "HTTPS", "OIDC_REQUIRE_MFA", "OIDC_PROVISION"}


class ConfigurationError(RuntimeError):
    """Start-up cannot go on; the message tells the operator what to run."""


def load(app, overrides=None):
    """Fill ``app.config`` in the documented order and check what start-up needs."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for variable, key in ENVIRONMENT.items():
        # Set to nothing (a blank line of an environment file) counts as not set: an empty
        # database URL, say, means the default one, not a start-up traceback.
        if os.environ.get(variable, "").strip():
            app.config[key] = _coerce(key, os.environ[variable])
    if overrides:
        app.config.update(overrides)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI",
        "sqlite:///" + os.path.join(app.instance_path, "handover.sqlite3"),
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config.get("PGBOUNCER") and app.config["SQLALCHEMY_DATABASE_URI"].startswith(
            "postgresql"):
        _without_prepared_statements(app)
    app.config.setdefault("PLUGINS_DIR", os.path.join(app.instance_path, "plugins"))
    app.config.setdefault("KEYS_FILE", os.path.join(app.instance_path, "keys.json"))
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        # "__Host-": the browser keeps it only as set over HTTPS, for the whole host and no
        # wider, so a page of a sibling domain cannot set or shadow the session cookie.
        name = app.config["SESSION_COOKIE_NAME"]
        if not name.startswith("__Host-") and not app.config.get("SESSION_COOKIE_DOMAIN"):
            app.config["SESSION_COOKIE_NAME"] = "__Host-" + name
    # Refused like a missing secret key; `handover init`, and `handover check` (which reports
    # it with everything else), build their app without the refusal.
    problem = timezone_problem(app)
    if problem and not app.config.get("INITIALISING_INSTANCE"):
        raise ConfigurationError(problem)


def timezone_problem(app):
    """What to do when pages would show times in another zone than the rules count days in
    (`SERVICE_TIMEZONE`); None when they agree."""
    zone = app.config.get("BABEL_DEFAULT_TIMEZONE")
    if zone == SERVICE_TIMEZONE:
        return None
    return (f"BABEL_DEFAULT_TIMEZONE is {zone!r}, but Handover counts days (send-by dates, "
            f"audit filter days, token expiry) in {SERVICE_TIMEZONE}: pages would show times in "
            "one zone and the rules count days in another. Remove BABEL_DEFAULT_TIMEZONE from "
            f"{os.path.join(app.instance_path, 'config.py')}.")


def _without_prepared_statements(app):
    """PgBouncer in transaction pooling gives each transaction whichever server connection is
    free, so a statement psycopg prepared on one (it does after five runs of the same query)
    is missing on the next. HANDOVER_PGBOUNCER=1 switches psycopg's preparing off."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def require_secret_key(app):
    if not app.config.get("SECRET_KEY"):
        raise ConfigurationError(
            f"No secret key is configured in the instance folder {app.instance_path} (looked "
            f"for SECRET_KEY in {os.path.join(app.instance_path, 'config.py')}) nor in "
            "HANDOVER_SECRET_KEY. If that is not the instance's folder, set HANDOVER_INSTANCE_PATH "
            "to it. Run `handover init` only to create a new instance there."
        )


def normalise_database_url(url):
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _coerce(key, value):
    if key in INTEGER_KEYS:
        try:
            return int(value)
        except ValueError:
            raise ConfigurationError(f"{key} must be a whole number, not {value!r}. Correct "
                                     f"HANDOVER_{key}.") from None
    if key in BOOLEAN_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value
