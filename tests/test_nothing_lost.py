"""Nothing typed on a section page is lost (issue 14): a post that arrives after the session
ended is kept, sealed, for the person who typed it and given back on that section after they log
in again; nobody else ever gets it; a forged post keeps nothing; a background save answers the
page's script and counts as use; "Stay signed in" renews the session; a file attached from a
section page saves the typing around it.

CSRF protection is on here, as in production: the keep token must work with it, not around it.
"""

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import lifecycle_support
import pyotp
import pytest
from lifecycle_support import empty_draft, login_as
from sqlalchemy import select, text, update

from handover.security import passwords, totp
from handover.services import kept_typing
from handover.store.database import db
from handover.store.models import (
    Attachment,
    AuditEvent,
    KeptTyping,
    Membership,
    User,
    UserSession,
)
from handover.store.models.base import utcnow
from tests.support import PASSWORD, create_user, raw_database, stored_content

app_config = lifecycle_support.app_config
world = lifecycle_support.world

TYPED = "KEPT-MARKER-7f3 sleeps only with the lamp on"
SECTION = "health"


@pytest.fixture
def app(app_config, request):
    """The lifecycle app with CSRF protection switched back on."""
    app_config["WTF_CSRF_ENABLED"] = True
    return request.getfixturevalue("app")


def _tokens(client, path):
    """The CSRF and keep tokens the section page hands this browser."""
    page = client.get(path).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    keep = re.search(r'name="keep_token" value="([^"]+)"', page).group(1)
    return csrf, keep


def _expire_sessions(app):
    """Everyone's session has been idle longer than the timeout."""
    with app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=utcnow() - app.config["IDLE_TIMEOUT"] - timedelta(minutes=1)))
        db.session.commit()


def _kept_rows(app):
    with app.app_context():
        return db.session.execute(select(KeptTyping)).scalars().all()


def _events(app, action):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _colleague(app, world):
    """A second sender of the sending unit: they may edit the same draft."""
    with app.app_context():
        user = create_user("sending.colleague@example.test",
                           memberships=[(world.unit("sending"), "sender")])
        return SimpleNamespace(id=user.id)


def _on_page(app, client, world, page=f"sections/{SECTION}"):
    """A new draft, its sender logged in on one of its pages: (draft id, the page's path, its
    CSRF token, its keep token)."""
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    path = f"/handovers/{draft_id}/{page}"
    return (draft_id, path, *_tokens(client, path))


def _typed_after_expiry(app, client, world):
    """Sender opens the health section, their session expires, then they press Save."""
    draft_id, path, csrf, keep = _on_page(app, client, world)
    _expire_sessions(app)
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED, "continue": "1"})
    return draft_id, path, response


def test_text_posted_after_the_session_expired_comes_back_after_login(app, client, world):
    draft_id, path, response = _typed_after_expiry(app, client, world)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert path in response.headers["Location"].replace("%2F", "/")
    assert "health_notes" not in stored_content(app, draft_id), "nothing saved without a session"
    assert len(_kept_rows(app)) == 1

    login_as(client, app, world.users["sending_sender"])
    page = client.get(path).get_data(as_text=True)
    assert TYPED in page, "the kept text is back in the field"
    assert "What you typed was kept" in page, "and the page says so"
    assert stored_content(app, draft_id)["health_notes"] == TYPED, "and it is in the draft"
    assert _kept_rows(app) == [], "the kept copy is gone once given back"
    again = client.get(path).get_data(as_text=True)
    assert "What you typed was kept" not in again, "given back once"


def test_the_keep_and_the_restore_are_audited_without_the_text(app, client, world):
    draft_id, path, _ = _typed_after_expiry(app, client, world)
    login_as(client, app, world.users["sending_sender"])
    client.get(path)
    kept, restored = _events(app, "handover.typing_kept"), _events(app, "handover.typing_restored")
    assert len(kept) == 1 and len(restored) == 1
    for event in kept + restored:
        assert event.handover_id == draft_id
        assert event.actor_id == world.users["sending_sender"].id
        assert SECTION in event.detail and "KEPT-MARKER" not in event.detail


