"""Server-side sessions: what ends them (logout, deactivation, timeouts, a password change) and
what the cookie looks like."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from handover.store.database import db
from handover.store.models import UserSession
from handover.store.models.base import utcnow
from tests.support import PASSWORD, create_user, login

COOKIE = "handover_session"


def only_session():
    return db.session.execute(select(UserSession)).scalars().one()


def replay(app, cookie_value):
    """A second browser (an attacker) that presents a copied cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie_value)
    return other.get("/")


def test_session_cookie_is_not_valid_after_logout(app, client):
    with app.app_context():
        login(client, create_user("anna@example.fi"))
    stolen = client.get_cookie(COOKIE).value
    assert replay(app, stolen).status_code == 200
    client.post("/logout")
    response = replay(app, stolen)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_each_login_gets_a_new_session_id(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        before = client.get_cookie(COOKIE).value
        login(client, user)
        first = only_session().id
        client.post("/logout")
        login(client, user)
        ids = {row.id for row in db.session.execute(select(UserSession)).scalars()}
    assert len(ids) == 2 and first in ids
    # The pre-login cookie carries no session: replayed, it reaches nothing.
    assert replay(app, before).status_code == 302


def test_deactivated_users_open_session_is_refused_on_next_request(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
        assert client.get("/").status_code == 200
        user.active = False
        db.session.commit()
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert only_session().revoked_at is not None


@pytest.mark.parametrize("column, age, still_valid", [
    ("last_seen_at", timedelta(minutes=29), True),
    ("last_seen_at", timedelta(minutes=31), False),
    ("created_at", timedelta(hours=11, minutes=59), True),
    ("created_at", timedelta(hours=12, minutes=1), False),
])
def test_idle_and_absolute_timeouts(app, client, column, age, still_valid):
    with app.app_context():
        login(client, create_user("anna@example.fi"))
        row = only_session()
        setattr(row, column, utcnow() - age)
        db.session.commit()
        response = client.get("/")
        assert (response.status_code == 200) is still_valid
        if not still_valid:
            assert response.headers["Location"].startswith("/login")
            assert only_session().revoked_at is not None
            # Coming back with the same cookie later does not revive it.
            assert client.get("/").status_code == 302


def test_timeouts_come_from_configuration(app_config, request):
    app_config["IDLE_TIMEOUT"] = timedelta(minutes=5)
    app = request.getfixturevalue("app")
    client = app.test_client()
    with app.app_context():
        login(client, create_user("anna@example.fi"))
        row = only_session()
        row.last_seen_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
        assert client.get("/").status_code == 302


def test_activity_keeps_the_session_alive(app, client):
    with app.app_context():
        login(client, create_user("anna@example.fi"))
        row = only_session()
        row.last_seen_at = utcnow() - timedelta(minutes=20)
        db.session.commit()
        assert client.get("/").status_code == 200
        assert utcnow() - only_session().last_seen_at < timedelta(minutes=1)


def test_password_change_ends_the_users_other_sessions(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        other_browser = app.test_client()
        login(other_browser, user)
        login(client, user)
        response = client.post("/account/password", data={
            "current_password": PASSWORD,
            "new_password": "a brand new long passphrase",
            "repeat_password": "a brand new long passphrase",
        })
        assert response.status_code == 302
        assert client.get("/").status_code == 200
        assert other_browser.get("/").status_code == 302


def test_a_password_change_moves_the_browser_to_a_new_session_id(app, client):
    """A session id read (or planted) before the change no longer works after it; the browser
    that changed it goes on, within the same absolute time limit."""
    with app.app_context():
        login(client, create_user("anna@example.fi"))
        before = client.get_cookie(COOKIE).value
        started = only_session().created_at
        assert client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": "a brand new long passphrase",
            "repeat_password": "a brand new long passphrase"}).status_code == 302
        assert client.get("/").status_code == 200
        assert replay(app, before).status_code == 302
        alive = db.session.execute(select(UserSession).where(
            UserSession.revoked_at.is_(None))).scalars().one()
        assert alive.created_at == started


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    with app.app_context():
        response = login(client, create_user("anna@example.fi"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_behind_https(app_config, request):
    app_config["HTTPS"] = True
    app = request.getfixturevalue("app")
    client = app.test_client()
    with app.app_context():
        response = login(client, create_user("anna@example.fi"))
    cookies = response.headers.getlist("Set-Cookie")
    # Kept by the browser only as set over HTTPS, for this host alone (no sibling domain).
    cookie = next(cookie for cookie in cookies if cookie.startswith("__Host-handover_session="))
    assert "Secure" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
