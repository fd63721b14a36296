"""What the four-eyes tests share: a browser per person, the temporary password an
administrator is shown, signing in with it as an attacker would, the audit events of one
action, and the fixtures of a sent handover and two administrators' browsers (a test module
takes a fixture by assigning it: ``admin = four_eyes_support.admin``)."""

import re

import pytest
from flask.testing import FlaskClient
from lifecycle_support import login_as, send_handover
from sqlalchemy import select
from support import create_user, enrolment_secret_in

from handover.store.database import db
from handover.store.models import AuditEvent, Membership, User

NEW_PASSWORD = "an attacker's own long passphrase"


def browser(app, user=None):
    """A browser of its own (each person in these stories has one), logged in as ``user``."""
    client = FlaskClient(app, app.response_class, use_cookies=True)
    if user is not None:
        login_as(client, app, user)
    return client


def temporary_password_in(response):
    return re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True))[1]


def sign_in_with_temporary(client, email, temporary):
    """What the administrator does with a temporary password they were shown: sign in, enrol an
    authenticator of their own, choose a password. Ends signed in, past every forced step."""
    import pyotp

    step = client.post("/login", data={"email": email, "password": temporary})
    assert step.status_code == 302 and step.location.endswith("/login/enrol"), step.location
    secret = enrolment_secret_in(client.get("/login/enrol").get_data(as_text=True))
    enrolled = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert enrolled.status_code == 302
    changed = client.post("/account/password", data={
        "current_password": temporary, "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:800]
    assert client.get("/").status_code == 200
    with client.session_transaction() as cookie_session:
        cookie_session["language"] = "en"


def membership_id(app, email, unit_id, role):
    with app.app_context():
        return db.session.execute(
            select(Membership.id).join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.unit_id == unit_id,
                   Membership.role == role)).scalar_one_or_none()


def events(app, action):
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def sent(app, world):
    """A handover sent from the sending unit to the receiving unit; its id."""
    with app.app_context():
        return send_handover(world)


@pytest.fixture
def admin(app, world):
    """The world's administrator's browser, logged in."""
    return browser(app, world.users["admin"])


@pytest.fixture
def other_admin(app, world):
    """A second administrator's browser, logged in: the other pair of eyes."""
    with app.app_context():
        second = create_user("second.admin@example.test", admin=True)
        db.session.refresh(second)
        db.session.expunge(second)
    return browser(app, second)