def test_a_colleague_who_may_edit_the_same_draft_gets_nothing(app, client, world):
    draft_id, path, _ = _typed_after_expiry(app, client, world)
    colleague = _colleague(app, world)
    login_as(client, app, colleague)
    page = client.get(path).get_data(as_text=True)
    assert client.get(path).status_code == 200, "the colleague may edit the draft"
    assert TYPED not in page and "What you typed was kept" not in page
    assert len(_kept_rows(app)) == 1, "still waiting for the person who typed it"
    assert _events(app, "handover.typing_restored") == []


def test_another_unit_gets_404_and_nothing(app, client, world):
    draft_id, path, _ = _typed_after_expiry(app, client, world)
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(path).status_code == 404
    assert len(_kept_rows(app)) == 1


@pytest.mark.parametrize("keep", [None, "", "forged.token.value", "TAMPER"])
def test_a_forged_post_without_a_valid_keep_token_stores_nothing(app, client, world, keep):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    path = f"/handovers/{draft_id}/sections/{SECTION}"
    csrf, real = _tokens(client, path)
    if keep == "TAMPER":
        keep = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    _expire_sessions(app)
    data = {"csrf_token": csrf, "health_notes": TYPED}
    if keep is not None:
        data["keep_token"] = keep
    response = client.post(path, data=data)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _kept_rows(app) == []
    assert _events(app, "handover.typing_kept") == []


def test_a_keep_token_for_another_section_or_draft_stores_nothing(app, client, world):
    draft_id = empty_draft(app, world)
    other_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    csrf, keep = _tokens(client, f"/handovers/{draft_id}/sections/{SECTION}")
    _expire_sessions(app)
    for path in (f"/handovers/{draft_id}/sections/child",
                 f"/handovers/{other_id}/sections/{SECTION}"):
        client.post(path, data={"csrf_token": csrf, "keep_token": keep, "child_name": TYPED,
                                "health_notes": TYPED})
    assert _kept_rows(app) == []


def test_a_cookieless_post_from_elsewhere_stores_nothing(app, world):
    """A browser that never had the page (no cookie, no token) posts: refused."""
    draft_id = empty_draft(app, world)
    response = app.test_client().post(f"/handovers/{draft_id}/sections/{SECTION}",
                                      data={"health_notes": TYPED})
    assert response.status_code == 302 and _kept_rows(app) == []


def test_a_user_who_lost_access_keeps_nothing(app, client, world):
    draft_id, path, csrf, keep = _on_page(app, client, world)
    _expire_sessions(app)
    with app.app_context():
        db.session.execute(Membership.__table__.delete().where(
            Membership.user_id == world.users["sending_sender"].id))
        db.session.commit()
    client.post(path, data={"csrf_token": csrf, "keep_token": keep, "health_notes": TYPED})
    assert _kept_rows(app) == []


def test_the_kept_text_is_not_in_the_raw_database(app, client, world, database_backend):
    _typed_after_expiry(app, client, world)
    assert len(_kept_rows(app)) == 1
    with app.app_context():
        raw = raw_database(database_backend)
    assert len(raw) > 100
    assert b"KEPT-MARKER-7f3" not in raw and b"lamp on" not in raw


