"""Nothing typed is lost when a session ends, on every page where staff type (issue 14, beyond
the section pages of `test_nothing_lost`): the whole form of a draft, a reply form, the free-text
reply and the note on receipt on a handover's page. What is posted after the session timed out
is kept, sealed, for the person who typed it, and is back on the page after they log in again,
with a notice; nothing is sent or acknowledged until they press the button themselves.

Nobody else gets it: a post after logging out, one whose writer may no longer reply or
acknowledge, and one without a valid keep token keep nothing. CSRF protection is on here, as in
production.
"""

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import unquote

import lifecycle_support
import pyotp
import pytest
from lifecycle_support import FORM_KEY, handover, login_as, send_handover
from sqlalchemy import delete, func, select, update

from handover.security import passwords, totp
from handover.services import closing, drafts, policy, reading, sending, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent, KeptTyping, Membership, Reply, UserSession
from handover.store.models.base import utcnow
from tests.support import PASSWORD, create_user, raw_database

world = lifecycle_support.world

TYPED = "KEEP-EVERYWHERE-5c1 wakes at four and asks for grandmother"
SECRET_WORDS = (b"KEEP-EVERYWHERE-5c1", b"asks for grandmother")
REPLY_FORM = "ward_reply"


@pytest.fixture
def app_config(app_config, instance_path):
    """The lifecycle test plugin installed, and CSRF protection switched back on."""
    lifecycle_support.install_plugin(instance_path)
    return {**app_config, "WTF_CSRF_ENABLED": True}


@dataclass(frozen=True)
class Place:
    """One page where staff type: who types there, where the page is, where its form posts,
    the field typed into, and the place's key in the kept_typing table."""

    name: str
    user: str
    page: str
    action: str
    field: str
    key: str
    button: tuple = ()


PLACES = {
    "whole-form": Place("whole-form", "sending_sender", "/handovers/{id}/edit",
                        "/handovers/{id}/edit", "health_notes", "whole-form", ("save", "1")),
    "reply-form": Place("reply-form", "receiving_receiver", f"/handovers/{{id}}/reply/{REPLY_FORM}",
                        f"/handovers/{{id}}/reply/{REPLY_FORM}", "primary_nurse",
                        f"reply:{REPLY_FORM}"),
    "reply-message": Place("reply-message", "receiving_receiver", "/handovers/{id}",
                           "/handovers/{id}/reply", "message", "reply-message"),
    "acknowledge-note": Place("acknowledge-note", "receiving_receiver", "/handovers/{id}",
                              "/handovers/{id}/acknowledge", "note", "acknowledge-note"),
}
#: For each place, another place of the same user and handover: its keep token is real, but
#: names another place. (The note on receipt and the reply share the handover page's one token.)
OTHER_PLACE = {
    "whole-form": Place("section", "sending_sender", "/handovers/{id}/sections/health",
                        "/handovers/{id}/sections/health", "health_notes", "health"),
    "reply-form": PLACES["acknowledge-note"],
    "reply-message": PLACES["reply-form"],
    "acknowledge-note": PLACES["reply-form"],
}


def handover_for(app, world, place):
    """A draft for the whole form; else a handover sent to the receiving unit."""
    with app.app_context():
        if place.name == "whole-form":
            return drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                                world.unit("receiving"), [], "lsl_disclosure").id
        return send_handover(world)


def form_of(page, place):
    """The HTML of the place's form on its page (a reply form's posts to its own page)."""
    start = ('<form method="post" novalidate>' if place.name == "reply-form"
             else f'<form method="post" action="{place.action}"')
    return page[page.index(start):].split("</form>", 1)[0]


def tokens(client, place, handover_id):
    """The CSRF and keep tokens of the place's form, as the page hands them to this browser."""
    page = client.get(place.page.format(id=handover_id)).get_data(as_text=True)
    form = form_of(page, replace(place, action=place.action.format(id=handover_id)))
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    keep = re.search(r'name="keep_token" value="([^"]*)"', form).group(1)
    return csrf, keep


def typed(place, csrf, keep, words=TYPED):
    """What the browser posts when the user presses the place's button."""
    data = {"csrf_token": csrf, place.field: words}
    if keep is not None:
        data["keep_token"] = keep
    if place.button:
        data[place.button[0]] = place.button[1]
    return data


def expire_sessions(app):
    """Everyone's session has been idle longer than the timeout."""
    with app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=utcnow() - app.config["IDLE_TIMEOUT"] - timedelta(minutes=1)))
        db.session.commit()


