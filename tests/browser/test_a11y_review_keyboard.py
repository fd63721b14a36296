"""Accessibility review, in a real browser: Enter in the child's name saves the draft instead of
adding an empty guardian row; "Attach" with no file chosen is an error like any field's, linked
from the error summary to the file input, the page axe-clean."""

import re

from helpers import fi, labelled, log_in_user
from playwright.sync_api import expect
from sqlalchemy import select

from handover.cli.demo import DEMO_PASSWORD
from handover.plugins import manager as plugin_manager
from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover, Unit, User

FORM_KEY = "psychiatric_ward_preinfo"
KEY_WORKER = "omaohjaaja@demo.handover.example"
INSTITUTION = "Demo: Lastensuojelulaitos Majakka"
WARD = "Demo: Nuorisopsykiatrian osasto 3"


def _logged_in_on_a_new_draft(server, browser):
    """A new ward-form draft, its key worker logged in: (page, draft id, the form)."""
    with server.app.app_context():
        definition = plugin_manager.registry().get(FORM_KEY)
        user = db.session.execute(select(User).where(User.email == KEY_WORKER)).scalar_one()
        unit = db.session.execute(select(Unit).where(Unit.name == INSTITUTION)).scalar_one()
        ward = db.session.execute(select(Unit).where(Unit.name == WARD)).scalar_one()
        draft_id = drafts.start(user, unit, FORM_KEY, ward, [],
                                definition.legal_bases[0].value).id
        user_id = user.id
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_user(page, server, user_id, DEMO_PASSWORD)
    return page, draft_id, definition


def test_enter_in_the_childs_name_saves_the_draft_and_adds_no_row(demo_server, browser):
    page, draft_id, definition = _logged_in_on_a_new_draft(demo_server, browser)
    page.goto(f"{demo_server.url}/handovers/{draft_id}/edit")
    rows = page.locator("#guardians .hv-row")
    before = rows.count()
    name = page.get_by_label(labelled(definition.field("child_name").label_in("fi")))
    name.fill("Enter Painettu")
    name.press("Enter")
    expect(page.get_by_text(fi("Draft saved."))).to_be_visible()
    expect(rows).to_have_count(before)
    expect(page.locator("#guardians-1-guardian_name")).to_have_count(0)
    with demo_server.app.app_context():
        saved = drafts.content_of(db.session.get(Handover, draft_id))
    assert saved["child_name"] == "Enter Painettu"
    page.close()


def test_attach_without_a_file_is_linked_from_the_error_summary(
        demo_server, browser, check_accessibility):
    page, draft_id, _definition = _logged_in_on_a_new_draft(demo_server, browser)
    for address, input_id in (("edit", "file"), ("sections/health", "attachment-file")):
        page.goto(f"{demo_server.url}/handovers/{draft_id}/{address}")
        page.get_by_role("button", name=fi("Attach"), exact=True).click()
        expect(page).to_have_title(re.compile("^" + re.escape(fi("Error:"))))
        summary = page.locator(".error-summary")
        summary.get_by_role("link", name=re.compile(re.escape(
            fi("Choose a file to attach.")))).click()
        expect(page.locator(f"#{input_id}")).to_be_focused()
        expect(page.locator(f"#{input_id}")).to_have_attribute("aria-invalid", "true")
        check_accessibility(page)
    page.close()
