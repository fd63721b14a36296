"""Undoing an organisation account's link, or turning a person's password login off, ends the
sessions already open: before, a session signed in through the unlinked account (or with the
password now turned off) went on for up to twelve hours."""

from lifecycle_support import login_as
from support import create_user

from handover.services import sso_accounts
from handover.store.database import db
from handover.store.models import OidcIdentity, User

ISSUER = "https://login.example.fi"


def _linked_person(app):
    with app.app_context():
        user = create_user("anna@example.fi")
        db.session.add(OidcIdentity(user_id=user.id, issuer=ISSUER, subject="sub-anna"))
        db.session.commit()
        return user.id


def _signed_in(app, user_id):
    client = app.test_client()
    login_as(client, app, type("Person", (), {"id": user_id}))
    assert client.get("/account").status_code == 200
    return client


def test_unlinking_the_organisation_account_ends_the_persons_sessions(app):
    user_id = _linked_person(app)
    client = _signed_in(app, user_id)
    with app.app_context():
        user = db.session.get(User, user_id)
        sso_accounts.unlink(user, sso_accounts.identities_of(user)[0].id)
    assert client.get("/account").status_code == 302


def test_turning_password_login_off_ends_the_persons_sessions(app):
    user_id = _linked_person(app)
    client = _signed_in(app, user_id)
    with app.app_context():
        sso_accounts.set_password_login(db.session.get(User, user_id), False)
    assert client.get("/account").status_code == 302
    other = _signed_in(app, user_id)        # turning it on again ends nothing
    with app.app_context():
        sso_accounts.set_password_login(db.session.get(User, user_id), True)
    assert other.get("/account").status_code == 200
