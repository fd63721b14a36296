"""Browsers an account has signed in from, so that guesses from elsewhere cannot lock it out.

The login limits count failed attempts per account (`throttle`): anyone who knows a colleague's
e-mail address could send five wrong passwords a minute and keep her out all day. A browser
in which the account has completed a login carries a signed cookie naming it (by a keyed
hash, never the address); attempts from that browser count in a bucket of their own. An
attacker's guesses then fill only the bucket of browsers the account has never used, and the
nurse at her usual workstation logs in. (The "device cookie" of OWASP's authentication
guidance.) The cookie opens nothing by itself: it only chooses which count an attempt joins.
"""

import hashlib
import hmac

from flask import current_app, g, request
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "handover_device"
SALT = "handover.known-device"
#: How long a browser stays known without a new login in it.
MAX_AGE_SECONDS = 180 * 24 * 3600
#: The accounts one browser remembers (a ward's shared workstation has several), newest first.
MOST_ACCOUNTS = 8


def init_app(app):
    app.after_request(_remember_new_login)


def cookie_name():
    """With HTTPS, "__Host-": kept only as set over HTTPS, for this host alone."""
    return ("__Host-" if current_app.config.get("HTTPS") else "") + COOKIE


def _serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _token(email):
    """The account as the cookie names it: a keyed hash of its address, cut short."""
    key = hashlib.sha256(f"{SALT}:{current_app.secret_key}".encode()).digest()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def _known_tokens():
    value = request.cookies.get(cookie_name())
    if not value:
        return []
    try:
        tokens = _serializer().loads(value, max_age=MAX_AGE_SECONDS)
    except (BadData, TypeError, ValueError):
        return []
    return [token for token in tokens if isinstance(token, str)] if isinstance(
        tokens, list) else []


def knows(email):
    """Has the account ``email`` completed a login in this browser (in the last 180 days)?"""
    return bool(email) and _token(email) in _known_tokens()


def remember(email):
    """Name the account in this browser's cookie when the response goes out (a login has
    completed in it)."""
    g.known_device_login = email


def _remember_new_login(response):
    email = g.pop("known_device_login", None)
    if email:
        token = _token(email)
        tokens = [token, *(known for known in _known_tokens() if known != token)]
        response.set_cookie(
            cookie_name(), _serializer().dumps(tokens[:MOST_ACCOUNTS]),
            max_age=MAX_AGE_SECONDS, path="/", httponly=True, samesite="Lax",
            secure=bool(current_app.config.get("HTTPS")))
    return response
