"""Edges of account management, as an administrator or an attacker meets them: the account an
integration client acts under is no person's and never becomes a web login (not through the
organisation-account pages either), the statistics count people only, and unit names that
differ only in capital letters (ä, ö, å included) are refused alike on SQLite and PostgreSQL,
even when two admins create them at once."""

from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support import create_unit, create_user, empty_database, error_summary, text_of

from handover.cli import cli
from handover.services import accounts, integration_clients, sso_accounts
from handover.store.database import db
from handover.store.models import AuditEvent, OidcIdentity, Unit, User
from handover.store.models.base import utcnow

ISSUER = "https://login.example.fi"
TWIN = "There is already a unit named Äänekosken päiväkoti"


@pytest.fixture
def app_config(app_config):
    """The CLI answers in English, as the pages do for `login_as`."""
    return {**app_config, "CLI_LANGUAGE": "en"}


@pytest.fixture
def admin_unit():
    """The unit beside `admin` (id 1) is "Äänekosken päiväkoti", the name its twins repeat."""
    return "Äänekosken päiväkoti", "daycare"


@pytest.fixture
def ward_account(app, admin):
    """The account a ward's patient-record system acts under (an integration client of unit
    1), with an organisation account linked to it as the unguarded page allowed."""
    with app.app_context():
        client, _token = integration_clients.create(
            db.session.get(User, admin), "Osaston järjestelmä", db.session.get(Unit, 1),
            {"inbox:read", "handover:read"}, utcnow() + timedelta(days=30))
        db.session.add(OidcIdentity(user_id=client.account_id, issuer=ISSUER,
                                    subject="legacy-link"))
        db.session.commit()
        return client.account_id


def actions_about(user_id):
    """The audit actions whose detail names ``user_id``."""
    return [event.action for event in db.session.scalars(select(AuditEvent))
            if f'"user_id": {user_id}' in (event.detail or "")]


def unit_names():
    return sorted(db.session.scalars(select(Unit.name)))


# --- 1. the organisation-account pages refuse an integration client's account -------------------


@pytest.mark.parametrize("method, path, data", [
    ("get", "/admin/users/{id}/sso", None),
    ("post", "/admin/users/{id}/sso", {"issuer": ISSUER, "subject": "attacker"}),
    ("post", "/admin/users/{id}/password-login", {"allowed": "0"}),
    ("post", "/admin/users/{id}/sso/{identity}/unlink", {}),
])
def test_the_clients_account_gets_no_organisation_login(app, admin_client, ward_account,
                                                        method, path, data):
    with app.app_context():
        identity = db.session.scalar(select(OidcIdentity.id))
    response = getattr(admin_client, method)(path.format(id=ward_account, identity=identity),
                                             data=data)
    assert response.status_code == 404
    assert "Osaston järjestelmä" not in text_of(response)
    assert admin_client.get("/admin/users/999999/sso").status_code == 404
    with app.app_context():
        account = db.session.get(User, ward_account)
        assert account.password_login and not account.active
        assert [(i.subject, i.user_id) for i in db.session.scalars(select(OidcIdentity))] == [
            ("legacy-link", ward_account)]
        assert not [action for action in actions_about(ward_account)
                    if action.startswith(("admin.sso", "admin.password_login"))]


def test_a_persons_organisation_account_is_still_linked(app, admin_client, admin):
    with app.app_context():
        person = create_user("hoitaja@example.fi", name="Hanna Hoitaja").id
    assert "Hanna Hoitaja" in text_of(admin_client.get(f"/admin/users/{person}/sso"))
    response = admin_client.post(f"/admin/users/{person}/sso",
                                 data={"issuer": ISSUER, "subject": "hanna"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OidcIdentity.user_id)
                                 .where(OidcIdentity.subject == "hanna")) == person


def test_the_sso_services_refuse_the_clients_account_for_any_caller(app, ward_account):
    with app.app_context():
        account = db.session.get(User, ward_account)
        identity = db.session.scalar(select(OidcIdentity.id))
        for action in (lambda: sso_accounts.link(account, ISSUER, "other"),
                       lambda: sso_accounts.unlink(account, identity),
                       lambda: sso_accounts.set_password_login(account, False)):
            with pytest.raises(accounts.AccountError, match="integration client"):
                action()
        assert db.session.scalar(select(OidcIdentity.id).where(
            OidcIdentity.subject == "other")) is None


def test_a_link_left_from_before_signs_nobody_in_as_the_client(app, ward_account):
    """Even were the account active (as an admin could make it before the user pages refused),
    the organisation account linked to it signs in as nobody."""
    with app.app_context():
        db.session.get(User, ward_account).active = True
        db.session.commit()
        with pytest.raises(sso_accounts.SsoAccountRefused) as refused:
            sso_accounts.account_for(ISSUER, "", "legacy-link")
        assert refused.value.reason == "client_account" and refused.value.user is None


# --- 2. the statistics count people ------------------------------------------------------------


def test_statistics_count_people_not_the_clients_account(app, admin_client, ward_account):
    with app.app_context():
        create_user("hoitaja@example.fi")
        # Made active as an admin could before the user pages refused it.
        db.session.get(User, ward_account).active = True
        db.session.commit()
    page = text_of(admin_client.get("/admin/statistics"))
    assert "Active users: 2" in page


# --- 3. unit names differing only in capital letters, on both databases ------------------------


