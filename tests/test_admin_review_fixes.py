"""What an administrator sees after the review of the admin pages: one person is never both
administrator and auditor and the last administrator stays; an integration client's account is
no person's and cannot be made a login; webhook addresses, unit e-mail addresses and unit names
are checked with a message on the field; the uploaded forms say when their plugin is off; the
integration-client form puts each refusal under its own field, in the admin's language."""

import html
import io
import re
from datetime import timedelta

import pytest
from form_upload_support import KEY, package
from lifecycle_support import login_as
from support import create_user, error_summary, text_of, totp_code

from handover.cli import cli
from handover.formdefs.content import today
from handover.services import accounts, integration_clients, policy
from handover.store.database import db
from handover.store.models import IntegrationClient, Unit, User, WebhookEndpoint
from handover.store.models.base import utcnow

BOTH_ROLES = "One person cannot be both an administrator and an auditor"
LAST_ADMIN = "is the only active administrator"


@pytest.fixture
def app_config(app_config):
    """The CLI answers in English, as the pages do for `login_as`."""
    return {**app_config, "CLI_LANGUAGE": "en"}


def checked(page, attribute):
    """Whether the input with ``attribute`` (such as 'id="admin"') is ticked."""
    return any("checked" in tag for tag in re.findall(r"<input[^>]*>", page) if attribute in tag)


def in_finnish(client):
    with client.session_transaction() as session:
        session["language"] = "fi"
    return client


# --- 2. administrator or auditor, never both; the last administrator stays ------------------


def test_admin_cannot_make_himself_auditor_too(app, admin_client, admin):
    response = admin_client.post(f"/admin/users/{admin}/roles",
                                 data={"admin": "y", "auditor": "y"})
    assert response.status_code == 400
    summary = error_summary(response)
    assert BOTH_ROLES in summary and 'href="#auditor"' in summary
    page = response.get_data(as_text=True)
    assert checked(page, 'id="admin"') and checked(page, 'id="auditor"')  # as he ticked
    with app.app_context():
        assert not db.session.get(User, admin).is_auditor
    assert admin_client.get("/audit/").status_code == 404


def test_a_new_user_is_not_made_both_and_the_typed_values_stay(app, admin_client):
    response = admin_client.post("/admin/users/new", data={
        "email": "kaisa@example.fi", "name": "Kaisa Koskinen", "admin": "y", "auditor": "y"})
    summary = error_summary(response)
    assert BOTH_ROLES in summary and 'href="#auditor"' in summary
    page = response.get_data(as_text=True)
    assert 'value="kaisa@example.fi"' in page and 'value="Kaisa Koskinen"' in page
    with app.app_context():
        assert accounts.find_user("kaisa@example.fi") is None


def test_the_rule_is_told_in_finnish(app, admin_client, admin):
    response = in_finnish(admin_client).post(f"/admin/users/{admin}/roles",
                                             data={"admin": "y", "auditor": "y"})
    assert ("Sama henkilö ei voi olla sekä pääkäyttäjä että lokien tarkastaja"
            in error_summary(response))


@pytest.mark.parametrize("command", [
    ["users", "set-roles", "admin@example.fi", "--admin", "--auditor"],
    ["users", "create", "--email", "new@example.fi", "--name", "New", "--admin", "--auditor"],
])
def test_the_command_line_refuses_both_roles(app, runner, admin, command):
    result = runner.invoke(cli, args=command)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert BOTH_ROLES in result.output
    with app.app_context():
        assert not db.session.get(User, admin).is_auditor
        assert accounts.find_user("new@example.fi") is None


def test_an_account_left_with_both_roles_reads_no_audit_log(app, client):
    with app.app_context():
        both = create_user("both@example.fi", admin=True, auditor=True)
        assert not policy.is_auditor(both)
    login_as(client, app, both)
    assert client.get("/audit/").status_code == 404
    assert client.post("/audit/child-report",
                       data={"identity_code": "010594Y9032"}).status_code == 404


