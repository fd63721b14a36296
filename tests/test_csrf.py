"""With CSRF protection on (as in production), a state-changing request without a token from our
own page is refused."""

import re

import pyotp
import pytest
from sqlalchemy import select

from handover.security import totp
from handover.store.database import db
from handover.store.models import UserSession
from tests.support import PASSWORD, create_user

# Requests here run outside any app context of the test: Flask-WTF caches the token on `g`,
# which a shared context would carry from one request (and browser) to the next.


@pytest.fixture
def app(app_config, request):
    """The usual app, but with CSRF protection switched back on."""
    app_config["WTF_CSRF_ENABLED"] = True
    return request.getfixturevalue("app")


def token(client, path):
    """The CSRF token a page of ours hands this browser."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def anna(app):
    """An enrolled user, as (e-mail, TOTP secret)."""
    with app.app_context():
        user = create_user("anna@example.fi")
        return user.email, totp.secret_of(user)


def login_with_tokens(client, account):
    email, secret = account
    client.post("/login", data={"email": email, "password": PASSWORD,
                                "csrf_token": token(client, "/login")})
    return client.post("/login/totp", data={"code": pyotp.TOTP(secret).now(),
                                            "csrf_token": token(client, "/login/totp")})


def test_login_without_csrf_token_is_refused(client, anna):
    email, _ = anna
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 400


def test_login_with_csrf_token_from_our_page_works(client, anna):
    response = login_with_tokens(client, anna)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_logout_without_token_is_refused_and_session_survives(app, client, anna):
    login_with_tokens(client, anna)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.execute(select(UserSession.revoked_at)).scalar() is None
    response = client.post("/logout", data={"csrf_token": token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_without_token_is_refused(client, anna):
    login_with_tokens(client, anna)
    new = "a different long passphrase"
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "repeat_password": new})
    assert response.status_code == 400


def test_token_of_another_browser_is_refused(app, client, anna):
    attacker = app.test_client()
    stolen_token = token(attacker, "/login")
    response = client.post("/login", data={"email": anna[0], "password": PASSWORD,
                                           "csrf_token": stolen_token})
    assert response.status_code == 400


def test_form_posted_over_https_without_referer_is_accepted(client, anna):
    """Our Referrer-Policy is no-referrer, so browsers send no Referer even to us."""
    email, _ = anna
    response = client.post("/login", base_url="https://localhost",
                           data={"email": email, "password": PASSWORD,
                                 "csrf_token": token(client, "/login")})
    assert response.status_code == 302


def test_post_the_browser_marks_cross_site_is_refused(client, anna):
    email, _ = anna
    response = client.post("/login", headers={"Sec-Fetch-Site": "cross-site"},
                           data={"email": email, "password": PASSWORD,
                                 "csrf_token": token(client, "/login")})
    assert response.status_code == 403