@pytest.mark.parametrize("typed", [
    "ÄÄNEKOSKEN PÄIVÄKOTI",
    "äänekosken päiväkoti",
    # the same letters with each ä decomposed (a plus combining diaeresis), as some keyboards
    # and pasted text give them: it looks exactly the same on the page
    "A\u0308a\u0308nekosken pa\u0308iva\u0308koti",
])
def test_a_unit_name_differing_in_capitals_or_encoding_is_refused(app, admin_client, typed):
    response = admin_client.post("/admin/units", data={"unit-name": typed,
                                                       "unit-kind": "daycare"})
    summary = error_summary(response)
    assert TWIN in summary and 'href="#unit-name"' in summary
    with app.app_context():
        assert unit_names() == ["Äänekosken päiväkoti"]


def test_renaming_a_unit_into_a_twin_is_refused_but_its_own_capitals_may_change(
        app, admin_client, admin):
    with app.app_context():
        other = create_unit("Åbo svenska skola", "school").id
    response = admin_client.post(f"/admin/units/{other}", data={
        "unit-name": "ÄÄNEKOSKEN PÄIVÄKOTI", "unit-kind": "school"})
    assert TWIN in error_summary(response)
    assert admin_client.post(f"/admin/units/{other}", data={
        "unit-name": "ÅBO SVENSKA SKOLA", "unit-kind": "school"}).status_code == 302
    with app.app_context():
        assert unit_names() == ["Äänekosken päiväkoti", "ÅBO SVENSKA SKOLA"]


def test_the_command_line_refuses_the_twin(app, runner, admin):
    result = runner.invoke(cli, args=["units", "create", "--name", "ÄÄNEKOSKEN PÄIVÄKOTI",
                                      "--kind", "daycare"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert TWIN in result.output
    with app.app_context():
        assert unit_names() == ["Äänekosken päiväkoti"]


def test_two_admins_creating_twins_at_once_get_one_unit(app, admin_client):
    """The other admin's unit is committed after this admin's check and before its insert:
    the database refuses the second, and the admin is asked to reload."""
    raced = []

    def the_other_admin_commits_first(session, _context, _instances):
        if raced or not any(isinstance(new, Unit) for new in session.new):
            return
        raced.append(True)
        with Session(db.engine) as other:
            other.add(Unit(name="ÄÄNEKOSKEN PÄIVÄKOTI", kind="daycare"))
            other.commit()

    with app.app_context():
        db.session.execute(text("DELETE FROM units"))
        db.session.commit()
    event.listen(db.session, "before_flush", the_other_admin_commits_first)
    try:
        response = admin_client.post("/admin/units", data={
            "unit-name": "Äänekosken päiväkoti", "unit-kind": "daycare"})
    finally:
        event.remove(db.session, "before_flush", the_other_admin_commits_first)
    assert raced
    assert "This conflicts with an existing record; reload and check." in text_of(response)
    with app.app_context():
        assert unit_names() == ["ÄÄNEKOSKEN PÄIVÄKOTI"]


def test_the_database_itself_refuses_a_twin(app, admin):
    with app.app_context():
        db.session.add(Unit(name="ÄÄNEKOSKEN PÄIVÄKOTI", kind="daycare"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert unit_names() == ["Äänekosken päiväkoti"]


def test_twins_from_before_0012_both_stay_and_no_third_is_made(app):
    """A database that took both twins (SQLite before the check) upgrades: the later twin
    keeps no key, a third is refused, and saving the later one asks for another name."""
    with app.app_context():
        empty_database()
        upgrade(revision="0011")
        for unit_id, name in ((1, "Äänekosken päiväkoti"), (2, "ÄÄNEKOSKEN PÄIVÄKOTI"),
                              (3, "Åbo svenska skola")):
            db.session.execute(text(
                "INSERT INTO units (id, name, kind, organisation, email, is_active, created_at) "
                "VALUES (:id, :name, 'daycare', '', '', true, :now)"),
                {"id": unit_id, "name": name, "now": utcnow()})
        db.session.commit()
        db.session.remove()
        upgrade()
        keys = dict(db.session.execute(text("SELECT id, name_key FROM units")).all())
        db.session.remove()
        assert keys == {1: "äänekosken päiväkoti", 2: None, 3: "åbo svenska skola"}
        with pytest.raises(accounts.AccountError, match=TWIN):
            accounts.create_unit("äänekosken PÄIVÄKOTI", "daycare")
        with pytest.raises(accounts.AccountError, match=TWIN):
            accounts.update_unit(db.session.get(Unit, 2), "ÄÄNEKOSKEN PÄIVÄKOTI", "daycare")
        accounts.update_unit(db.session.get(Unit, 2), "Äänekosken päiväkoti Pihlaja",
                             "daycare")
        assert db.session.get(Unit, 2).name_key == "äänekosken päiväkoti pihlaja"
        db.session.remove()
        empty_database()
        db.create_all()


# --- 3. e-mail addresses: stored folded by Python, so the same on both databases ---------------


def test_an_address_differing_in_capitals_is_the_same_person(app, admin_client, runner):
    with app.app_context():
        create_user("äiti.öhman@example.fi")
    response = admin_client.post("/admin/users/new", data={
        "email": "ÄITI.ÖHMAN@EXAMPLE.FI", "name": "Äiti Öhman"})
    assert "A user with this e-mail address already exists." in error_summary(response)
    result = runner.invoke(cli, args=["users", "create", "--email", "Äiti.Öhman@example.fi",
                                      "--name", "Äiti Öhman"])
    assert result.exit_code != 0 and "already exists" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.name != "Ylläpitäjä")) == (
            "äiti.öhman@example.fi")
        assert accounts.find_user("ÄITI.ÖHMAN@example.fi").email == "äiti.öhman@example.fi"
