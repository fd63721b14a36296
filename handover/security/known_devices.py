"""Browsers an account has signed in from, so that guesses from elsewhere cannot lock it out.

The login limits count failed attempts per account (`throttle`): anyone who knows a colleague's
e-mail address could send five wrong passwords a minute and keep her out all day. A browser
in which the account has completed a login carries a signed cookie naming it (by a keyed
hash, never the address) and the browser (a random id); attempts from that browser for that
account count in a bucket of their own. An attacker's guesses then fill only the bucket of
browsers the account has never used (or of the one browser the attacker sits at), and the
nurse at her usual workstation logs in. (The "device cookie" of OWASP's authentication
guidance.) The cookie opens nothing by itself: it only chooses which count an attempt joins.
"""

import hashlib
import hmac
import secrets

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


def _read():
    """(this browser's id, the account tokens it knows), or (None, []) without a cookie of
    ours in force."""
    value = request.cookies.get(cookie_name())
    if not value:
        return None, []
    try:
        state = _serializer().loads(value, max_age=MAX_AGE_SECONDS)
    except (BadData, TypeError, ValueError):
        return None, []
    if not isinstance(state, dict) or not isinstance(state.get("browser"), str):
        return None, []
    accounts = state.get("accounts")
    return state["browser"], [token for token in accounts if isinstance(token, str)] \
        if isinstance(accounts, list) else []


def known_browser(email):
    """This browser's id when the account ``email`` has completed a login in it (in the last
    180 days), else None. Each browser counts on its own: failed attempts at one workstation
    the account has used do not lock it out of another."""
    browser, accounts = _read()
    return browser if email and _token(email) in accounts else None


def remember(email):
    """Name the account in this browser's cookie when the response goes out (a login has
    completed in it)."""
    g.known_device_login = email


def _remember_new_login(response):
    email = g.pop("known_device_login", None)
    if email:
        browser, accounts = _read()
        token = _token(email)
        accounts = [token, *(known for known in accounts if known != token)]
        state = {"browser": browser or secrets.token_urlsafe(16),
                 "accounts": accounts[:MOST_ACCOUNTS]}
        response.set_cookie(
            cookie_name(), _serializer().dumps(state),
            max_age=MAX_AGE_SECONDS, path="/", httponly=True, samesite="Lax",
            secure=bool(current_app.config.get("HTTPS")))
    return response
