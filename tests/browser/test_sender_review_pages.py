"""The reviewer's findings on the fill pages, in a real browser with JavaScript: a whole-form
page left open in one tab does not overwrite what another tab saved (its background save
neither), a field changed in both is named on the page; a file larger than the limit is refused
in the browser before anything is sent, the typing staying on the page; each "Poista" button
names its file. axe-core checks each page; screenshots go to test-artifacts/sender-fixes/."""

import re
from pathlib import Path

import pytest
from helpers import fi, labelled, log_in_user
from playwright.sync_api import expect
from sqlalchemy import select

from handover.cli.demo import DEMO_PASSWORD
from handover.plugins import manager as plugin_manager
from handover.services import attachments as attachment_service
from handover.services import drafts, policy
from handover.store.database import db
from handover.store.models import Handover, Unit, User

FORM_KEY = "psychiatric_ward_preinfo"
KEY_WORKER = "omaohjaaja@demo.handover.example"
INSTITUTION = "Demo: Lastensuojelulaitos Majakka"
WARD = "Demo: Nuorisopsykiatrian osasto 3"
QUICK_SAVES = "\nBACKGROUND_SAVE_DELAY_MS = 600\n"


@pytest.fixture(scope="module")
def server(demo_server):
    demo_server.stop()
    with (Path(demo_server.instance_path) / "config.py").open("a") as config:
        config.write(QUICK_SAVES)
    return demo_server.serve()


@pytest.fixture
def folder(artifacts_dir):
    path = artifacts_dir / "sender-fixes"
    path.mkdir(exist_ok=True)
    return path


def _user_id(server):
    with server.app.app_context():
        return db.session.execute(select(User.id).where(User.email == KEY_WORKER)).scalar_one()


def _new_draft(server, **content):
    with server.app.app_context():
        definition = plugin_manager.registry().get(FORM_KEY)
        user = db.session.execute(select(User).where(User.email == KEY_WORKER)).scalar_one()
        unit = db.session.execute(select(Unit).where(Unit.name == INSTITUTION)).scalar_one()
        ward = db.session.execute(select(Unit).where(Unit.name == WARD)).scalar_one()
        draft = drafts.start(user, unit, FORM_KEY, ward, [], definition.legal_bases[0].value)
        if content:
            drafts.save(user, draft, content)
        return draft.id


def _label(key):
    with_definition = plugin_manager.registry().get(FORM_KEY)
    return with_definition.field(key).label_in("fi")


def _saved(server, draft_id):
    with server.app.app_context():
        return drafts.content_of(db.session.get(Handover, draft_id))


def _attach(server, draft_id, name):
    with server.app.app_context():
        user = db.session.execute(select(User).where(User.email == KEY_WORKER)).scalar_one()
        granted = policy.require(user, draft_id, "attach")
        attachment_service.add(granted, user, name, b"%PDF-1.4\n" + b"x" * 4000 + b"\n%%EOF\n")


