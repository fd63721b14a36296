"""Integration client names are unique regardless of capital letters (ä, ö and å included, and
however an ä is encoded), on SQLite and PostgreSQL alike: the audit log names a client as
``api:<name>``, and "Lifecare" beside "lifecare" leaves an admin reading it guessing whether one
system or two acted. Refused by the service with a message on the name field, by the database
when two admins create the twins at once (told the same), and kept by migration 0014 for the
twins an instance already had."""

import html
import re
from datetime import timedelta

import lifecycle_support
import pytest
from flask_migrate import upgrade
from lifecycle_support import login_as
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support import (
    add_later_columns,
    drop_later_columns,
    empty_database,
    error_summary,
    totp_code,
)

from handover.formdefs.content import today
from handover.services import integration_clients
from handover.services.accounts import AccountError
from handover.store.database import db
from handover.store.models import IntegrationClient, Unit, User
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

NAME = "Äänekosken potilastietojärjestelmä"
TWIN = ("There is already a client named Äänekosken potilastietojärjestelmä: names that differ "
        "only in capital letters are too easily mixed up.")
TWIN_FI = ("Asiakasjärjestelmä nimeltä Äänekosken potilastietojärjestelmä on jo olemassa: nimet, "
           "jotka eroavat vain isoista ja pienistä kirjaimista, sekoittuvat liian helposti.")
TWIN_SV = ("Det finns redan ett klientsystem med namnet Äänekosken potilastietojärjestelmä: namn "
           "som skiljer sig bara i stora och små bokstäver blandas för lätt ihop.")
SAME = "A client with this name already exists."
#: The same name in capitals, in small letters, and with each ä written as a + combining dots.
TWINS = ["ÄÄNEKOSKEN POTILASTIETOJÄRJESTELMÄ", "äänekosken potilastietojärjestelmä",
         "A\u0308a\u0308nekosken potilastietoja\u0308rjestelma\u0308"]


@pytest.fixture
def existing(app, world):
    """The client ``NAME`` of the receiving unit exists."""
    with app.app_context():
        _create(world, NAME)


@pytest.fixture
def admin_page(app, client, world):
    """The admin's browser on the integration clients page, reading English."""
    login_as(client, app, world.users["admin"])
    return client


# --- the admin page -----------------------------------------------------------------------


@pytest.mark.parametrize("twin", TWINS)
def test_a_name_differing_only_in_capitals_is_refused_on_the_name_field(app, world, existing,
                                                                         admin_page, twin):
    response = admin_page.post("/admin/clients", data=_form(app, world, twin))
    assert response.status_code == 200
    summary = error_summary(response)
    assert TWIN in summary and 'href="#name"' in summary
    assert TWIN in _field_error(response, "name")
    assert "<code class=\"secret\">" not in response.get_data(as_text=True)
    with app.app_context():
        assert _client_names() == [NAME]
        assert _client_accounts() == 1   # no account was left behind by the refused one


def test_the_same_name_again_is_refused_as_before(app, world, existing, admin_page):
    response = admin_page.post("/admin/clients", data=_form(app, world, f"  {NAME} "))
    assert SAME in _field_error(response, "name")
    with app.app_context():
        assert _client_names() == [NAME]


@pytest.mark.parametrize("language, message", [("fi", TWIN_FI), ("sv", TWIN_SV)])
def test_the_refusal_is_in_the_admins_language(app, world, existing, admin_page, language,
                                               message):
    with admin_page.session_transaction() as session:
        session["language"] = language
    response = admin_page.post("/admin/clients", data=_form(app, world, TWINS[0]))
    assert message in _field_error(response, "name")


def test_a_different_name_is_still_created(app, world, existing, admin_page):
    response = admin_page.post("/admin/clients",
                               data=_form(app, world, "Äänekosken potilastietojärjestelmä 2"))
    assert '<code class="secret">' in response.get_data(as_text=True)
    with app.app_context():
        assert len(_client_names()) == 2


def test_two_admins_creating_twins_at_once_get_one_client(app, world, admin_page):
    """The other admin's client is committed after this admin's check and before its insert:
    the database refuses the second, and this admin is told as if the other had come first."""
    raced = _the_other_admin_commits_first(world, "ÄÄNEKOSKEN POTILASTIETOJÄRJESTELMÄ")
    data = _form(app, world, NAME)
    event.listen(db.session, "before_flush", raced)
    try:
        response = admin_page.post("/admin/clients", data=data)
    finally:
        event.remove(db.session, "before_flush", raced)
    assert raced.done
    expected = TWIN.replace("Äänekosken potilastietojärjestelmä:",
                            "ÄÄNEKOSKEN POTILASTIETOJÄRJESTELMÄ:")
    assert expected in _field_error(response, "name")
    with app.app_context():
        assert _client_names() == ["ÄÄNEKOSKEN POTILASTIETOJÄRJESTELMÄ"]
        assert _client_accounts() == 1


# --- the service and the database ---------------------------------------------------------


@pytest.mark.parametrize("twin", TWINS)
def test_the_service_refuses_a_twin_naming_the_existing_client(app, world, existing, twin):
    with app.app_context():
        with pytest.raises(AccountError) as refused:
            _create(world, twin)
        assert (str(refused.value), refused.value.field) == (TWIN, "name")
        assert _client_names() == [NAME]


def test_the_service_tells_a_raced_twin_as_a_later_one(app, world):
    raced = _the_other_admin_commits_first(world, "äänekosken POTILASTIETOJÄRJESTELMÄ")
    with app.app_context():
        event.listen(db.session, "before_flush", raced)
        try:
            with pytest.raises(AccountError) as refused:
                _create(world, NAME)
        finally:
            event.remove(db.session, "before_flush", raced)
        assert raced.done and refused.value.field == "name"
        assert "There is already a client named äänekosken POTILASTIETOJÄRJESTELMÄ" in str(
            refused.value)
        assert _client_names() == ["äänekosken POTILASTIETOJÄRJESTELMÄ"]
        assert _client_accounts() == 1