def test_a_kept_copy_edited_into_text_is_reported_not_a_crash(app, client, world,
                                                             database_backend):
    """SQLite lets an edit put TEXT in the BLOB column, and text that is not UTF-8 used to fail
    the sender's page with a 500: the copy is now an integrity failure, dropped and audited,
    as a tampered handover is."""
    if database_backend != "sqlite":
        pytest.skip("PostgreSQL's bytea holds bytes only")
    draft_id, path, _ = _typed_after_expiry(app, client, world)
    with app.app_context():
        db.session.execute(text("UPDATE kept_typing SET fields = CAST(X'C3FF28' AS TEXT)"))
        db.session.commit()
    login_as(client, app, world.users["sending_sender"])
    page = client.get(path)
    assert page.status_code == 200
    assert TYPED not in page.get_data(as_text=True)
    assert _kept_rows(app) == []
    assert _events(app, "handover.integrity_failed")


def test_a_kept_copy_past_its_time_is_not_given_back_and_is_purged(app, client, world):
    draft_id, path, _ = _typed_after_expiry(app, client, world)
    with app.app_context():
        db.session.execute(update(KeptTyping).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    login_as(client, app, world.users["sending_sender"])
    assert TYPED not in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert kept_typing.purge() == 1
    assert _kept_rows(app) == []


def test_a_new_login_without_a_next_page_lands_on_the_kept_section(app, client, world):
    draft_id, path, _ = _typed_after_expiry(app, client, world)
    with app.app_context():
        user = world.user("sending_sender")
        user.password_hash = passwords.hash_password(PASSWORD)
        db.session.commit()
        secret = totp.secret_of(user)
    fresh = app.test_client()
    page = fresh.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fresh.post("/login", data={"email": "sending.sender@example.test", "password": PASSWORD,
                               "csrf_token": csrf})
    page = fresh.get("/login/totp").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = fresh.post("/login/totp", data={"code": pyotp.TOTP(secret).now(),
                                               "csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"] == path
    assert TYPED in fresh.get(path).get_data(as_text=True)


def test_logged_in_again_in_another_tab_the_old_page_still_saves(app, client, world):
    """Logging in again changes the CSRF token; the old tab's keep token vouches for it."""
    draft_id, path, csrf, keep = _on_page(app, client, world)
    _expire_sessions(app)
    with client.session_transaction() as session:
        session.pop("csrf_token", None)   # what a new login leaves: a fresh token
    login_as(client, app, world.users["sending_sender"])
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED, "continue": "1"})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    assert stored_content(app, draft_id)["health_notes"] == TYPED
    refused = client.post(path, data={"csrf_token": csrf, "health_notes": "x"})
    assert refused.status_code == 400, "without the keep token a stale CSRF token is refused"


def test_someone_else_logged_in_meanwhile_gets_nothing_and_the_typist_keeps_it(app, client,
                                                                                 world):
    draft_id, path, csrf, keep = _on_page(app, client, world)
    _expire_sessions(app)   # the typist's session timed out; a colleague logs in
    colleague = _colleague(app, world)
    with client.session_transaction() as session:
        session.pop("csrf_token", None)
    login_as(client, app, colleague)
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED})
    assert response.status_code == 302
    assert "health_notes" not in stored_content(app, draft_id), "not saved as the colleague"
    rows = _kept_rows(app)
    assert [row.user_id for row in rows] == [world.users["sending_sender"].id]


def test_after_logging_out_the_page_left_open_keeps_nothing(app, client, world):
    """A shared computer: whoever uses the page after its user logged out cannot leave text
    for them."""
    draft_id, path, csrf, keep = _on_page(app, client, world)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _kept_rows(app) == [] and "health_notes" not in stored_content(app, draft_id)


def test_a_colleague_logging_in_over_a_live_session_gets_no_text_kept_for_the_other(
        app, client, world):
    draft_id, path, csrf, keep = _on_page(app, client, world)
    with client.session_transaction() as session:
        session.pop("csrf_token", None)
    login_as(client, app, _colleague(app, world))
    client.post(path, data={"csrf_token": csrf, "keep_token": keep, "health_notes": TYPED})
    assert _kept_rows(app) == [] and "health_notes" not in stored_content(app, draft_id)


