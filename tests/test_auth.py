"""Logging in with a password and a one-time code, enrolment, throttling and logout, told as
what a user or an attacker does."""

import re
import time

import argon2
import pyotp
import pytest
from sqlalchemy import select

from handover.security import passwords, totp
from handover.security.login import PENDING_KEY
from handover.store.database import db
from handover.store.models import AuditEvent, User, UserSession
from tests.support import PASSWORD, create_user, enrolment_secret_in, login, totp_code


def in_english(client):
    client.post("/language", data={"language": "en", "next": "/login"})


def events(action):
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).scalars().all()


def comparable(response, *replace):
    """The page without its CSRF token values, which carry a timestamp and so differ between
    any two requests whatever the outcome."""
    text = re.sub(r'name="csrf_token"([^>]*)value="[^"]*"', r'name="csrf_token"\1',
                  response.get_data(as_text=True))
    for old in replace:
        text = text.replace(old, "X")
    return text


def wrong_password(client, email="anna@example.fi"):
    return client.post("/login", data={"email": email, "password": "not the password at all"})


def test_password_and_code_log_the_user_in(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        response = client.post("/login", data={"email": "Anna@Example.fi ", "password": PASSWORD})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/login/totp")
        response = client.post("/login/totp", data={"code": totp_code(user)})
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert client.get("/").status_code == 200
        [event] = events("auth.login")
        assert event.actor_id == user.id and event.outcome == "ok"


def test_password_step_alone_never_reaches_a_page(app, client):
    with app.app_context():
        create_user("anna@example.fi")
        assert client.post("/login", data={"email": "anna@example.fi",
                                           "password": PASSWORD}).status_code == 302
    for path in ("/", "/account", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_code_without_password_step_is_sent_back_to_login(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        response = client.post("/login/totp", data={"code": totp_code(user)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_password_step_expires_after_five_minutes(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        with client.session_transaction() as cookie_session:
            pending = dict(cookie_session[PENDING_KEY])
            pending["at"] -= 301
            cookie_session[PENDING_KEY] = pending
        response = client.post("/login/totp", data={"code": totp_code(user)})
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_unknown_user_and_wrong_password_are_indistinguishable(app, client):
    with app.app_context():
        create_user("nobody2@example.fi")
    wrong = client.post("/login", data={"email": "nobody2@example.fi", "password": "guess"})
    unknown = client.post("/login", data={"email": "nobody3@example.fi", "password": "guess"})
    assert unknown.status_code == wrong.status_code == 200
    assert "csrf_token\" value" not in comparable(wrong)
    assert comparable(unknown, "nobody3") == comparable(wrong, "nobody2")
    with client.session_transaction() as cookie_session:
        assert PENDING_KEY not in cookie_session


def test_unknown_user_costs_as_much_time_as_a_wrong_password(app, client, monkeypatch):
    """The unknown account is verified against a dummy argon2 hash made with the same
    parameters; without it the answer would come back in a fraction of the time and reveal that
    the account does not exist. The work is counted, not timed: one full argon2 verification
    with the current parameters for a wrong password and for an unknown account alike."""
    with app.app_context():
        create_user("anna@example.fi")
    verified = []
    real_verify = passwords.verify_password

    def counting_verify(stored_hash, password):
        verified.append(argon2.extract_parameters(stored_hash))
        return real_verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    with app.app_context():
        hasher = passwords.hasher()
    current = argon2.Parameters(
        type=argon2.Type.ID, version=argon2.low_level.ARGON2_VERSION,
        salt_len=hasher.salt_len, hash_len=hasher.hash_len, time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost, parallelism=hasher.parallelism)
    for email in ("anna@example.fi", "nobody@example.fi"):
        verified.clear()
        page = client.post("/login", data={"email": email, "password": "wrong password here"})
        assert page.status_code == 200
        assert verified == [current], email


def test_failed_logins_are_audited_without_the_password(app, client):
    with app.app_context():
        create_user("anna@example.fi")
    wrong_password(client)
    client.post("/login", data={"email": "nobody@example.fi", "password": "secret guess 1"})
    client.post("/login", data={"email": "secret guess 2", "password": "x"})
    for password_with_at in ("Kesä@2025guess", "guess@Koti.fi2", "a@guess.", "Kissa@guess.Kevat"):
        client.post("/login", data={"email": password_with_at, "password": "x"})
    with app.app_context():
        failures = events("auth.login_failed")
        assert [(e.detail, e.actor_label, e.actor_id, e.outcome) for e in failures] == [
            ("wrong_password", "anna@example.fi", None, "denied"),
            ("unknown_account", "nobody@example.fi", None, "denied"),
            *[("unknown_account", "", None, "denied")] * 5,
        ]
        for event in failures:
            assert "guess" not in event.detail + event.actor_label


def test_deactivated_user_cannot_log_in_and_sees_the_generic_answer(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        user.active = False
        db.session.commit()
    refused = client.post("/login", data={"email": "anna@example.fi", "password": PASSWORD})
    unknown = client.post("/login", data={"email": "anna@example.fi", "password": "wrong!"})
    assert refused.status_code == 200
    assert comparable(refused) == comparable(unknown)
    assert client.get("/login/totp").status_code == 302
    with app.app_context():
        assert [e.detail for e in events("auth.login_failed")][0] == "inactive_account"


def test_sixth_wrong_password_within_a_minute_is_throttled(app, client):
    with app.app_context():
        create_user("anna@example.fi")
    in_english(client)
    for _ in range(5):
        assert wrong_password(client).status_code == 200
    response = wrong_password(client)
    assert response.status_code == 429
    assert "Too many login attempts" in response.get_data(as_text=True)
    # Even the right password waits: the attacker cannot tell a hit from a miss.
    right = client.post("/login", data={"email": "anna@example.fi", "password": PASSWORD})
    assert right.status_code == 429


def test_throttle_per_account_holds_across_addresses(app, client):
    with app.app_context():
        create_user("anna@example.fi")
    for number in range(5):
        other = app.test_client()
        response = other.post("/login", data={"email": "ANNA@example.fi", "password": "nope"},
                              environ_base={"REMOTE_ADDR": f"10.0.0.{number}"})
        assert response.status_code == 200
    assert wrong_password(client).status_code == 429


def test_throttle_per_address_holds_across_accounts(app_config, request):
    app_config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    client = request.getfixturevalue("app").test_client()
    for number in range(3):
        assert wrong_password(client, f"user{number}@example.fi").status_code == 200
    assert wrong_password(client, "user9@example.fi").status_code == 429
    other_address = client.post("/login", data={"email": "a@example.fi", "password": "x"},
                                environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert other_address.status_code == 200


def test_successful_logins_are_not_throttled(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        for _ in range(7):
            login(client, user)
            client.post("/logout")


def test_wrong_codes_count_against_the_account(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        for _ in range(5):
            assert client.post("/login/totp", data={"code": "000000"}).status_code == 200
        assert client.post("/login/totp", data={"code": totp_code(user)}).status_code == 429
        assert [e.detail for e in events("auth.login_failed")] == ["wrong_code"] * 5


def test_login_fails_closed_when_the_throttle_store_is_down(app_config, request):
    """Redis unreachable: no uncounted guessing, and a clear 503 rather than a crash."""
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app = request.getfixturevalue("app")
    with app.app_context():
        create_user("anna@example.fi")
    client = app.test_client()
    in_english(client)
    assert client.get("/login").status_code == 200
    response = client.post("/login", data={"email": "anna@example.fi", "password": PASSWORD})
    assert response.status_code == 503
    assert "Logging in is temporarily unavailable" in response.get_data(as_text=True)
    with client.session_transaction() as cookie_session:
        assert PENDING_KEY not in cookie_session


def test_replayed_code_is_refused(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
        db.session.refresh(user)
        used_code = pyotp.TOTP(totp.secret_of(user)).at(user.totp_last_step * 30)
        client.post("/logout")
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        response = client.post("/login/totp", data={"code": used_code})
        assert response.status_code == 200
        assert client.get("/").status_code == 302
        assert events("auth.login_failed")[-1].detail == "wrong_code"


def test_code_of_an_old_time_step_is_refused(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        old_code = pyotp.TOTP(totp.secret_of(user)).at(time.time() - 120)
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        if old_code != pyotp.TOTP(totp.secret_of(user)).now():
            assert client.post("/login/totp", data={"code": old_code}).status_code == 200
            assert client.get("/").status_code == 302


def test_new_user_enrols_totp_from_inline_svg_and_secret_text(app, client):
    with app.app_context():
        user = create_user("anna@example.fi", enrolled=False)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"].endswith("/login/enrol")
        page = client.get("/login/enrol").get_data(as_text=True)
        secret = enrolment_secret_in(page)
        with client.session_transaction() as cookie_session:   # signed, not encrypted
            assert secret not in repr(dict(cookie_session))
        assert "<svg" in page
        assert "style=" not in page
        assert client.get("/").status_code == 302
        assert client.get("/login/enrol").get_data(as_text=True).count(secret) == 1

        assert client.post("/login/enrol", data={"code": "123"}).status_code == 200
        response = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert client.get("/").status_code == 200
        db.session.refresh(user)
        assert totp.secret_of(user) == secret
        assert secret not in user.totp_secret  # stored sealed, never plain
        assert len(events("auth.totp_enrolled")) == 1


def test_enrolled_user_cannot_enrol_a_new_secret(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert client.get("/login/enrol").headers["Location"].endswith("/login/totp")


def test_rehash_when_hash_parameters_are_raised(app, client, monkeypatch):
    with app.app_context():
        user = create_user("anna@example.fi")
        old_hash = user.password_hash
        stronger = passwords.PasswordHasher(time_cost=passwords.hasher().time_cost + 1)
        monkeypatch.setattr(passwords, "hasher", lambda: stronger)
        assert passwords.needs_rehash(old_hash)
        login(client, user)
        db.session.refresh(user)
        assert user.password_hash != old_hash
        assert f"t={stronger.time_cost}" in user.password_hash
        assert not passwords.needs_rehash(user.password_hash)
        assert passwords.verify_password(user.password_hash, PASSWORD)


def test_logout_ends_the_session_and_is_audited(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
        response = client.post("/logout")
        assert response.headers["Location"] == "/login"
        assert client.get("/").status_code == 302
        assert len(events("auth.logout")) == 1
        [row] = db.session.execute(select(UserSession)).scalars().all()
        assert row.revoked_at is not None


def test_logout_is_post_only(app, client):
    with app.app_context():
        login(client, create_user("anna@example.fi"))
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("target, expected", [
    ("/account", "/account"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_login_returns_only_to_local_pages(app, client, target, expected):
    with app.app_context():
        user = create_user("anna@example.fi")
        client.post("/login", query_string={"next": target},
                    data={"email": user.email, "password": PASSWORD})
        response = client.post("/login/totp", data={"code": totp_code(user)})
    assert response.headers["Location"] == expected


def test_logged_in_user_visiting_login_goes_home(app, client):
    with app.app_context():
        login(client, create_user("anna@example.fi"))
    assert client.get("/login").headers["Location"] == "/"
    with app.app_context():
        assert db.session.execute(select(User)).scalars().one().active


def test_strangers_guesses_do_not_lock_the_owner_out_of_her_own_browser(app, client):
    """Five wrong passwords a minute from anywhere kept a colleague out all day. A browser in
    which the account has logged in before counts apart; others, a forged cookie included,
    share the strangers' count."""
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
    client.post("/logout")
    attacker = app.test_client()
    for _ in range(5):
        assert wrong_password(attacker).status_code == 200
    assert wrong_password(attacker).status_code == 429
    with app.app_context():
        login(client, db.session.get(type(user), user.id))     # the owner's own browser
    new_browser = app.test_client()
    right = {"email": "anna@example.fi", "password": PASSWORD}
    assert new_browser.post("/login", data=right).status_code == 429
    forged = app.test_client()
    forged.set_cookie("handover_device", client.get_cookie("handover_device").value + "x")
    assert forged.post("/login", data=right).status_code == 429
    other_account = app.test_client()     # known for another account only: no help here
    with app.app_context():
        login(other_account, create_user("bea@example.fi"))
    other_account.post("/logout")
    assert other_account.post("/login", data=right).status_code == 429


def test_guesses_at_one_workstation_she_used_do_not_lock_her_out_of_another(app, client):
    """Each browser the account has logged in from counts on its own: a colleague at the
    ward's shared computer, where she once logged in, cannot keep her out of her office."""
    with app.app_context():
        user = create_user("anna@example.fi")
        shared = app.test_client()
        for browser in (client, shared):
            login(browser, db.session.get(type(user), user.id))
            browser.post("/logout")
    for _ in range(5):
        assert wrong_password(shared).status_code == 200
    assert wrong_password(shared).status_code == 429
    with app.app_context():
        login(client, db.session.get(type(user), user.id))     # her office

