"""Server-side sessions behind Flask-Login.

The signed cookie holds only a random session id. Each request looks the row up, so a logout, a
deactivation or a timeout ends the session on the server at once, whatever the browser kept.
Timeouts come from the configuration: `IDLE_TIMEOUT` since the last request and
`ABSOLUTE_TIMEOUT` since login, whichever comes first.

The last-seen time is written only when it is older than `TOUCH_INTERVAL` (configurable as
`SESSION_TOUCH_INTERVAL`): a write and commit on every request would serialise SQLite's writers
and cost a commit per page for nothing. The idle timeout can then fall up to that interval
early, never late, which is harmless against a half-hour timeout.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from handover.i18n import lazy_gettext
from handover.security import known_devices
from handover.store.database import db
from handover.store.models import Membership, Unit, User, UserSession
from handover.store.models.base import utcnow

login_manager = LoginManager()

#: How stale `UserSession.last_seen_at` may get before a request writes it again.
TOUCH_INTERVAL = timedelta(seconds=60)

#: The session row, its user and their memberships (confirmed or awaiting confirmation) in one
#: round trip: every page needs all three (a user has a handful of memberships, so the join
#: repeats the rest a few times). Built once with a bound parameter, so a request neither
#: builds nor looks up a new statement. The rows come as plain (session, user, membership)
#: tuples, which `load_user_for_session` puts together, more cheaply than the ORM's joined
#: eager loading of the same rows.
_SESSION_WITH_USER = (
    select(UserSession, User, Membership, Unit.is_active)
    .join(User, User.id == UserSession.user_id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Unit, Unit.id == Membership.unit_id)
    .where(UserSession.id == bindparam("session_id"))
)

#: Keys of the Flask session that outlive logging in and out (not tied to who is logged in).
_KEPT_ACROSS_LOGIN = ("language",)
#: The session's mark that its language was chosen while nobody was logged in, for the login
#: that follows: the language a previous person left in a shared browser is not a choice.
CHOSEN_BEFORE_LOGIN = "language_chosen"


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # the flash is stored in the session: no lazy strings
    login_manager.session_protection = None  # the server-side row is the protection
    login_manager.user_loader(load_user_for_session)
    app.jinja_env.globals["session_seconds_left"] = seconds_left
    app.jinja_env.globals["session_tab_key"] = tab_key


def look_up_nobody():
    """For the rest of this request, a user not yet loaded stays a visitor: the session row is
    not read. For a page that must not reach for the database again (the outage page); the
    cookie is left as it is, so the user is still logged in on the next request."""
    g.handover_look_up_nobody = True


def load_user_for_session(session_id):
    if g.get("handover_look_up_nobody"):
        return None
    rows = db.session.execute(_SESSION_WITH_USER, {"session_id": session_id}).all()
    if not rows or rows[0][0].revoked_at is not None:
        return None
    row, user = rows[0][0], rows[0][1]
    set_committed_value(row, "user", user)
    # All of them in the one query; only the confirmed ones give access (`User.memberships`),
    # the rest tell the home page why someone sees nothing yet.
    held = [m for _, _, m, _ in rows if m is not None]
    set_committed_value(user, "all_memberships", held)
    # As `User.memberships` reads them: confirmed, of a unit still active.
    set_committed_value(user, "memberships", [m for _, _, m, active in rows if m is not None
                                              and m.confirmed_at is not None and active])
    set_committed_value(user, "pending_memberships",
                        [m for m in held if m.confirmed_at is None])
    now = utcnow()
    config = current_app.config
    if (
        now - row.last_seen_at > config["IDLE_TIMEOUT"]
        or now - row.created_at > config["ABSOLUTE_TIMEOUT"]
        or not row.user.active
    ):
        row.revoked_at = now
        db.session.commit()
        return None
    if now - row.last_seen_at > config.get("SESSION_TOUCH_INTERVAL", TOUCH_INTERVAL):
        row.last_seen_at = now
        db.session.commit()
    user.current_session = row
    return user


def _reset_cookie_session():
    kept = {key: session[key] for key in _KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def start(user):
    """Log ``user`` in under a brand-new session id (no fixation: the old cookie is cleared).

    Commits, together with whatever the caller added to the transaction (its audit event).
    A language chosen before logging in (on the login page, not one a previous person left in
    the browser) becomes the account's, as one chosen on the account page does: the person's
    latest choice, kept for their next login on another computer (and their e-mails).
    """
    chosen = session.get("language") if session.get(CHOSEN_BEFORE_LOGIN) else None
    _reset_cookie_session()
    if chosen in current_app.config["LANGUAGES"]:
        user.language = chosen
    row = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        client_address=(request.remote_addr or "")[:64],
    )
    db.session.add(row)
    db.session.commit()
    user.current_session = row
    login_user(user)
    known_devices.remember(user.email)


def renew(user):
    """Move the logged-in ``user`` to a new session id, keeping the session's start (its
    absolute timeout) and the cookie's other state: after a change of the person's own
    credentials, a session id read or planted before the change no longer works. The old
    row is revoked. The caller commits."""
    old = user.current_session
    row = UserSession(id=secrets.token_urlsafe(32), user_id=user.id,
                      client_address=(request.remote_addr or "")[:64])
    if old is not None:
        old.revoked_at = utcnow()
        row.created_at = old.created_at
    db.session.add(row)
    user.current_session = row
    login_user(user)


def end(user):
    """Revoke the current session row and clear the cookie. Commits."""
    if user.current_session is not None:
        user.current_session.revoked_at = utcnow()
    db.session.commit()
    logout_user()
    _reset_cookie_session()


def seconds_left(user):
    """Seconds until the session of ``user`` (the logged-in one) ends unless used again: the
    idle or the absolute timeout, whichever comes first. None without a session row. The page
    warns before this (`static/js/session-timeout.js`)."""
    row = getattr(user, "current_session", None)
    if row is None:
        return None
    config = current_app.config
    ends = min(row.last_seen_at + config["IDLE_TIMEOUT"],
               row.created_at + config["ABSOLUTE_TIMEOUT"])
    return max(int((ends - utcnow()).total_seconds()), 0)


def tab_key(user):
    """What the tabs of one session call it when they tell each other when it ends
    (`static/js/session-timeout.js`): a keyed hash of the session id, which itself never
    reaches a page. Another session in the same browser (after logging out and in again) has
    another key, so its tabs do not take each other's times. None without a session row."""
    row = getattr(user, "current_session", None)
    if row is None:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"session-tabs:" + row.id.encode(), hashlib.sha256).hexdigest()[:24]