def kept_rows(app):
    with app.app_context():
        return [(row.user_id, row.handover_id, row.section_key)
                for row in db.session.execute(select(KeptTyping)).scalars()]


def events(app, action):
    with app.app_context():
        return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                  ).scalars().all()


def replies_of(app, handover_id):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Reply).where(
            Reply.handover_id == handover_id)).scalar()


def acknowledged(app, handover_id):
    with app.app_context():
        return handover(handover_id).acknowledged_at is not None


def log_in_through_the_form(app, client, world, user_name, login_page):
    """The login page (as the post led to it), the password, the one-time code: where the
    login leads."""
    with app.app_context():
        user = world.user(user_name)
        user.password_hash = passwords.hash_password(PASSWORD)
        db.session.commit()
        secret, email = totp.secret_of(user), user.email
    page = client.get(login_page).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(login_page, data={"email": email, "password": PASSWORD, "csrf_token": csrf})
    page = client.get("/login/totp").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login/totp", data={"code": pyotp.TOTP(secret).now(),
                                                "csrf_token": csrf})
    assert response.status_code == 302
    return response.headers["Location"]


def typed_after_expiry(app, client, world, place):
    """The user opens the place's page, their session times out, then they press the button."""
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[place.user])
    csrf, keep = tokens(client, place, handover_id)
    expire_sessions(app)
    response = client.post(place.action.format(id=handover_id), data=typed(place, csrf, keep))
    return handover_id, response


def nothing_was_done(app, place, handover_id):
    """The post kept its text but did nothing else: no save, no reply, no acknowledgement."""
    if place.name == "whole-form":
        with app.app_context():
            assert "health_notes" not in drafts.content_of(handover(handover_id))
    else:
        assert replies_of(app, handover_id) == 0
        assert not acknowledged(app, handover_id)


NOTICES = {
    "whole-form": "What you typed was kept, is back in the fields below and has been saved",
    "reply-form": "It has not been sent: check it",
    "reply-message": "It has not been sent: check it and press “Send reply”",
    "acknowledge-note": "Receipt has not been acknowledged",
}


@pytest.mark.parametrize("name", PLACES)
def test_typing_posted_after_the_session_timed_out_is_back_after_logging_in(
        app, client, world, name):
    place = PLACES[name]
    handover_id, response = typed_after_expiry(app, client, world, place)
    page = place.page.format(id=handover_id)
    assert response.status_code == 302
    login_page = response.headers["Location"]
    assert login_page.startswith("/login?next=") and unquote(login_page).endswith(
        "next=" + page), "back to the page after logging in, not to where the form posts"
    shown = client.get(login_page).get_data(as_text=True)
    assert 'name="password"' in shown and "What you typed is kept safe" in shown
    assert kept_rows(app) == [(world.users[place.user].id, handover_id, place.key)]
    nothing_was_done(app, place, handover_id)

    assert log_in_through_the_form(app, client, world, place.user, login_page) == page
    shown = client.get(page).get_data(as_text=True)
    assert TYPED in shown, "what was typed is back in the field"
    assert NOTICES[name] in shown, "and the page says so"
    assert kept_rows(app) == [], "given back once, then gone"
    again = client.get(page).get_data(as_text=True)
    assert NOTICES[name] not in again
    if name == "whole-form":
        with app.app_context():
            assert drafts.content_of(handover(handover_id))["health_notes"] == TYPED
    else:
        nothing_was_done(app, place, handover_id)


@pytest.mark.parametrize("name", ["reply-form", "reply-message", "acknowledge-note"])
def test_the_user_presses_the_button_themselves_on_the_given_back_page(app, client, world,
                                                                        name):
    place = PLACES[name]
    handover_id, _ = typed_after_expiry(app, client, world, place)
    login_as(client, app, world.users[place.user])
    csrf, keep = tokens(client, place, handover_id)
    response = client.post(place.action.format(id=handover_id), data=typed(place, csrf, keep))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/handovers/{handover_id}")
    if name == "acknowledge-note":
        assert acknowledged(app, handover_id)
    else:
        assert replies_of(app, handover_id) == 1


def test_the_chosen_basis_of_disclosure_of_a_reply_comes_back_too(app, client, world):
    place = PLACES["reply-message"]
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[place.user])
    csrf, keep = tokens(client, place, handover_id)
    expire_sessions(app)
    client.post(place.action.format(id=handover_id),
                data={**typed(place, csrf, keep), "legal_basis": "guardian_consent"})
    login_as(client, app, world.users[place.user])
    shown = client.get(place.page.format(id=handover_id)).get_data(as_text=True)
    assert re.search(r'value="guardian_consent" checked', shown)


