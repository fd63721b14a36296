"""Guessing the second factor: someone who knows the password gets a few wrong codes in a row
(`CODE_FAILURES_BEFORE_LOCK`), then no code at all, the right one included, until an
administrator resets the password. Before, five guesses a minute went on without end (each
guess matches one of three codes): a few weeks of guessing found a code."""

import pytest
from sqlalchemy import select
from support import PASSWORD, create_user, totp_code

from handover.services import accounts
from handover.store.database import db
from handover.store.models import AuditEvent, User

WRONG = "000000"


@pytest.fixture
def app_config(app_config):
    app_config.update(CODE_FAILURES_BEFORE_LOCK=3, LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    return app_config


def _password_step(client, password=PASSWORD):
    answer = client.post("/login", data={"email": "anna@example.fi", "password": password})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/totp")


def _code(client, code):
    return client.post("/login/totp", data={"code": code})


def _anna():
    return db.session.scalars(select(User).where(User.email == "anna@example.fi")).one()


def _wrong_code():
    return WRONG if totp_code(_anna()) != WRONG else "111111"


def test_wrong_codes_in_a_row_lock_the_code_step_until_a_reset(app, client):
    with app.app_context():
        create_user("anna@example.fi")
        _password_step(client)
        first = _code(client, _wrong_code())
        assert first.status_code == 200 and "lukitsee" in first.get_data(as_text=True)
        warned = _code(client, _wrong_code())
        assert warned.status_code == 200
        assert "Vielä yksi väärä koodi lukitsee" in warned.get_data(as_text=True)
        locked = _code(client, _wrong_code())
        assert locked.status_code == 403
        assert "<h1>Kaksivaiheinen tunnistautuminen on lukittu</h1>" in locked.get_data(
            as_text=True)
        right = _code(client, totp_code(_anna()))          # the right code, too late
        assert right.status_code == 403
        assert client.get("/account").status_code == 302    # not logged in
        fresh = app.test_client()                           # a new login is locked as well
        _password_step(fresh)
        assert fresh.get("/login/totp").status_code == 403
        events = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "auth.codes_locked")).all()
        assert events == ["auth.codes_locked"]
        temporary = accounts.reset_password(_anna())
        again = app.test_client()
        _password_step(again, temporary)
        assert _code(again, totp_code(_anna())).status_code == 302


def test_a_right_code_starts_the_count_again(app, client):
    with app.app_context():
        create_user("anna@example.fi")
        for _ in range(2):
            _password_step(client)
            assert _code(client, _wrong_code()).status_code == 200
            assert _code(client, _wrong_code()).status_code == 200
            assert _code(client, totp_code(_anna())).status_code == 302
            client.post("/logout")
        db.session.refresh(_anna())
        assert _anna().failed_codes == 0


def test_an_administrator_opens_the_code_step_of_an_organisation_only_account(
        app, admin_client):
    """An account that signs in only through the organisation has no password to reset: the
    administrator opens its code step alone, from the person's page."""
    annas = app.test_client()
    with app.app_context():
        create_user("anna@example.fi")
        _password_step(annas)
        for _ in range(3):
            answer = _code(annas, _wrong_code())
        assert answer.status_code == 403
        anna = _anna()
        anna.password_login = False       # as if she signed in only through the organisation
        db.session.commit()
        anna_id = anna.id
    page = admin_client.get(f"/admin/users/{anna_id}").get_data(as_text=True)
    assert f"/admin/users/{anna_id}/code-step" in page
    assert admin_client.post(f"/admin/users/{anna_id}/code-step").status_code == 302
    with app.app_context():
        assert _anna().failed_codes == 0
        opened = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "admin.code_step_opened")).all()
        assert opened == ["admin.code_step_opened"]
    assert f"/admin/users/{anna_id}/code-step" not in admin_client.get(
        f"/admin/users/{anna_id}").get_data(as_text=True)
    # A second click (another tab) finds nothing locked: nothing is done or logged again.
    again = admin_client.post(f"/admin/users/{anna_id}/code-step", follow_redirects=True)
    assert "is not locked" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "admin.code_step_opened")).all() == ["admin.code_step_opened"]


def test_wrong_codes_at_a_new_integration_client_count_towards_the_lock(app, admin_client,
                                                                          admin):
    """A stolen administrator session guessing the code that confirms a new API client meets
    the same lock as the login: wrong codes in a row there count, and a locked account's code
    is taken there neither."""
    from test_admin_review_fixes_2 import client_form, refusals, wrong_code

    code = wrong_code(app, admin)
    for _ in range(3):
        assert admin_client.post("/admin/clients", data=client_form(code)).status_code == 200
    with app.app_context():
        assert db.session.get(User, admin).failed_codes == 3
        right = totp_code(db.session.get(User, admin))
    admin_client.post("/admin/clients", data=client_form(right))
    assert [detail for _actor, _outcome, detail in refusals(app)][-1] == "codes_locked"
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "auth.codes_locked")).all() == ["auth.codes_locked"]


def test_an_administrator_cannot_unlock_their_own_code_step(app, admin_client, admin):
    """A stolen administrator session that guessed the client confirmation's code into the lock
    cannot open it again and guess on: its own page says another administrator unlocks it,
    and a post is refused, changes nothing and logs no unlocking."""
    from test_admin_review_fixes_2 import client_form, wrong_code

    code = wrong_code(app, admin)
    for _ in range(3):
        admin_client.post("/admin/clients", data=client_form(code))
    page = admin_client.get(f"/admin/users/{admin}").get_data(as_text=True)
    assert "Another administrator unlocks your two-step login" in page
    assert f"/admin/users/{admin}/code-step" not in page
    refused = admin_client.post(f"/admin/users/{admin}/code-step", follow_redirects=True)
    assert "You cannot unlock your own two-step login" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin).failed_codes == 3
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "admin.code_step_opened")).all() == []