@pytest.mark.parametrize("page", ["sections/" + SECTION, "edit"])
def test_a_background_save_answers_json_and_counts_as_use(app, client, world, page):
    """On a section page and on the whole-form page alike."""
    draft_id, path, csrf, keep = _on_page(app, client, world, page)
    with app.app_context():   # idle for 29 of the 30 minutes
        db.session.execute(update(UserSession).values(
            last_seen_at=utcnow() - timedelta(minutes=29)))
        db.session.commit()
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED, "background_save": "1"})
    assert response.status_code == 200 and response.json["saved"] is True
    assert response.json["expires_in"] > 25 * 60, "the session starts its 30 minutes again"
    assert stored_content(app, draft_id)["health_notes"] == TYPED
    shown = client.get(path).get_data(as_text=True)
    assert "Saved:" not in shown and "Draft saved." not in shown, (
        "a background save leaves no message for the next page")


def test_a_background_save_without_csrf_token_saves_nothing(app, client, world):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    client.get(f"/handovers/{draft_id}/sections/{SECTION}")
    response = client.post(f"/handovers/{draft_id}/sections/{SECTION}",
                           data={"health_notes": TYPED, "background_save": "1"})
    assert response.status_code == 400
    assert "health_notes" not in stored_content(app, draft_id)


@pytest.mark.parametrize("page", ["sections/" + SECTION, "edit"])
def test_a_background_save_after_expiry_keeps_the_text_and_says_logged_out(
        app, client, world, page):
    draft_id, path, csrf, keep = _on_page(app, client, world, page)
    _expire_sessions(app)
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED, "background_save": "1"})
    assert response.status_code == 401
    assert response.json == {"signed_out": True, "kept": True}
    assert len(_kept_rows(app)) == 1