def test_a_fresh_login_without_a_next_page_lands_where_the_typing_waits(app, client, world):
    place = PLACES["acknowledge-note"]
    handover_id, _ = typed_after_expiry(app, client, world, place)
    fresh = app.test_client()
    assert log_in_through_the_form(app, fresh, world, place.user, "/login") == (
        f"/handovers/{handover_id}")
    assert TYPED in fresh.get(f"/handovers/{handover_id}").get_data(as_text=True)


@pytest.mark.parametrize("name", PLACES)
def test_the_keep_and_the_give_back_are_audited_without_the_text(app, client, world, name):
    place = PLACES[name]
    handover_id, _ = typed_after_expiry(app, client, world, place)
    login_as(client, app, world.users[place.user])
    client.get(place.page.format(id=handover_id))
    kept, restored = events(app, "handover.typing_kept"), events(app, "handover.typing_restored")
    assert len(kept) == 1 and len(restored) == 1
    acting_unit = world.units["sending" if place.user == "sending_sender" else "receiving"].id
    for event in kept + restored:
        assert event.handover_id == handover_id
        assert event.actor_id == world.users[place.user].id
        assert event.unit_id == acting_unit, "the unit the user acts for"
        assert place.key in event.detail and "KEEP-EVERYWHERE" not in event.detail


def test_the_typed_text_is_never_stored_in_plaintext(app, client, world, database_backend):
    """All four places keep their text at once; nowhere in the database (audit included) is
    it readable."""
    for place in PLACES.values():
        typed_after_expiry(app, client, world, place)
    assert len(kept_rows(app)) == 4
    with app.app_context():
        raw = raw_database(database_backend)
    assert len(raw) > 1000
    for words in SECRET_WORDS:
        assert words not in raw


@pytest.mark.parametrize("name", PLACES)
def test_after_logging_out_the_page_left_open_keeps_nothing(app, client, world, name):
    """A shared computer: whoever presses the button after its user logged out cannot leave
    text for them."""
    place = PLACES[name]
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[place.user])
    csrf, keep = tokens(client, place, handover_id)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    response = client.post(place.action.format(id=handover_id), data=typed(place, csrf, keep))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert kept_rows(app) == [] and events(app, "handover.typing_kept") == []
    nothing_was_done(app, place, handover_id)


@pytest.mark.parametrize("name", PLACES)
@pytest.mark.parametrize("keep", [None, "", "forged.token.value", "TAMPER", "OTHER-PLACE"])
def test_a_post_without_a_valid_keep_token_keeps_nothing(app, client, world, name, keep):
    place = PLACES[name]
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[place.user])
    csrf, real = tokens(client, place, handover_id)
    if keep == "TAMPER":
        keep = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    elif keep == "OTHER-PLACE":
        keep = tokens(client, OTHER_PLACE[name], handover_id)[1]
    expire_sessions(app)
    response = client.post(place.action.format(id=handover_id), data=typed(place, csrf, keep))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert kept_rows(app) == [] and events(app, "handover.typing_kept") == []
    nothing_was_done(app, place, handover_id)


def acknowledge_meanwhile(app, world, handover_id):
    """A colleague of the receiving unit acknowledges receipt."""
    with app.app_context():
        lead = world.user("receiving_lead")
        reading.acknowledge(policy.require(lead, handover_id, "acknowledge"), lead, "")


def withdraw_meanwhile(app, world, handover_id):
    with app.app_context():
        sender = world.user("sending_sender")
        withdrawal.withdraw(policy.require(sender, handover_id, "withdraw"), sender)


def close_meanwhile(app, world, handover_id):
    """Acknowledged, then closed by the receiving unit: nobody replies any more."""
    acknowledge_meanwhile(app, world, handover_id)
    with app.app_context():
        lead = world.user("receiving_lead")
        closing.close(policy.require(lead, handover_id, "close"), lead)


def leave_the_unit(app, world, user_name):
    with app.app_context():
        db.session.execute(delete(Membership).where(
            Membership.user_id == world.users[user_name].id))
        db.session.commit()


