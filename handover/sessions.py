"""Server-side sessions behind Flask-Login.

The signed cookie holds only a random session id. Each request looks the row up, so a logout, a
deactivation or a timeout ends the session on the server at once, whatever the browser kept.
"""

import secrets

from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import update

from handover.extensions import db, login_manager
from handover.models import User, UserSession
from handover.models.base import utcnow


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # the server-side row is the protection
    login_manager.user_loader(load_user_for_session)


def load_user_for_session(session_id):
    row = db.session.get(UserSession, session_id)
    if row is None or row.revoked_at is not None:
        return None
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
    row.last_seen_at = now
    db.session.commit()
    user = row.user
    user.current_session = row
    return user


def start(user):
    """Log ``user`` in under a brand-new session id (no fixation: the old cookie is cleared)."""
    preferred_language = session.get("language")
    session.clear()
    if preferred_language:
        session["language"] = preferred_language
    row = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        client_address=(request.remote_addr or "")[:64],
    )
    db.session.add(row)
    db.session.commit()
    user.current_session = row
    login_user(user)


def end(user):
    """Revoke the current session row and clear the cookie."""
    if user.current_session is not None:
        user.current_session.revoked_at = utcnow()
        db.session.commit()
    logout_user()
    preferred_language = session.get("language")
    session.clear()
    if preferred_language:
        session["language"] = preferred_language


def revoke_all(user_id):
    """End every open session of a user (deactivation, password reset). Caller commits."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


__all__ = ["User", "end", "init_app", "load_user_for_session", "revoke_all", "start"]