def test_stay_signed_in_renews_the_session(app, client, world):
    login_as(client, app, world.users["sending_sender"])
    page = client.get("/").get_data(as_text=True)
    assert 'role="alertdialog"' in page and "Stay signed in" in page
    assert "/static/js/session-timeout.js" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    with app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=utcnow() - timedelta(minutes=29)))
        db.session.commit()
    assert client.post("/session/refresh", headers={"Accept": "application/json"}
                       ).status_code == 400, "CSRF-protected"
    response = client.post("/session/refresh", data={"csrf_token": csrf},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["expires_in"] > 29 * 60
    plain = client.post("/session/refresh", data={"csrf_token": csrf, "next": "/handovers/"})
    assert plain.status_code == 302 and plain.headers["Location"] == "/handovers/"
    _expire_sessions(app)
    response = client.post("/session/refresh", data={"csrf_token": csrf},
                           headers={"Accept": "application/json"})
    assert response.status_code == 401, "an ended session is not brought back"


@pytest.mark.parametrize("seconds, english, finnish", [
    (120, "logged out in about 2 minutes", "noin 2 minuutin kuluttua"),
    (300, "logged out in about 5 minutes", "noin 5 minuutin kuluttua"),
    (60, "logged out in about 1 minute.", "noin minuutin kuluttua"),
    (90, "logged out in about 2 minutes", "noin 2 minuutin kuluttua"),
    (30, "logged out in about 1 minute.", "noin minuutin kuluttua"),
])
def test_the_warning_says_the_time_it_was_set_to(app, client, world, seconds, english, finnish):
    app.config["SESSION_WARNING_SECONDS"] = seconds
    login_as(client, app, world.users["sending_sender"])
    page = client.get("/").get_data(as_text=True)
    assert f'data-warn-before="{seconds}"' in page
    assert english in page
    with client.session_transaction() as session:
        session["language"] = "fi"
    with app.app_context():
        db.session.execute(update(User).values(language=None))
        db.session.commit()
    assert finnish in client.get("/").get_data(as_text=True)


def test_the_tabs_of_a_session_share_a_key_that_is_not_its_id(app, client, world):
    """The key the tabs of one session tell each other their times under: the same on every
    page of the session, another for the next session, and never the session id itself."""
    def key_on_a_page():
        page = client.get("/").get_data(as_text=True)
        return re.search(r'data-session-key="([0-9a-f]{24})"', page).group(1)

    login_as(client, app, world.users["sending_sender"])
    first = key_on_a_page()
    assert key_on_a_page() == first
    with client.session_transaction() as session:
        session_id = session["_user_id"]
    assert session_id not in client.get("/").get_data(as_text=True)
    login_as(client, app, world.users["sending_sender"])
    assert key_on_a_page() != first


def test_the_warning_is_only_on_logged_in_pages(client):
    page = client.get("/login").get_data(as_text=True)
    assert "session-warning" not in page and "session-timeout.js" not in page


def test_attaching_a_file_on_a_section_page_saves_the_typing(app, client, world):
    draft_id, path, csrf, keep = _on_page(app, client, world)
    response = client.post(path, data={
        "csrf_token": csrf, "keep_token": keep, "health_notes": TYPED, "attach": "1",
        "file": (io.BytesIO(b"%PDF-1.4 test"), "report.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{path}#attachments"
    assert stored_content(app, draft_id)["health_notes"] == TYPED
    with app.app_context():
        assert db.session.execute(select(Attachment)).scalars().all()
    page = client.get(path).get_data(as_text=True)
    assert TYPED in page and "report.pdf" in page


def test_attach_without_a_file_still_saves_the_typing(app, client, world):
    draft_id, path, csrf, keep = _on_page(app, client, world)
    response = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                       "health_notes": TYPED, "attach": "1"},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'href="#attachment-file"' in response.get_data(as_text=True)
    assert stored_content(app, draft_id)["health_notes"] == TYPED


def test_attaching_a_file_on_the_one_page_form_saves_the_typing(app, client, world):
    """The one-page form posts its file with the typed fields (the file input belongs to the
    fill form), so attaching there drops nothing either."""
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    path = f"/handovers/{draft_id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'form="fill-form"' in page and 'enctype="multipart/form-data" id="fill-form"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(path, data={
        "csrf_token": csrf, "health_notes": TYPED, "attach": "1",
        "file": (io.BytesIO(b"%PDF-1.4 test"), "report.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{path}#attachments-title"
    assert stored_content(app, draft_id)["health_notes"] == TYPED
    page = client.get(path).get_data(as_text=True)
    assert TYPED in page and "report.pdf" in page


@pytest.mark.parametrize("page", ["sections/" + SECTION, "edit"])
def test_a_file_chosen_when_the_session_had_ended_is_said_to_be_not_kept(
        app, client, world, page):
    """Only typing is kept past an expired session: the typed text comes back, and the person
    is told at once that the file they chose was not, so they do not trust it to be attached."""
    draft_id, path, csrf, keep = _on_page(app, client, world, page)
    _expire_sessions(app)
    response = client.post(path, data={
        "csrf_token": csrf, "keep_token": keep, "health_notes": TYPED, "attach": "1",
        "file": (io.BytesIO(b"%PDF-1.4 test"), "report.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    shown = response.get_data(as_text=True)
    assert "What you typed is kept safe" in shown
    assert "The file you chose was not attached and not kept" in shown
    assert len(_kept_rows(app)) == 1
    with app.app_context():
        assert db.session.execute(select(Attachment)).first() is None


@pytest.mark.parametrize("page", ["sections/" + SECTION, "edit"])
def test_typing_kept_without_a_file_says_nothing_about_files(app, client, world, page):
    draft_id, path, csrf, keep = _on_page(app, client, world, page)
    _expire_sessions(app)
    shown = client.post(path, data={"csrf_token": csrf, "keep_token": keep,
                                    "health_notes": TYPED, "save": "1"},
                        follow_redirects=True).get_data(as_text=True)
    assert "What you typed is kept safe" in shown and "The file you chose" not in shown
