"""The security review's login findings, played as the attacker and the user would.

A. A half-finished login (password given, code not yet) must end when the account's
   credentials change under it: an administrator's reset (of the password, of two-factor, or
   password login turned off), the user's own password change, a deactivation. Otherwise
   whoever gave the old password could enrol an authenticator of their own after the reset.
B. A page number too large for the database's integer answers a page, not a 500.
"""

from datetime import timedelta

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from handover.security import totp
from handover.security.login import ENROL_KEY
from handover.services import sso_accounts
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, User
from handover.store.models.base import utcnow
from tests.support import (
    PASSWORD,
    create_unit,
    create_user,
    enrolment_secret_in,
    login,
    totp_code,
)

EXPIRED = "Your login took too long. Log in again."
NEW_PASSWORD = "the user's own brand new passphrase"


def browser(app):
    client = FlaskClient(app, app.response_class, use_cookies=True)
    with client.session_transaction() as cookie_session:
        cookie_session["language"] = "en"
    return client


@pytest.fixture
def admin_browser(app):
    with app.app_context():
        admin = create_user("admin@example.fi", admin=True)
        client = browser(app)
        login(client, admin)
    return client


@pytest.fixture
def victim(app):
    """The user whose account is attacked, with an authenticator enrolled: (id, e-mail)."""
    with app.app_context():
        user = create_user("terveydenhoitaja@example.fi")
        return user.id, user.email


def half_finished_login(app, email, password=PASSWORD):
    """The attacker's browser after the password step: waiting at the code step."""
    attacker = browser(app)
    step = attacker.post("/login", data={"email": email, "password": password})
    assert step.status_code == 302 and step.location.endswith("/login/totp"), step.location
    return attacker


def enrolled_events(app):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.totp_enrolled")).all()


def assert_sent_back_to_sign_in(attacker, response):
    assert response.status_code == 302 and response.location == "/login", response.location
    assert EXPIRED in attacker.get("/login").get_data(as_text=True)
    assert attacker.get("/").status_code == 302  # not signed in


# --- A. a half-finished login ends with a reset -------------------------------------------------


def test_a_two_factor_reset_ends_a_half_finished_login_so_no_authenticator_can_be_enrolled(
        app, admin_browser, victim):
    user_id, email = victim
    attacker = half_finished_login(app, email)
    reset = admin_browser.post(f"/admin/users/{user_id}/reset-password",
                               data={"reset_two_factor": "y"})
    assert reset.status_code == 200

    assert_sent_back_to_sign_in(attacker, attacker.get("/login/enrol"))
    # Even holding a secret of their own in the enrolment state, the attacker enrols nothing.
    attackers_secret = pyotp.random_base32()
    with attacker.session_transaction() as cookie_session:
        cookie_session[ENROL_KEY] = {"user_id": user_id, "secret": attackers_secret}
    answer = attacker.post("/login/enrol", data={"code": pyotp.TOTP(attackers_secret).now()})
    assert_sent_back_to_sign_in(attacker, answer)
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret is None
    assert enrolled_events(app) == []

    # The user signs in with the temporary password and sets up their own authenticator.
    temporary = reset.get_data(as_text=True).split('<code class="secret">')[1].split("<")[0]
    user = browser(app)
    step = user.post("/login", data={"email": email, "password": temporary})
    assert step.location.endswith("/login/enrol")
    page = user.get("/login/enrol")
    assert page.status_code == 200
    secret = enrolment_secret_in(page.get_data(as_text=True))
    enrolled = user.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert enrolled.status_code == 302 and enrolled.location == "/account/password"
    with app.app_context():
        assert totp.secret_of(db.session.get(User, user_id)) == secret


def test_a_password_reset_ends_a_half_finished_login_at_the_code_step(app, admin_browser,
                                                                      victim):
    user_id, email = victim
    attacker = half_finished_login(app, email)
    admin_browser.post(f"/admin/users/{user_id}/reset-password", data={})
    with app.app_context():
        code = totp_code(db.session.get(User, user_id))
    assert_sent_back_to_sign_in(attacker, attacker.post("/login/totp", data={"code": code}))


def test_the_users_own_password_change_ends_a_half_finished_login_elsewhere(app, victim):
    user_id, email = victim
    attacker = half_finished_login(app, email)
    with app.app_context():
        own = browser(app)
        login(own, db.session.get(User, user_id))
    changed = own.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:500]
    with app.app_context():
        code = totp_code(db.session.get(User, user_id))
    assert_sent_back_to_sign_in(attacker, attacker.post("/login/totp", data={"code": code}))


def test_turning_password_login_off_ends_a_half_finished_login(app, victim):
    user_id, email = victim
    attacker = half_finished_login(app, email)
    with app.app_context():
        user = db.session.get(User, user_id)
        sso_accounts.link(user, "https://login.example.fi", "subject-1")
        sso_accounts.set_password_login(user, False)
    assert_sent_back_to_sign_in(attacker, attacker.get("/login/totp"))


# --- B. a page number beyond any integer --------------------------------------------------------


@pytest.fixture
def two_pages(app):
    """21 handovers sent from Sam's unit to Anna's: two pages of each one's list."""
    with app.app_context():
        sending, receiving = create_unit("Sending"), create_unit("Receiving")
        create_user("anna@example.fi", memberships=[(receiving, "receiver")])
        create_user("sam@example.fi", memberships=[(sending, "sender")])
        start = utcnow() - timedelta(days=1)
        for number in range(21):
            sent_at = start + timedelta(minutes=number)
            db.session.add(Handover(form_key="some_form", form_version=1, status="acknowledged",
                                    sender_unit_id=sending.id, receiver_unit_id=receiving.id,
                                    created_by_id=1, sent_at=sent_at, erased_at=sent_at))
        db.session.commit()


@pytest.mark.parametrize("path, email", [("/handovers/inbox", "anna@example.fi"),
                                         ("/handovers/outbox", "sam@example.fi")])
def test_a_page_number_too_large_for_the_database_shows_an_empty_page_with_the_way_back(
        app, two_pages, path, email):
    """As a small overshoot does: the list's page, with no rows and the filters to go on."""
    with app.app_context():
        client = browser(app)
        login(client, db.session.scalar(select(User).where(User.email == email)))
    for number in ("400", "99999999999999999999999"):
        answer = client.get(f"{path}?page={number}")
        assert answer.status_code == 200, number
        page = answer.get_data(as_text=True)
        assert "No handovers." in page and f'href="{path}"' in page, number