def refresh(user):
    """"Stay signed in": the session counts as used now, whatever `TOUCH_INTERVAL` says.
    Commits. Returns the seconds left afterwards."""
    row = user.current_session
    row.last_seen_at = utcnow()
    db.session.commit()
    return seconds_left(user)


def credentials_stamp(user):
    """A keyed fingerprint of what a login of ``user`` rests on: the password hash, the stored
    TOTP secret (or its absence), whether password login is on and whether the account is
    active. A half-finished login keeps it in the signed cookie (`login.pending_user`), so a
    reset, a password change, turning password login off or a deactivation ends that login
    too, as `revoke_all` ends the server-side sessions. Keyed with the app's secret: the cookie
    is signed, not sealed, and must never show the hash or the secret."""
    key = current_app.config["SECRET_KEY"].encode()
    parts = (str(user.id), user.password_hash or "", user.totp_secret or "",
             str(bool(user.password_login)), str(bool(user.active)))
    message = "login-credentials:" + "\x1f".join(parts)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def revoke_all(user_id, *, except_session_id=None):
    """End every open session of a user (deactivation, password reset or change), except
    ``except_session_id`` (the browser that changed its own password). Caller commits.
    Half-finished logins end with the change that called this (`credentials_stamp`)."""
    condition = [UserSession.user_id == user_id, UserSession.revoked_at.is_(None)]
    if except_session_id is not None:
        condition.append(UserSession.id != except_session_id)
    db.session.execute(
        update(UserSession).where(*condition).values(revoked_at=utcnow())
    )


__all__ = ["User", "credentials_stamp", "end", "renew", "init_app", "load_user_for_session",
           "look_up_nobody", "refresh", "revoke_all", "seconds_left", "start"]