def test_the_database_itself_refuses_a_twin(app, world, existing):
    with app.app_context():
        account_id = db.session.scalar(select(IntegrationClient.account_id))
        db.session.add(_client_row(TWINS[0], account_id, "b" * 64))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert _client_names() == [NAME]
        assert db.session.scalar(select(IntegrationClient.name_key)) == (
            "äänekosken potilastietojärjestelmä")


# --- the migration ------------------------------------------------------------------------


@pytest.fixture
def at_0013(app):
    """The database as revision 0013 left it, emptied; the test's schema again afterwards."""
    with app.app_context():
        empty_database()
        upgrade(revision="0013")
        add_later_columns("users")
    yield
    with app.app_context():
        db.session.remove()
        empty_database()
        db.create_all()


def test_twins_from_before_0014_both_stay_and_no_third_is_made(app, at_0013):
    """An instance that already has "Lifecare" and "LIFECARE" upgrades: both keep working as
    they are, the later keeps no key, and neither a third twin nor the same name is made."""
    with app.app_context():
        admin = User(email="admin@example.test", name="Ylläpitäjä", password_hash="!",
                     is_admin=True)
        db.session.add(admin)
        db.session.flush()
        unit = _unit()
        for number, name in enumerate(("Lifecare", "LIFECARE", NAME, "Åbo klient")):
            account = User(email=f"api-client-{number}@clients.invalid", name=f"API: {name}",
                           password_hash="!", active=False)
            db.session.add(account)
            db.session.flush()
            db.session.execute(text(
                "INSERT INTO integration_clients (name, unit_id, scopes, token_hash, "
                "token_prefix, account_id, created_at, expires_at) VALUES (:name, :unit, "
                "'inbox:read', :hash, 'hov_x', :account, :now, :expires)"),
                {"name": name, "unit": unit, "hash": str(number) * 64, "account": account.id,
                 "now": utcnow(), "expires": utcnow() + timedelta(days=1)})
        db.session.commit()
        admin_id = admin.id
        drop_later_columns("users")

        upgrade()

        keys = dict(db.session.execute(text("SELECT name, name_key FROM integration_clients"))
                    .all())
        assert keys == {"Lifecare": "lifecare", "LIFECARE": None,
                        NAME: "äänekosken potilastietojärjestelmä", "Åbo klient": "åbo klient"}
        admin = db.session.get(User, admin_id)
        for name, message in (("lifecare", "There is already a client named Lifecare:"),
                              ("LIFECARE", SAME), ("ÄÄNEKOSKEN POTILASTIETOJÄRJESTELMÄ", TWIN)):
            with pytest.raises(AccountError, match=message):
                integration_clients.create(admin, name, db.session.get_one(Unit, unit),
                                           {"inbox:read"}, utcnow() + timedelta(days=1))
        made, _token = integration_clients.create(
            admin, "ÅBO KLIENT 2", db.session.get_one(Unit, unit), {"inbox:read"},
            utcnow() + timedelta(days=1))
        assert made.name_key == "åbo klient 2"


# --- helpers ------------------------------------------------------------------------------


def _create(world, name):
    return integration_clients.create(world.user("admin"), name, world.unit("receiving"),
                                      {"inbox:read", "handover:read"},
                                      utcnow() + timedelta(days=30))


def _form(app, world, name):
    """The page's form for a client ``name``, with a code the admin's app shows now."""
    with app.app_context():
        code = totp_code(db.session.get(User, world.users["admin"].id))
    return {"name": name, "unit": str(world.units["receiving"].id),
            "scopes": ["inbox:read", "handover:read"],
            "expires_on": (today() + timedelta(days=90)).isoformat(), "code": code}


def _the_other_admin_commits_first(world, name):
    """A `before_flush` listener: when this session is about to write a client's account,
    another admin's session commits the client ``name`` first (once). On SQLite, before this
    session has written anything, which would hold the database's one write lock."""

    def listener(session, _context, _instances):
        if listener.done or not any(isinstance(new, User) for new in session.new):
            return
        listener.done = True
        with Session(db.engine) as other:
            account = User(email="api-client-other@clients.invalid", name=f"API: {name}",
                           password_hash="!", active=False)
            other.add(account)
            other.flush()
            other.add(_client_row(name, account.id, "a" * 64, world.units["receiving"].id))
            other.commit()

    listener.done = False
    return listener


def _client_row(name, account_id, token_hash, unit_id=None):
    return IntegrationClient(name=name, unit_id=unit_id, scopes="inbox:read",
                             token_hash=token_hash, token_prefix="hov_x",
                             account_id=account_id, expires_at=utcnow() + timedelta(days=1))


def _client_names():
    return list(db.session.scalars(select(IntegrationClient.name).order_by(IntegrationClient.id)))


def _client_accounts():
    """How many accounts exist for integration clients (each client has one)."""
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.email.like("%@clients.invalid")))


def _unit():
    unit = Unit(name="Osasto 7", kind="psychiatric_ward")
    db.session.add(unit)
    db.session.flush()
    return unit.id


def _field_error(response, field_id):
    """The error text shown beside the field ``field_id`` ("" when there is none)."""
    found = re.search(rf'<p class="field__error" id="{field_id}-error">(.*?)</p>',
                      response.get_data(as_text=True), re.S)
    return html.unescape(re.sub(r"\s+", " ", found.group(1))) if found else ""
