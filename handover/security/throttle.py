"""Login throttling: per client address and per account, counted where every worker sees it.

Only failed checks of a password or code count (`mark_failed`), so a user who logs in many
times a day is never slowed down, while the sixth wrong password for an account within a minute
gets 429. A browser the account has logged in from counts apart from all others
(`known_devices`): strangers' guesses cannot lock its owner out. The password step and the code
steps share one count per account (and browser), so knowing the password does not buy fresh
attempts at the code. The password-change form checks the current password too, and counts
against the same account: a stolen session must not become an unthrottled way to guess the
password.

The counts live in Redis when `REDIS_URL` is set. If Redis cannot be reached, login fails
closed: `limits` wraps the driver error in `StorageError` (``wrap_exceptions``; errors are not
swallowed and there is no in-memory fallback, which would give each worker its own count) and
the auth blueprint answers 503.
"""

from flask import current_app, g, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from handover.security import known_devices

# Limits are declared where they apply (the login views); nothing is limited by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: Where the pre-authentication state lives in the (signed) session cookie.
PENDING_KEY = "pending_login"

#: A Redis that accepts connections but does not answer must not hold a login for ever: an
#: answer within a few seconds, or the limiter's storage is down (which fails closed).
STORAGE_OPTIONS = {"wrap_exceptions": True, "socket_timeout": 5, "socket_connect_timeout": 5}


def normalise_email(value):
    return (value or "").strip().lower()


def mark_failed():
    """Count this request against its address and account (deducted after the response)."""
    g.login_attempt_failed = True


def _attempt_failed(response):
    return bool(g.get("login_attempt_failed"))


def account_key():
    """The account an attempt is aimed at: the e-mail typed at the password step, at the code
    steps the account whose password was already given, and at the password change the
    logged-in account (never a form field there). A browser the account has logged in from
    before counts apart (`known_devices`): guesses from elsewhere cannot lock it out."""
    if request.endpoint == "auth.login":
        email = normalise_email(request.form.get("email"))[:254]
    elif current_user.is_authenticated:
        email = normalise_email(current_user.email)
    else:
        email = normalise_email((session.get(PENDING_KEY) or {}).get("email"))
    browser = known_devices.known_browser(email)
    return "account:" + email + (f":browser:{browser}" if browser else "")


def address_key():
    return "address:" + (request.remote_addr or "unknown")


per_account = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    scope="login-account",
    key_func=account_key,
    deduct_when=_attempt_failed,
    methods=["POST"],
)

per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    scope="login-address",
    key_func=address_key,
    deduct_when=_attempt_failed,
    methods=["POST"],
)


#: The views `login_attempt` decorated: the only ones with limits.
_THROTTLED_VIEWS = set()


def login_attempt(view):
    """Decorate a view that checks a password or a code."""
    return throttled(per_address(per_account(view)))


def throttled(view):
    """Decorate a view that carries limits of its own (outermost, over them): the limiter
    resolves limits only for the views so marked (`_not_a_login_attempt`)."""
    _THROTTLED_VIEWS.add(view)
    return view


@limiter.request_filter
def _not_a_login_attempt():
    """Every other request skips the limiter: there are no default limits to resolve for it,
    and working them out is work every page would do for nothing."""
    return current_app.view_functions.get(request.endpoint) not in _THROTTLED_VIEWS


def configure(app):
    """Called by the app factory before the limiter is bound: fail closed when storage is down."""
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    options.update(STORAGE_OPTIONS)
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    app.config["RATELIMIT_SWALLOW_ERRORS"] = False
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = False