def test_an_open_whole_form_tab_keeps_what_another_tab_saved(
        server, browser, check_accessibility, folder):
    draft_id = _new_draft(server, child_name="Alkuperäinen Nimi")
    _attach(server, draft_id, "lausunto.pdf")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    first = context.new_page()
    log_in_user(first, server, _user_id(server), DEMO_PASSWORD)
    with server.app.app_context():
        name, author, allergies = (_label(key) for key in
                                   ("child_name", "author_name", "allergies"))
    first.goto(f"{server.url}/handovers/{draft_id}/edit")
    expect(first.get_by_label(labelled(name))).to_have_value("Alkuperäinen Nimi")
    expect(first.get_by_role("button", name=f"{fi('Remove')} lausunto.pdf")).to_be_visible()

    second = context.new_page()
    second.goto(f"{server.url}/handovers/{draft_id}/sections/child")
    second.get_by_label(labelled(name)).fill("Korjattu Nimi")
    second.get_by_role("button", name=fi("Save and return to the sections")).click()
    second.goto(f"{server.url}/handovers/{draft_id}/sections/health")
    second.get_by_label(labelled(allergies)).fill("pähkinä")
    second.get_by_role("button", name=fi("Save and return to the sections")).click()
    expect(second.get_by_role("heading", level=1)).to_be_visible()

    first.bring_to_front()
    first.get_by_label(labelled(author)).press_sequentially("Sanna", delay=5)
    expect(first.get_by_role("status").filter(
        has_text=fi("Draft saved automatically."))).to_be_visible(timeout=15000)
    saved = _saved(server, draft_id)
    assert saved["author_name"] == "Sanna"
    assert saved["child_name"] == "Korjattu Nimi" and saved["allergies"] == "pähkinä"

    # The same field changed in both tabs: this tab's answer is kept, and the page says so.
    first.get_by_label(labelled(name)).fill("Oikea Nimi")
    first.get_by_role("button", name=fi("Save draft")).click()
    warning = first.locator(".flash--error").filter(has_text=name)
    expect(warning).to_be_visible()
    assert _saved(server, draft_id)["child_name"] == "Oikea Nimi"
    assert _saved(server, draft_id)["allergies"] == "pähkinä"
    check_accessibility(first)
    first.screenshot(path=str(folder / "also-changed.png"), full_page=True)
    context.close()


def test_a_file_over_the_limit_is_refused_before_sending_and_the_typing_stays(
        server, browser, check_accessibility, folder):
    draft_id = _new_draft(server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_user(page, server, _user_id(server), DEMO_PASSWORD)
    with server.app.app_context():
        allergies = _label("allergies")
    page.goto(f"{server.url}/handovers/{draft_id}/sections/health")
    page.get_by_label(labelled(allergies)).fill("pähkinä ja maito")
    page.locator("#attachment-file").set_input_files(files=[{
        "name": "iso.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n" + b"x" * (11 * 1024 * 1024)}])
    message = page.get_by_text(re.compile(re.escape(fi(
        "The file is too large: at most %(mb)s MB is allowed.", mb=10))))
    expect(message).to_be_visible()
    page.get_by_role("button", name=fi("Attach")).click()
    expect(message).to_be_visible()
    expect(page.locator("#attachment-file")).to_be_focused()
    assert page.url.endswith(f"/handovers/{draft_id}/sections/health")
    expect(page.get_by_label(labelled(allergies))).to_have_value("pähkinä ja maito")
    check_accessibility(page)
    page.screenshot(path=str(folder / "file-too-large.png"), full_page=True)
    page.close()


def _check_as_shown(browser, check_accessibility, page):
    """axe-core needs JavaScript in the page: a page shown without it is checked as shown."""
    url, html = page.url.split("#")[0], page.content()
    checker = browser.new_page(viewport=page.viewport_size)
    checker.route(url, lambda route: route.fulfill(body=html,
                                                   content_type="text/html; charset=utf-8"))
    checker.goto(url)
    check_accessibility(checker)
    checker.close()


def test_without_javascript_a_file_over_the_servers_limit_keeps_the_typing(
        server, browser, check_accessibility, folder):
    """Nothing stops the file before it is sent: the fill page's post is read all the same,
    the file is refused with the limit named, and what was typed beside it is saved."""
    draft_id = _new_draft(server)
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in_user(page, server, _user_id(server), DEMO_PASSWORD)
    with server.app.app_context():
        allergies = _label("allergies")
    section = f"{server.url}/handovers/{draft_id}/sections/health"
    page.goto(section)
    page.get_by_label(labelled(allergies)).fill("pähkinä ja maito")
    page.locator("#attachment-file").set_input_files(files=[{
        "name": "iso.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n" + b"x" * (13 * 1024 * 1024)}])
    page.get_by_role("button", name=fi("Attach")).click()
    expect(page.get_by_text(fi("The file is too large: at most %(mb)s MB is allowed.",
                               mb=10)).first).to_be_visible()
    _check_as_shown(browser, check_accessibility, page)
    page.screenshot(path=str(folder / "post-too-large.png"), full_page=True)
    page.goto(section)
    expect(page.get_by_label(labelled(allergies))).to_have_value("pähkinä ja maito")
    context.close()
