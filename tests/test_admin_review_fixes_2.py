"""The second review of the admin pages: the code that confirms a new integration client is
throttled like the login's code step and a wrong one is audited; an administrator without an
authenticator app (one who signs in through the organisation) is told why they cannot create a
client; the help under a checkbox is shown and every aria-describedby points at a text on the
page; retrying or removing something that does not exist is 404."""

import time
from datetime import timedelta
from html.parser import HTMLParser

import pyotp
import pytest
from lifecycle_support import login_as
from sqlalchemy import select, update
from support import create_user, text_of, totp_code

from handover.formdefs.content import today
from handover.security import totp
from handover.services import deliveries
from handover.store.database import db
from handover.store.models import AuditEvent, Delivery, IntegrationClient, User, WebhookEndpoint

NO_AUTHENTICATOR = ("Your account has no authenticator app, so it cannot confirm a new "
                    "integration client. Ask another administrator to create the client.")
ENROL_BY_PASSWORD = "log out and log in with your e-mail address and password"
ENROL_THROUGH_ADMIN = "turn password login on for your account and reset its password"
NOT_VALID = "The code is not valid"
TOO_MANY = "Too many wrong codes"


def in_finnish(client):
    with client.session_transaction() as session:
        session["language"] = "fi"
    return client


def client_form(code, **overrides):
    return {"name": "Ward EHR", "unit": "1", "scopes": ["inbox:read"],
            "expires_on": (today() + timedelta(days=90)).isoformat(), "code": code,
            **overrides}


def wrong_code(app, user_id):
    """A six-digit code the server refuses now: none of the codes of the steps it accepts."""
    with app.app_context():
        secret = totp.secret_of(db.session.get(User, user_id))
    otp, step = pyotp.TOTP(secret), int(time.time()) // 30
    valid = {otp.at((step + shift) * 30) for shift in range(-2, 3)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in valid)


def refusals(app):
    with app.app_context():
        return list(db.session.execute(
            select(AuditEvent.actor_id, AuditEvent.outcome, AuditEvent.detail)
            .where(AuditEvent.action == "integration_client.code_refused")
            .order_by(AuditEvent.id)).all())


def client_names(app):
    with app.app_context():
        return list(db.session.execute(select(IntegrationClient.name)).scalars())


# --- 2. the code that confirms a new client: throttled and audited ----------------------------


def test_wrong_codes_are_audited_and_the_sixth_is_refused_with_429(app, admin_client, admin):
    code = wrong_code(app, admin)
    for _ in range(5):
        response = admin_client.post("/admin/clients", data=client_form(code))
        assert response.status_code == 200 and NOT_VALID in text_of(response)
    assert refusals(app) == [(admin, "denied", "wrong_code")] * 5
    throttled = admin_client.post("/admin/clients", data=client_form(code))
    assert throttled.status_code == 429
    assert TOO_MANY in text_of(throttled)
    # Even the right code waits out the minute: the guesses were spent.
    with app.app_context():
        right = totp_code(db.session.get(User, admin))
    assert admin_client.post("/admin/clients", data=client_form(right)).status_code == 429
    assert client_names(app) == []
    assert admin_client.get("/admin/clients").status_code == 200   # the page itself stays


def test_the_limit_is_told_in_finnish(app, admin_client, admin):
    code = wrong_code(app, admin)
    in_finnish(admin_client)
    for _ in range(5):
        admin_client.post("/admin/clients", data=client_form(code))
    throttled = admin_client.post("/admin/clients", data=client_form(code))
    assert throttled.status_code == 429
    assert "Liian monta väärää koodia" in text_of(throttled)


def test_a_right_code_is_not_counted_and_creates_the_client(app, admin_client, admin):
    for _ in range(6):
        with app.app_context():
            right = totp_code(db.session.get(User, admin))
        name = f"EHR {_}"
        response = admin_client.post("/admin/clients", data=client_form(right, name=name))
        assert response.status_code == 200 and name in text_of(response)
    assert len(client_names(app)) == 6 and refusals(app) == []


# --- 3. an administrator without an authenticator app ------------------------------------


@pytest.fixture
def sso_admin(app, admin):
    """An administrator who signs in only through the organisation: no TOTP secret."""
    with app.app_context():
        user = create_user("sso.admin@example.fi", admin=True, enrolled=False)
        user.password_login = False
        db.session.commit()
        return user.id


def test_the_page_says_why_instead_of_asking_for_a_code(app, client, sso_admin):
    login_as(client, app, type("Sso", (), {"id": sso_admin}))
    response = client.get("/admin/clients")
    assert response.status_code == 200
    page = text_of(response)
    assert NO_AUTHENTICATOR in page and ENROL_THROUGH_ADMIN in page
    assert 'name="code"' not in response.get_data(as_text=True)


def test_a_form_sent_without_an_app_is_refused_with_the_reason(app, client, sso_admin):
    login_as(client, app, type("Sso", (), {"id": sso_admin}))
    response = client.post("/admin/clients", data=client_form("123456"))
    assert response.status_code == 403
    assert NO_AUTHENTICATOR in text_of(response)
    assert NOT_VALID not in text_of(response)
    assert client_names(app) == []
    assert refusals(app) == [(sso_admin, "denied", "no_authenticator")]


