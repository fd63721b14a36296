"""A sent handover's page in a real browser, as the ward nurse who receives it and the key worker
who sent it use it: the note on receipt is typed before the button (tab order), keeps its line
breaks, and the sender finds who acknowledged and the note near the top; "Reply sent." is seen
where the page lands (#thread); the reply controls are not printed; a reply written while the
other side closed the handover stays on the page to copy. axe-core checks the pages in fi, sv
and en."""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from helpers import fi, log_in_demo_user, switch_language_to, text
from playwright.sync_api import expect

from handover.cli.demo_handovers import INSTITUTION, KEY_WORKER, SOCIAL_WORK, WARD, ward_content
from handover.plugins import manager as plugin_manager
from handover.services import accounts, closing, drafts, policy, sending
from handover.store.database import db
from handover.store.models import Handover

NURSE = "omahoitaja@demo.handover.example"
WARD_FORM = "psychiatric_ward_preinfo"
CHILD = "Aatu Katselmus"
NOTE_LINES = ("Omahoitaja Tiina Mäkelä", "Hoitoneuvottelu torstaina klo 13")
REPLY_LINES = ("Lapsi saapui osastolle.", "Lääkkeet tulivat mukana.")


def _ward_draft(server, child=CHILD):
    """The id of a complete draft of the ward form about ``child``, from the institution's key
    worker to the ward with a copy to social work."""
    with server.app.app_context():
        sender = accounts.find_user(KEY_WORKER)
        draft = drafts.start(sender, accounts.find_unit(INSTITUTION), WARD_FORM,
                             accounts.find_unit(WARD), [accounts.find_unit(SOCIAL_WORK)],
                             "child_welfare_necessary")
        drafts.save(sender, draft, {**ward_content(), "child_name": child,
                                    "arrival_type": "planned"})
        draft_id = draft.id
        db.session.remove()
        return draft_id


def _send_ward_handover(server):
    draft_id = _ward_draft(server)
    with server.app.app_context():
        handover_id = sending.send(accounts.find_user(KEY_WORKER),
                                   db.session.get(Handover, draft_id),
                                   secrets.token_urlsafe(16)).id
        db.session.remove()
        return handover_id


def _close(server, handover_id):
    with server.app.app_context():
        nurse = accounts.find_user(NURSE)
        closing.close(policy.require(nurse, handover_id, "close"), nurse)
        db.session.remove()


def _axe_in_every_language(page, check_accessibility, heading):
    for language in ("sv", "en", "fi"):
        switch_language_to(page, language)
        expect(page.get_by_role("heading", level=2, name=text(heading, language),
                                exact=True)).to_be_visible()
        check_accessibility(page)


def test_receipt_note_reply_and_a_reply_to_a_closed_handover(demo_server, browser,
                                                               check_accessibility,
                                                               artifacts_dir):
    handover_id = _send_ward_handover(demo_server)
    url = f"{demo_server.url}/handovers/{handover_id}"
    nurse_context, sender_context = browser.new_context(), browser.new_context()
    try:
        nurse = nurse_context.new_page()
        log_in_demo_user(nurse, demo_server, NURSE)
        nurse.goto(url)
        acknowledge = nurse.get_by_role("region", name=fi("Acknowledge receipt"))
        note = acknowledge.get_by_label(fi("Note on receipt (optional)"))
        note.fill("\n".join(NOTE_LINES))
        # The note, then the button: Tab from the note reaches "Acknowledge receipt".
        nurse.keyboard.press("Tab")
        expect(acknowledge.get_by_role("button", name=fi("Acknowledge receipt"))).to_be_focused()
        nurse.keyboard.press("Enter")
        expect(nurse.get_by_role("status")).to_contain_text(fi("Receipt acknowledged."))

        # A reply of two lines: "Reply sent." is on the screen where the page lands.
        thread = nurse.get_by_role("region", name=fi("Replies"))
        thread.get_by_label(fi("Message"), exact=True).fill("\n".join(REPLY_LINES))
        thread.get_by_role("button", name=fi("Send reply")).click()
        sent = thread.get_by_role("status")
        expect(sent).to_contain_text(fi("Reply sent."))
        expect(sent).to_be_in_viewport()
        # innerText: a <br> is a line break as the reader sees it.
        expect(thread.get_by_role("article").last).to_contain_text(REPLY_LINES[1])
        assert "\n".join(REPLY_LINES) in thread.get_by_role("article").last.inner_text()
        check_accessibility(nurse)
        # Printed with the browser's own command, the page has no reply controls.
        nurse.emulate_media(media="print")
        expect(thread.get_by_label(fi("Message"), exact=True)).to_be_hidden()
        with demo_server.app.app_context():
            receipt_title = plugin_manager.registry().get(WARD_FORM).reply_form(
                "ward_receipt").title_in("fi")
        expect(thread.get_by_role("link", name=fi(
            "Answer with: %(title)s", title=receipt_title))).to_be_hidden()
        nurse.emulate_media(media="screen")

        # The key worker who sent it: who acknowledged, when, and the note, near the top.
        sender = sender_context.new_page()
        log_in_demo_user(sender, demo_server, KEY_WORKER)
        sender.goto(url)
        receipt = sender.get_by_role("region", name=fi("Receipt acknowledged"))
        expect(receipt).to_contain_text(accounts_name(demo_server, NURSE))
        expect(receipt).to_contain_text(WARD)
        assert "\n".join(NOTE_LINES) in receipt.inner_text()
        sender.set_viewport_size({"width": 1280, "height": 900})
        sender.screenshot(path=str(artifacts_dir / "reading-receipt-sender-fi-1280.png"))
        above = receipt.bounding_box()["y"]
        first_section = sender.locator(".content-section").first.bounding_box()["y"]
        assert above < first_section
        _axe_in_every_language(sender, check_accessibility, "Replies")

        # The sender writes a reply; meanwhile the ward closes the handover.
        sender_thread = sender.get_by_role("region", name=fi("Replies"))
        sender_thread.get_by_label(fi("Message"), exact=True).fill("Kiitos tiedosta.\nSoitan.")
        _close(demo_server, handover_id)
        sender_thread.get_by_role("button", name=fi("Send reply")).click()
        today = datetime.now(ZoneInfo("Europe/Helsinki")).date()
        expect(sender.get_by_role("alert")).to_contain_text(fi(
            "The receiving unit closed this handover on %(date)s: its thread has ended and no "
            "more replies can be written.", date=f"{today.day}.{today.month}.{today.year}"))
        unsent = sender.get_by_label(fi("The reply you wrote (not sent; copy it if you need it)"))
        expect(unsent).to_have_value("Kiitos tiedosta.\nSoitan.")
        expect(unsent).not_to_be_editable()
        unsent.scroll_into_view_if_needed()
        sender.screenshot(path=str(artifacts_dir / "reading-unsent-reply-fi-1280.png"))
        check_accessibility(sender)
    finally:
        nurse_context.close()
        sender_context.close()


def accounts_name(server, email):
    with server.app.app_context():
        name = accounts.find_user(email).name
        db.session.remove()
        return name
