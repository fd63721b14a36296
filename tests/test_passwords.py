"""The password policy, argon2id hashing, and changing a password (also when forced)."""

import re

import pytest
from sqlalchemy import select

from handover import create_app
from handover.config import ConfigurationError
from handover.security import passwords
from handover.security.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from handover.store.database import db
from handover.store.models import AuditEvent, User
from tests.support import PASSWORD, create_user, login

NEW = "lumi sataa hiljaa järven rannalla"


@pytest.mark.parametrize("password, accepted", [
    ("correct horse battery staple", True),
    ("kolme sanaa riittää", True),
    ("a" * 11 + "b", True),            # 12 characters, no composition rules
    ("abcdefghijk", False),            # 11 characters
    ("", False),
    ("x" * 200, True),                 # long passphrases are not truncated or refused
    ("y" * 1024, True),
    ("y" * 1025, False),
    ("ääkkösiä ja välilyöntejä", True),
    ("password1234", False),           # common, whatever the case
    ("PASSWORD1234", False),
    ("Qwertyuiopas", False),
    ("123456789012", False),
    ("salasana1234", False),
    ("Kissa123456!", True),            # not on the list: twelve characters of something else
    ("kissa1234567", False),
    ("iloveyou1234", False),
])
def test_password_policy(password, accepted):
    assert (password_problems(password) == []) is accepted


@pytest.mark.parametrize("password, email, name", [
    ("anna.virtanen@example.fi", "anna.virtanen@example.fi", None),
    ("ANNA.VIRTANEN@EXAMPLE.FI", "anna.virtanen@example.fi", None),
    ("anna.virtanen", "anna.virtanen@example.fi", None),
    ("Anna Kaisa Virtanen", "a@example.fi", "Anna Kaisa Virtanen"),
])
def test_password_may_not_be_the_users_email_or_name(password, email, name):
    assert password_problems(password, email=email, name=name)


def test_policy_messages_say_what_to_do():
    [message] = password_problems("short")
    assert "12" in message


def test_hash_is_argon2id_salted_and_verifies():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + " ")
    assert not needs_rehash(first)


def test_long_password_is_not_truncated():
    long_password = "x" * 200
    stored = hash_password(long_password)
    assert verify_password(stored, long_password)
    assert not verify_password(stored, long_password[:-1])


@pytest.mark.parametrize("stored", ["", "plain text", "$argon2id$broken"])
def test_malformed_stored_hash_is_a_mismatch_and_needs_rehash(stored):
    assert verify_password(stored, "anything at all") is False
    assert needs_rehash(stored)


def test_raised_parameters_make_old_hashes_need_rehash(monkeypatch):
    old = hash_password(PASSWORD)
    stronger = passwords.PasswordHasher(memory_cost=passwords.hasher().memory_cost * 2)
    monkeypatch.setattr(passwords, "hasher", lambda: stronger)
    assert needs_rehash(old)
    assert verify_password(old, PASSWORD)


def change(client, current=PASSWORD, new=NEW, repeat=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "repeat_password": new if repeat is None else repeat,
    })


def test_user_changes_password_and_logs_in_with_the_new_one(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
        response = change(client)
        assert response.status_code == 302
        [event] = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "account.password_changed")).scalars().all()
        assert event.actor_id == user.id
        client.post("/logout")
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}
                           ).status_code == 200
        login(client, user, password=NEW)


@pytest.mark.parametrize("current, new, repeat, message", [
    ("wrong current password", NEW, None, "The current password is wrong."),
    (PASSWORD, NEW, NEW + "x", "The passwords differ."),
    (PASSWORD, "too short", None, "Use at least 12 characters"),
    (PASSWORD, "salasana1234", None, "too common"),
    (PASSWORD, "anna@example.fi", None, "e-mail address or name"),
    (PASSWORD, PASSWORD, None, "different from the current one"),
])
def test_bad_password_change_is_refused_with_a_reason(app, client, current, new, repeat,
                                                      message):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
        client.post("/language", data={"language": "en"})
        response = change(client, current, new, repeat)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert message in page
        assert 'class="error-summary"' in page
        db.session.refresh(user)
        assert verify_password(user.password_hash, PASSWORD)


def test_forced_password_change_blocks_every_other_page(app, client):
    with app.app_context():
        user = create_user("anna@example.fi", must_change_password=True)
        response = login(client, user)
        assert response.headers["Location"] == "/account/password"
        for path in ("/", "/account", "/admin/users", "/no-such-page"):
            response = client.get(path)
            if response.status_code != 404:
                assert response.status_code == 302, path
                assert response.headers["Location"] == "/account/password", path
        assert client.get("/account/password").status_code == 200
        assert client.get("/privacy").status_code == 200

        assert change(client).status_code == 302
        db.session.refresh(user)
        assert user.must_change_password is False
        assert client.get("/").status_code == 200


def test_forced_change_user_can_still_log_out(app, client):
    with app.app_context():
        login(client, create_user("anna@example.fi", must_change_password=True))
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/account/password").status_code == 302


def test_account_page_saves_the_language(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
        page = client.get("/account").get_data(as_text=True)
        assert 'href="/account/password"' in page
        assert client.post("/account", data={"language": "sv"}).status_code == 302
        assert db.session.execute(select(User.language)).scalar() == "sv"
        assert 'lang="sv"' in client.get("/account").get_data(as_text=True)
        assert client.post("/account", data={"language": "de"}).status_code == 200


def test_an_instance_hashes_with_rfc_9106_low_memory_unless_its_config_says_otherwise(
        app_config):
    """The suite hashes at argon2's cheapest; an instance that says nothing gets RFC 9106's
    low-memory profile (argon2id, 64 MiB, t=3, p=4), and its stored hashes say so."""
    config = {key: value for key, value in app_config.items() if key != "ARGON2_PROFILE"}
    with create_app(config).app_context():
        stored = hash_password(PASSWORD)
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert verify_password(stored, PASSWORD)
    with create_app(app_config).app_context():
        assert verify_password(stored, PASSWORD), "a hash of another profile still verifies"
        cheap = hash_password(PASSWORD)
        assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    with create_app(config).app_context():
        assert needs_rehash(cheap), "a login with the test profile's hash stores a new one"


@pytest.mark.parametrize("profile, refusal", [
    ("CHEAPEST", "ARGON2_PROFILE 'CHEAPEST' is for the test suite only"),
    ("argon2-light", "ARGON2_PROFILE is 'argon2-light'; choose one of "
                     "RFC_9106_HIGH_MEMORY, RFC_9106_LOW_MEMORY."),
])
def test_a_server_does_not_start_with_a_weak_or_unknown_hashing_profile(app_config, profile,
                                                                       refusal):
    with pytest.raises(ConfigurationError, match=re.escape(refusal)):
        create_app({**app_config, "TESTING": False, "ARGON2_PROFILE": profile})