def test_set_roles_without_flags_keeps_the_last_admin(app, runner, admin):
    result = runner.invoke(cli, args=["users", "set-roles", "admin@example.fi"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert LAST_ADMIN in result.output
    with app.app_context():
        assert db.session.get(User, admin).is_admin


def test_the_last_admin_is_not_deactivated_from_the_command_line(app, runner, admin):
    result = runner.invoke(cli, args=["users", "deactivate", "admin@example.fi"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert LAST_ADMIN in result.output
    with app.app_context():
        assert db.session.get(User, admin).active


def test_with_a_second_admin_the_role_can_be_taken_away(app, runner, admin_client, admin):
    with app.app_context():
        other = create_user("toinen@example.fi", admin=True).id
    assert admin_client.post(f"/admin/users/{other}/roles", data={}).status_code == 302
    with app.app_context():
        assert not db.session.get(User, other).is_admin
        with pytest.raises(accounts.AccountError, match=LAST_ADMIN):
            accounts.set_system_roles(db.session.get(User, admin), False, False)


# --- 3. an integration client's account is no person's --------------------------------------


@pytest.fixture
def archive_account(app, admin):
    """The account of an auditor's archive client (scope audit:read), as /admin/clients
    makes it."""
    with app.app_context():
        client, _token = integration_clients.create(
            db.session.get(User, admin), "Arkisto", None, {"audit:read"},
            utcnow() + timedelta(days=30))
        return client.account_id


def test_the_clients_account_is_not_listed(app, admin_client, archive_account):
    page = text_of(admin_client.get("/admin/users"))
    assert "Ylläpitäjä" in page and "API: Arkisto" not in page
    assert "API: Arkisto" not in text_of(admin_client.get("/admin/users?q=arkisto"))


@pytest.mark.parametrize("method, path, data", [
    ("get", "/admin/users/{id}", None),
    ("post", "/admin/users/{id}/active", {"active": "1"}),
    ("post", "/admin/users/{id}/reset-password", {}),
    ("post", "/admin/users/{id}/roles", {"admin": "y"}),
    ("post", "/admin/users/{id}/memberships", {"unit": "1", "role": "receiver"}),
])
def test_the_clients_account_cannot_be_made_a_login(app, admin_client, archive_account,
                                                    method, path, data):
    with app.app_context():
        password_hash = db.session.get(User, archive_account).password_hash
    response = getattr(admin_client, method)(path.format(id=archive_account), data=data)
    assert response.status_code == 404
    assert response.status_code == admin_client.get("/admin/users/999999").status_code
    with app.app_context():
        account = db.session.get(User, archive_account)
        assert not account.active and not account.is_admin and not account.memberships
        assert account.password_hash == password_hash


def test_the_services_refuse_the_clients_account_for_any_caller(app, runner, archive_account):
    with app.app_context():
        account = db.session.get(User, archive_account)
        assert accounts.find_person(archive_account) is None
        assert accounts.find_user(account.email) is None
        for action in (lambda: accounts.set_user_active(account, True),
                       lambda: accounts.reset_password(account),
                       lambda: accounts.set_system_roles(account, True, False)):
            with pytest.raises(accounts.AccountError, match="integration client"):
                action()
        email = account.email
        assert not db.session.get(User, archive_account).active
    assert "API: Arkisto" not in runner.invoke(cli, args=["users", "list"]).output
    result = runner.invoke(cli, args=["users", "set-roles", email, "--admin"])
    assert result.exit_code != 0 and "No user" in result.output


# --- 5. webhook addresses -------------------------------------------------------------------


@pytest.mark.parametrize("url, message", [
    ("https://[::1/h", "the server's name is not valid"),
    ("https://exa mple.org/h", "The address cannot contain spaces"),
    ("https://example.org:99999/h", "the port must be a number from 1 to 65535"),
])
def test_a_broken_webhook_address_is_refused_and_the_typed_values_stay(
        app, admin_client, url, message):
    response = admin_client.post("/admin/webhooks", data={
        "endpoint-unit": "1", "endpoint-url": url, "endpoint-events": ["arrived", "opened"]})
    assert response.status_code == 200
    assert message in error_summary(response)
    page = response.get_data(as_text=True)
    assert f'value="{html.escape(url)}"' in page
    assert checked(page, 'value="opened"') and not checked(page, 'value="replied"')
    with app.app_context():
        assert db.session.query(WebhookEndpoint).count() == 0


def test_a_tampered_webhook_event_is_refused_in_finnish(app, admin_client):
    """A value that is none of the checkboxes (only a tampered post sends one) is refused in
    the page's language, not in WTForms' English."""
    response = in_finnish(admin_client).post("/admin/webhooks", data={
        "endpoint-unit": "1", "endpoint-url": "https://example.org/h",
        "endpoint-events": ["arrived", "bogus"]})
    assert response.status_code == 200
    assert "Valitse luettelossa olevista vaihtoehdoista." in error_summary(response)
    assert "not a valid choice" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(WebhookEndpoint).count() == 0


# --- 6. unit e-mail addresses and names -----------------------------------------------------


def test_a_unit_email_address_that_is_none_is_refused(app, admin_client):
    response = admin_client.post("/admin/units", data={
        "unit-name": "Päiväkoti Satakieli", "unit-kind": "daycare",
        "unit-email": "not an email"})
    summary = error_summary(response)
    assert "Enter a valid e-mail address" in summary and 'href="#unit-email"' in summary
    assert 'value="Päiväkoti Satakieli"' in response.get_data(as_text=True)
    response = admin_client.post("/admin/units/1", data={
        "unit-name": "Demo: Koulu Kivikko", "unit-kind": "school", "unit-email": "kivikko@"})
    assert 'href="#unit-email"' in error_summary(response)
    with app.app_context():
        assert db.session.query(Unit).count() == 1
        assert db.session.get(Unit, 1).email == ""


def test_a_unit_name_differing_only_in_case_is_a_duplicate(app, admin_client):
    response = admin_client.post("/admin/units", data={
        "unit-name": "demo: koulu kivikko", "unit-kind": "school"})
    summary = error_summary(response)
    assert "There is already a unit named Demo: Koulu Kivikko" in summary
    assert 'href="#unit-name"' in summary
    with app.app_context():
        assert db.session.query(Unit).count() == 1
    assert admin_client.post("/admin/units/1", data={
        "unit-name": "DEMO: Koulu Kivikko", "unit-kind": "school"}).status_code == 302


# --- 7. the uploaded forms when their plugin is off -----------------------------------------


def test_uploaded_forms_say_they_are_off_while_their_plugin_is(app, admin_client):
    upload = admin_client.post("/admin/uploaded-forms/",
                               data={"file": (io.BytesIO(package()), "special_diet.zip")},
                               content_type="multipart/form-data")
    assert upload.status_code == 302
    assert admin_client.post(f"/admin/uploaded-forms/{KEY}/1/enable").status_code == 302
    assert "not in use" not in text_of(admin_client.get("/admin/uploaded-forms/"))
    assert admin_client.post("/admin/plugins/uploaded/disable").status_code == 302
    for path in ("/admin/uploaded-forms/", f"/admin/uploaded-forms/{KEY}/1"):
        page = text_of(admin_client.get(path))
        assert "The uploaded-forms plugin is disabled: staff cannot choose" in page
        assert "Enabled, but not in use: the uploaded-forms plugin is disabled" in page
    finnish = text_of(in_finnish(admin_client).get("/admin/uploaded-forms/"))
    assert "Otettu käyttöön, mutta ei käytössä" in finnish


# --- 8. the integration-client form's messages ----------------------------------------------


def _client_form(admin_id, app, **changes):
    with app.app_context():
        code = totp_code(db.session.get(User, admin_id))
    data = {"name": "Osaston potilastietojärjestelmä", "unit": "1",
            "scopes": ["inbox:read", "handover:read"],
            "expires_on": (today() + timedelta(days=90)).strftime("%d.%m.%Y"), "code": code}
    return {**data, **changes}


@pytest.mark.parametrize("changes, field, message", [
    ({"expires_on": "1.1.2020"}, "expires_on", "Choose an expiry date within two years."),
    ({"unit": "0"}, "unit", "Choose the unit the client acts for."),
    ({"expires_on": "32.1.2027"}, "expires_on", "Enter a date, for example 31.12.2015."),
    ({"scopes": ["inbox:read", "bogus"]}, "scopes", "Choose from the scopes listed."),
])
def test_a_refused_client_is_told_under_the_right_field(app, admin_client, admin, changes,
                                                       field, message):
    response = admin_client.post("/admin/clients", data=_client_form(admin, app, **changes))
    summary = error_summary(response)
    assert f'href="#{field}"' in summary and message in summary
    assert 'href="#name"' not in summary and "is not a valid choice" not in summary
    assert 'value="Osaston potilastietojärjestelmä"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(IntegrationClient).count() == 0


def test_the_client_forms_messages_are_finnish(app, admin_client, admin):
    response = in_finnish(admin_client).post("/admin/clients", data=_client_form(
        admin, app, expires_on="32.1.2027", scopes=["bogus"]))
    summary = error_summary(response)
    assert "Anna päivämäärä, esimerkiksi 31.12.2015." in summary
    assert "Valitse luettelossa olevista oikeuksista." in summary
    assert "Pakollinen" not in summary and "bogus" not in summary

