"""Issue 14, nothing typed is lost, in a real browser: a session that expires in the middle of a
section loses nothing (with and without JavaScript), the page saves in the background while the
user types, attaching a file keeps the typing, and a warning before the idle timeout offers
"Stay signed in". axe-core checks each page; screenshots go to test-artifacts/nothing-lost/.

The server runs with a one-minute idle timeout (its instance's config.py), so that the warning
comes within the test: it opens 25 seconds after the last use. An expiry is made by moving the
session's last use back in the database, as the passing of time would.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import fi, labelled, log_in_user
from playwright.sync_api import expect
from sqlalchemy import select, update

from handover.cli.demo import DEMO_PASSWORD
from handover.plugins import manager as plugin_manager
from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover, KeptTyping, Unit, User, UserSession
from handover.store.models.base import utcnow

FORM_KEY = "psychiatric_ward_preinfo"
KEY_WORKER = "omaohjaaja@demo.handover.example"
INSTITUTION = "Demo: Lastensuojelulaitos Majakka"
WARD = "Demo: Nuorisopsykiatrian osasto 3"
SHORT_SESSIONS = """
from datetime import timedelta
IDLE_TIMEOUT = timedelta(seconds=60)
SESSION_TOUCH_INTERVAL = timedelta(seconds=1)
SESSION_WARNING_SECONDS = 35
BACKGROUND_SAVE_DELAY_MS = 800
"""


@pytest.fixture(scope="module")
def server(demo_server):
    """The live server with the demo data, restarted with short sessions."""
    demo_server.stop()
    with (Path(demo_server.instance_path) / "config.py").open("a") as config:
        config.write(SHORT_SESSIONS)
    return demo_server.serve()


@pytest.fixture
def folder(artifacts_dir):
    path = artifacts_dir / "nothing-lost"
    path.mkdir(exist_ok=True)
    return path


def _key_worker(server):
    with server.app.app_context():
        return db.session.execute(select(User.id).where(User.email == KEY_WORKER)).scalar_one()


def _new_draft(server):
    """A draft of the ward form, and the first section with a free-text field: (draft id,
    section key, the field's Finnish label)."""
    with server.app.app_context():
        definition = plugin_manager.registry().get(FORM_KEY)
        user = db.session.execute(select(User).where(User.email == KEY_WORKER)).scalar_one()
        unit = db.session.execute(select(Unit).where(Unit.name == INSTITUTION)).scalar_one()
        ward = db.session.execute(select(Unit).where(Unit.name == WARD)).scalar_one()
        draft = drafts.start(user, unit, FORM_KEY, ward, [], definition.legal_bases[0].value)
        for section in definition.sections:
            for field in section.fields_for(unit.kind):
                if field.type == "textarea" and not field.show_if:
                    return draft.id, section.key, field.label_in("fi"), field.key
    raise AssertionError("the ward form has no free-text field")


def _expire_session(server):
    with server.app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()


def _saved(server, draft_id):
    with server.app.app_context():
        return drafts.content_of(db.session.get(Handover, draft_id))


def _check_as_shown(browser, check_accessibility, page):
    """axe-core needs JavaScript in the page, so a page shown without it is checked as it was
    shown: the same HTML at the same address (its styles loaded from the server), in a
    page where scripts run."""
    url, html = page.url.split("#")[0], page.content()
    checker = browser.new_page(viewport=page.viewport_size)
    checker.route(url, lambda route: route.fulfill(body=html,
                                                   content_type="text/html; charset=utf-8"))
    checker.goto(url)
    check_accessibility(checker)
    checker.close()


def _kept_copies(server):
    with server.app.app_context():
        return len(db.session.execute(select(KeptTyping.id)).all())


def _last_use(server):
    with server.app.app_context():
        return db.session.execute(select(UserSession.last_seen_at).where(
            UserSession.revoked_at.is_(None)).order_by(UserSession.last_seen_at.desc())
        ).scalars().first()


def _section_page_without_javascript(server, browser):
    """A new draft's section page, the key worker logged in, in a browser without JavaScript:
    (context, page, draft id, section key, the field's label, the field's key)."""
    draft_id, section_key, label, field_key = _new_draft(server)
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in_user(page, server, _key_worker(server), DEMO_PASSWORD)
    page.goto(f"{server.url}/handovers/{draft_id}/sections/{section_key}")
    return context, page, draft_id, section_key, label, field_key


def test_an_expired_session_in_the_middle_of_a_section_loses_nothing(
        server, browser, check_accessibility, folder):
    """Without JavaScript: the plain form post after the session ended."""
    context, page, draft_id, section_key, label, field_key = _section_page_without_javascript(
        server, browser)
    typed = "Nukkuu vain valo päällä. Ei koskaan yksin suihkuun. KEPT-1"
    page.get_by_label(labelled(label)).fill(typed)
    _expire_session(server)
    page.get_by_role("button", name=fi("Save and continue")).click()

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/login" in page.url
    expect(page.get_by_text(fi("Your session had ended, so you were logged out. What you typed "
                               "is kept safe: log in again and it will be back on the "
                               "page."))).to_be_visible()
    _check_as_shown(browser, check_accessibility, page)
    page.screenshot(path=str(folder / "expired-login.png"), full_page=True)
    assert field_key not in _saved(server, draft_id), "nothing reached the draft unseen"

    log_in_user(page, server, _key_worker(server), DEMO_PASSWORD)
    assert page.url.endswith(f"/handovers/{draft_id}/sections/{section_key}")
    expect(page.get_by_label(labelled(label))).to_have_value(typed)
    expect(page.get_by_text(fi("Your session had ended before this page was saved. What you "
                               "typed was kept, is back in the fields below and has been "
                               "saved in the draft."))).to_be_visible()
    _check_as_shown(browser, check_accessibility, page)
    page.screenshot(path=str(folder / "expired-restored.png"), full_page=True)
    assert _saved(server, draft_id)[field_key] == typed
    assert _kept_copies(server) == 0, "the kept copy is deleted once given back"
    context.close()


@pytest.mark.parametrize("whole_form", [False, True], ids=["section", "whole-form"])
def test_typing_is_saved_in_the_background(server, browser, check_accessibility, folder,
                                           whole_form):
    draft_id, section_key, label, field_key = _new_draft(server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_user(page, server, _key_worker(server), DEMO_PASSWORD)
    page.goto(f"{server.url}/handovers/{draft_id}/" + (
        "edit" if whole_form else f"sections/{section_key}"))
    typed = f"Kirjoitettu taustatallennusta varten. AUTO-2 {whole_form}"
    page.get_by_label(labelled(label)).press_sequentially(typed, delay=5)
    expect(page.get_by_role("status").filter(
        has_text=fi("Draft saved automatically."))).to_be_visible(timeout=15000)
    check_accessibility(page)
    page.screenshot(path=str(folder / f"background-saved-{whole_form}.png"), full_page=True)
    assert _saved(server, draft_id)[field_key] == typed
    page.reload()
    expect(page.get_by_label(labelled(label))).to_have_value(typed)
    page.close()


def test_an_expired_session_with_javascript_keeps_the_typing_and_says_so(
        server, browser, check_accessibility, folder):
    """The background save after the session ended is kept; the warning turns into "logged
    out" with a way to log in again, and after it the whole text is back."""
    draft_id, section_key, label, field_key = _new_draft(server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_user(page, server, _key_worker(server), DEMO_PASSWORD)
    page.goto(f"{server.url}/handovers/{draft_id}/sections/{section_key}")
    field = page.get_by_label(labelled(label))
    field.fill("Ensimmäinen osa.")
    expect(page.get_by_role("status").filter(
        has_text=fi("Draft saved automatically."))).to_be_visible(timeout=15000)
    _expire_session(server)
    field.press_sequentially(" Toinen osa, kirjoitettu istunnon päätyttyä. KEPT-3", delay=5)
    dialog = page.get_by_role("alertdialog", name=fi("You have been logged out"))
    expect(dialog).to_be_visible(timeout=15000)
    expect(dialog.get_by_role("link", name=fi("Log in again"))).to_be_focused()
    check_accessibility(page)
    page.screenshot(path=str(folder / "logged-out-dialog.png"))
    assert _kept_copies(server) == 1
    dialog.get_by_role("link", name=fi("Log in again")).click()
    expect(page.get_by_label(fi("E-mail address"))).to_be_visible()

    log_in_user(page, server, _key_worker(server), DEMO_PASSWORD)
    whole = "Ensimmäinen osa. Toinen osa, kirjoitettu istunnon päätyttyä. KEPT-3"
    expect(page.get_by_label(labelled(label))).to_have_value(whole)
    assert _saved(server, draft_id)[field_key] == whole
    page.close()


def test_an_upload_keeps_the_typed_text(server, browser, check_accessibility, folder, tmp_path):
    """Without JavaScript, so that only the upload's own post can have saved the typing."""
    context, page, draft_id, section_key, label, field_key = _section_page_without_javascript(
        server, browser)
    typed = "Lääkärin lausunto liitteenä. UPLOAD-4"
    page.get_by_label(labelled(label)).fill(typed)
    report = tmp_path / "lausunto.pdf"
    report.write_bytes(b"%PDF-1.4\n%test\n")
    page.get_by_label(fi("File (PDF, JPEG or PNG)")).set_input_files(str(report))
    page.get_by_role("button", name=fi("Attach"), exact=True).click()

    expect(page.get_by_role("link", name="lausunto.pdf")).to_be_visible()
    assert page.url.endswith(f"/sections/{section_key}#attachments"), "back where the user was"
    expect(page.get_by_label(labelled(label))).to_have_value(typed)
    assert _saved(server, draft_id)[field_key] == typed
    _check_as_shown(browser, check_accessibility, page)
    page.screenshot(path=str(folder / "attached.png"), full_page=True)
    context.close()


def test_the_warning_before_the_timeout_offers_to_stay_signed_in(
        server, browser, check_accessibility, folder):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_user(page, server, _key_worker(server), DEMO_PASSWORD)
    # The browser's clock is the test's: the warning comes 25 s after the last use (a
    # 60 s timeout, warned 35 s before), without the test waiting for it.
    page.clock.install()
    page.goto(server.url + "/")
    dialog = page.get_by_role("alertdialog", name=fi("You will be logged out soon"))
    expect(dialog).to_be_hidden()
    page.clock.fast_forward(20_000)
    expect(dialog).to_be_hidden()
    page.clock.fast_forward(6_000)
    expect(dialog).to_be_visible()
    stay = dialog.get_by_role("button", name=fi("Stay signed in"))
    expect(stay).to_be_focused()
    check_accessibility(page)
    page.screenshot(path=str(folder / "session-warning.png"))
    before = _last_use(server)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    assert _last_use(server) > before, "the session counts as used again"
    expect(page.get_by_role("button", name=fi("Log out"))).to_be_visible()

    page.clock.fast_forward(26_000)
    expect(dialog).to_be_visible()   # the countdown started again
    before = _last_use(server)
    page.keyboard.press("Escape")   # Escape also keeps the session
    expect(dialog).to_be_hidden()
    assert _last_use(server) > before
    page.close()


def test_a_tab_left_open_follows_the_session_used_in_another(server, browser):
    """Two tabs of one session: the tab left open neither warns nor ends while the user works
    in the other. The browser's clock is the test's; the server's session stays fresh."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.clock.install()
        left_open = context.new_page()
        log_in_user(left_open, server, _key_worker(server), DEMO_PASSWORD)
        left_open.goto(server.url + "/")
        warning = left_open.get_by_role("alertdialog", name=fi("You will be logged out soon"))
        context.clock.fast_forward(20_000)
        working = context.new_page()
        working.goto(server.url + "/")   # the other tab uses the session: it runs on from here
        context.clock.fast_forward(15_000)
        # 35 s after the first tab's page: on its own count it would warn after 60 - 35 = 25 s.
        expect(warning).to_be_hidden()
        context.clock.fast_forward(12_000)
        # 27 s after the other tab's page: the warning, 35 s before the session ends.
        expect(warning).to_be_visible()
        context.clock.fast_forward(16_000)
        # 63 s after the first tab's page, past its own count's end: still only the warning.
        expect(warning).to_be_visible()
        expect(left_open.get_by_role("alertdialog", name=fi("You have been logged out"))
               ).to_have_count(0)
    finally:
        context.close()


def test_logging_out_in_one_tab_ends_the_others(server, browser, check_accessibility):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        left_open = context.new_page()
        log_in_user(left_open, server, _key_worker(server), DEMO_PASSWORD)
        left_open.goto(server.url + "/")
        working = context.new_page()
        working.goto(server.url + "/")
        working.get_by_role("button", name=fi("Log out")).click()
        ended = left_open.get_by_role("alertdialog", name=fi("You have been logged out"))
        expect(ended).to_be_visible()
        expect(ended).to_contain_text(
            fi("Your session ended in another tab or window. Log in again to continue."))
        expect(ended.get_by_role("link", name=fi("Log in again"))).to_be_focused()
        check_accessibility(left_open)
    finally:
        context.close()