def test_an_account_with_password_login_is_told_to_log_in_with_it(app, client, sso_admin):
    with app.app_context():
        db.session.execute(update(User).where(User.id == sso_admin).values(password_login=True))
        db.session.commit()
    login_as(client, app, type("Sso", (), {"id": sso_admin}))
    page = text_of(client.get("/admin/clients"))
    assert NO_AUTHENTICATOR in page and ENROL_BY_PASSWORD in page


def test_the_reason_is_told_in_finnish(app, client, sso_admin):
    login_as(client, app, type("Sso", (), {"id": sso_admin}))
    page = text_of(in_finnish(client).get("/admin/clients"))
    assert "Tunnuksellasi ei ole todennussovellusta" in page
    assert "integraatioasiakasta" in page


# --- 6. the help under a checkbox is shown, and every reference reaches a text ------------


class Ids(HTMLParser):
    """The ids of a page's elements, each with its attributes and the classes of the elements
    around it."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "area", "col", "wbr"}

    def __init__(self, page):
        super().__init__()
        self.by_id, self.text, self.enclosing, self._open = {}, {}, {}, []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
            self.text[attributes["id"]] = ""
            self.enclosing[attributes["id"]] = [
                cls for _tag, own in self._open for cls in (own.get("class") or "").split()]
        if tag not in self.VOID:
            self._open.append((tag, attributes))

    def handle_data(self, data):
        for _tag, attributes in self._open:
            if "id" in attributes:
                self.text[attributes["id"]] += data

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break


def describedby_ids(page):
    """Every id named by an aria-describedby on the page, whether the element has an id or not."""
    names = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names.extend((dict(attrs).get("aria-describedby") or "").split())

    Collect().feed(page)
    return names


@pytest.mark.parametrize("path", ["/admin/users/{admin}", "/admin/users/new"])
def test_every_described_by_reaches_a_text_on_the_page(app, admin_client, admin, path):
    page = admin_client.get(path.format(admin=admin)).get_data(as_text=True)
    ids = Ids(page)
    named = describedby_ids(page)
    assert "admin-help" in named and "auditor-help" in named
    missing = [name for name in named if name not in ids.by_id]
    assert not missing, missing
    assert "Manages units, users and plugins. Cannot read handovers." in ids.text["admin-help"]
    assert "Reads the audit log." in ids.text["auditor-help"]
    for name in ("admin-help", "auditor-help"):
        assert "govuk-checkboxes__hint" in ids.by_id[name]["class"].split()
        assert "govuk-checkboxes__item" in ids.enclosing[name]


def test_the_reset_two_factor_help_is_shown(app, admin_client, admin):
    with app.app_context():
        colleague = create_user("colleague@example.test").id
    page = admin_client.get(f"/admin/users/{colleague}").get_data(as_text=True)
    ids = Ids(page)
    described = ids.by_id["reset_two_factor"].get("aria-describedby", "").split()
    assert described == ["reset_two_factor-help"]
    assert ids.text["reset_two_factor-help"].strip()


def test_the_help_is_shown_in_finnish(app, admin_client, admin):
    page = in_finnish(admin_client).get("/admin/users/new").get_data(as_text=True)
    ids = Ids(page)
    assert ids.text["admin-help"].strip() and "Manages" not in ids.text["admin-help"]


# --- 7. retrying or removing what does not exist is 404 ----------------------------------


def test_retrying_an_unknown_delivery_is_404(app, admin_client):
    response = admin_client.post("/admin/deliveries/99999/retry")
    assert response.status_code == 404
    follow = admin_client.get("/admin/deliveries")
    assert "cannot be retried" not in text_of(follow)


def test_removing_an_unknown_endpoint_is_404(app, admin_client):
    assert admin_client.post("/admin/webhooks/99999/remove").status_code == 404


def test_a_delivered_row_is_still_told_why_it_is_not_retried(app, admin_client):
    with app.app_context():
        row_id = deliveries.add("email", "arrived", None, "unit@example.fi")
        db.session.execute(update(Delivery).where(Delivery.id == row_id)
                           .values(status="delivered"))
        db.session.commit()
    response = admin_client.post(f"/admin/deliveries/{row_id}/retry", follow_redirects=True)
    assert response.status_code == 200
    assert "This delivery cannot be retried: it was delivered or is being sent." in text_of(
        response)


def test_a_failed_row_is_retried(app, admin_client):
    with app.app_context():
        row_id = deliveries.add("email", "arrived", None, "unit@example.fi")
        db.session.execute(update(Delivery).where(Delivery.id == row_id).values(status="failed"))
        db.session.commit()
    response = admin_client.post(f"/admin/deliveries/{row_id}/retry", follow_redirects=True)
    assert "The delivery will be tried again now." in text_of(response)


def test_an_endpoint_removed_twice_is_no_404(app, admin_client):
    with app.app_context():
        endpoint = WebhookEndpoint(unit_id=1, url="https://ehr.example.test/hook",
                                   events="arrived", active=False)
        db.session.add(endpoint)
        db.session.commit()
        endpoint_id = endpoint.id
    assert admin_client.post(f"/admin/webhooks/{endpoint_id}/remove").status_code == 302


def test_unknown_ids_are_404_with_csrf_on(app, admin_client):
    """As the reviewer sent them: with a valid CSRF token."""
    app.config["WTF_CSRF_ENABLED"] = True
    page = admin_client.get("/admin/deliveries").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for path in ("/admin/deliveries/99999/retry", "/admin/webhooks/99999/remove",
                 "/admin/clients/99999/revoke"):
        assert admin_client.post(path, data={"csrf_token": token}).status_code == 404, path
