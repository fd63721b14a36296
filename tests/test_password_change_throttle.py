"""Someone holding a logged-in session (a browser left open) guesses the current password on
the password-change form: throttled like the login, and sharing the login's count."""

from handover.security.passwords import verify_password
from handover.store.database import db
from handover.store.models import User
from tests.support import PASSWORD, create_user, login

NEW = "lumi sataa hiljaa järven rannalla"


def change(client, current):
    return client.post("/account/password", data={
        "current_password": current, "new_password": NEW, "repeat_password": NEW,
    })


def test_sixth_wrong_current_password_is_throttled(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        user_id = user.id
        login(client, user)
    client.post("/language", data={"language": "en", "next": "/account"})
    for _ in range(5):
        response = change(client, "guess guess guess")
        assert response.status_code == 200
        assert "The current password is wrong." in response.get_data(as_text=True)
    throttled = change(client, "guess guess guess")
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    # Even the right password waits, so a hit cannot be told from a miss.
    assert change(client, PASSWORD).status_code == 429
    with app.app_context():
        assert verify_password(db.session.get(User, user_id).password_hash, PASSWORD)


def test_guesses_on_the_change_form_count_against_the_login(app, client):
    """One count per account (and browser): a session cookie copied into another browser
    guesses on the change form, and that leaves no fresh attempts at /login for browsers the
    account has never logged in from; the owner's own browser still logs in."""
    with app.app_context():
        user = create_user("anna@example.fi")
        user_id = user.id
        login(client, user)
    thief = app.test_client()
    thief.set_cookie("handover_session", client.get_cookie("handover_session").value)
    for _ in range(5):
        assert change(thief, "guess guess guess").status_code == 200
    stranger = app.test_client()
    response = stranger.post("/login", data={"email": "anna@example.fi", "password": PASSWORD},
                             environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 429
    client.post("/logout")
    with app.app_context():     # her own browser: not locked out by the thief's guesses
        login(client, db.session.get(User, user_id))


def test_changing_the_password_successfully_is_never_throttled(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        login(client, user)
    for _ in range(8):
        assert client.get("/account/password").status_code == 200
    assert change(client, PASSWORD).status_code == 302


def test_other_users_are_not_slowed_by_someone_elses_guesses(app, client):
    with app.app_context():
        anna = create_user("anna@example.fi")
        ben = create_user("ben@example.fi")
        login(client, anna)
        for _ in range(6):
            change(client, "guess guess guess")
        other = app.test_client()
        login(other, ben)
    assert change(other, "guess guess guess").status_code == 200