@pytest.mark.parametrize("name, user, change", [
    ("acknowledge-note", "receiving_receiver", "acknowledged"),
    ("reply-message", "sending_sender", "withdrawn"),
    ("reply-message", "receiving_receiver", "closed"),
    ("reply-form", "receiving_receiver", "closed"),
    ("reply-form", "receiving_receiver", "left the unit"),
    ("whole-form", "sending_sender", "sent"),
])
def test_a_user_who_may_no_longer_do_it_gets_nothing_kept_and_no_error(
        app, client, world, name, user, change):
    place = replace(PLACES[name], user=user)
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[user])
    csrf, keep = tokens(client, place, handover_id)
    if change == "acknowledged":
        acknowledge_meanwhile(app, world, handover_id)
    elif change == "withdrawn":
        withdraw_meanwhile(app, world, handover_id)
    elif change == "closed":
        close_meanwhile(app, world, handover_id)
    elif change == "left the unit":
        leave_the_unit(app, world, user)
    else:
        with app.app_context():
            sender = world.user(user)
            draft = handover(handover_id)
            drafts.save(sender, draft, lifecycle_support.content())
            sending.send(sender, draft, "token-sent-meanwhile")
    expire_sessions(app)
    response = client.post(place.action.format(id=handover_id), data=typed(place, csrf, keep))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert kept_rows(app) == [] and events(app, "handover.typing_kept") == []
    assert replies_of(app, handover_id) == 0


def test_acknowledged_by_a_colleague_after_the_keep_the_note_is_not_given_back(
        app, client, world):
    """Kept while it could still be acknowledged; by the time the user is back, a colleague has
    acknowledged it: the page shows no form to put the note in, and no error."""
    place = PLACES["acknowledge-note"]
    handover_id, _ = typed_after_expiry(app, client, world, place)
    acknowledge_meanwhile(app, world, handover_id)
    login_as(client, app, world.users[place.user])
    response = client.get(place.page.format(id=handover_id))
    assert response.status_code == 200
    assert TYPED not in response.get_data(as_text=True)
    assert events(app, "handover.typing_restored") == []


def test_a_colleague_of_the_same_unit_gets_nothing(app, client, world):
    place = PLACES["reply-message"]
    handover_id, _ = typed_after_expiry(app, client, world, place)
    with app.app_context():
        colleague = create_user("receiving.colleague@example.test",
                                memberships=[(world.unit("receiving"), "receiver")])
        colleague_id = colleague.id
    login_as(client, app, SimpleNamespace(id=colleague_id))
    shown = client.get(place.page.format(id=handover_id)).get_data(as_text=True)
    assert 'name="message"' in shown, "the colleague may reply too"
    assert TYPED not in shown
    assert len(kept_rows(app)) == 1, "still waiting for the person who typed it"


@pytest.mark.parametrize("name", ["reply-message", "acknowledge-note", "reply-form"])
def test_logged_in_again_in_another_tab_the_old_page_still_posts(app, client, world, name):
    """Logging in again changes the CSRF token; the old tab's keep token vouches for it, and
    the form's own check does not refuse it a second time."""
    place = PLACES[name]
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[place.user])
    csrf, keep = tokens(client, place, handover_id)
    expire_sessions(app)
    with client.session_transaction() as session:
        session.pop("csrf_token", None)   # what a new login leaves: a fresh token
    login_as(client, app, world.users[place.user])
    response = client.post(place.action.format(id=handover_id), data=typed(place, csrf, keep))
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    if name == "acknowledge-note":
        assert acknowledged(app, handover_id)
    else:
        assert replies_of(app, handover_id) == 1
    refused = client.post(place.action.format(id=handover_id), data=typed(place, csrf, None))
    assert refused.status_code == 400, "without the keep token a stale CSRF token is refused"


def test_the_whole_form_logged_in_again_in_another_tab_previews(app, client, world):
    place = PLACES["whole-form"]
    handover_id = handover_for(app, world, place)
    login_as(client, app, world.users[place.user])
    csrf, keep = tokens(client, place, handover_id)
    expire_sessions(app)
    with client.session_transaction() as session:
        session.pop("csrf_token", None)
    login_as(client, app, world.users[place.user])
    filled = {**lifecycle_support.content(), "csrf_token": csrf, "keep_token": keep,
              "preview": "1"}
    response = client.post(place.action.format(id=handover_id), data=filled)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/handovers/{handover_id}/preview"


@pytest.mark.parametrize("page", ["/handovers/{id}/edit", f"/handovers/{{id}}/reply/{REPLY_FORM}"])
def test_the_pages_still_need_a_login(app, world, page):
    with app.app_context():
        handover_id = send_handover(world)
    response = app.test_client().get(page.format(id=handover_id))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
