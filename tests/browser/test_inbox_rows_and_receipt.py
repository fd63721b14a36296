"""Issue 14 for nurses, teachers and daycare directors, in a real browser: each demo receiver's
inbox row shows when the handover arrived (date and time), whether it is urgent, by when to
acknowledge it, unread in bold, and which case hides where the child lives (never where), with
the filters folded away and each row a card on a phone; the ward's receipt reply comes with the
nurse's name and today's date filled in, and sending it acknowledges the handover (no separate
button), which the sender sees. axe-core checks every page in fi, sv and en; screenshots of the
daycare's and the school's inbox at 1280 and 390 px go to test-artifacts/inbox/ (the ward's
inbox and every reading view are shot by test_fill_in_sections.py and
test_reading_first_screen.py)."""

import re
import secrets

import pytest
from helpers import fi, log_in_demo_user, switch_language_to, text
from playwright.sync_api import expect

from handover.cli.demo import USERS
from handover.cli.demo_handovers import INSTITUTION, KEY_WORKER, SOCIAL_WORK, WARD, ward_content
from handover.formdefs.content import today
from handover.plugins import manager as plugin_manager
from handover.services import accounts, drafts, sending
from handover.store.database import db

NAMES = {user[0]: user[1] for user in USERS}
NURSE = "omahoitaja@demo.handover.example"
WARD_FORM = "psychiatric_ward_preinfo"
#: (demo receiver, form key, the demo child whose handover awaits acknowledgement, urgency
#: shown, location case shown or None)
READERS = (
    (NURSE, WARD_FORM, "Sofia Harjoitus", "Urgent", None),
    ("paivakoti@demo.handover.example", "daycare_placed_child", "Leo Kokeilu", None, None),
    ("rehtori@demo.handover.example", "school_transfer", "Aino Näyte", None,
     "Placement hidden from parents (Child Welfare Act, s. 62)"),
)
#: form key -> the demo child whose handover carries the receipt, which acknowledged it.
ANSWERED = {WARD_FORM: "Veeti Esimerkki", "daycare_placed_child": "Ella Kuvitelma",
            "school_transfer": "Onni Testinen"}
#: Where the school's demo children live: never on the list.
AINO_LIVES_AT = "Majakkatie 4"
RECEIPT_CHILD = "Aada Kuittaus"










def _in_every_language(page, check_accessibility, ready):
    """axe in sv, en and fi (back in Finnish); ``ready(language)`` waits for the page."""
    for language in ("sv", "en", "fi"):
        switch_language_to(page, language)
        ready(language)
        check_accessibility(page)


def _cell(row, label):
    return row.locator(f'td[data-label="{label}"]')


def _today_pattern():
    day = today()
    return re.compile(rf"^({day.isoformat()}|0?{day.day}\.0?{day.month}\.{day.year})$")


def _fill_date(locator, day):
    """A date field as the page offers it: a native date input takes ISO, a text one d.m.yyyy."""
    if locator.get_attribute("type") == "date":
        locator.fill(day.isoformat())
    else:
        locator.fill(f"{day.day}.{day.month}.{day.year}")


@pytest.mark.parametrize(("email", "form_key", "child", "urgency", "case"), READERS,
                         ids=[reader[1] for reader in READERS])
def test_the_inbox_row_tells_arrival_urgency_deadline_and_the_hidden_location_case(
        email, form_key, child, urgency, case, demo_server, browser, check_accessibility,
        artifacts_dir):
    with demo_server.app.app_context():
        title = plugin_manager.registry().get(form_key).title_in("fi")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_demo_user(page, demo_server, email)
    page.goto(demo_server.url + "/handovers/inbox")
    table = page.get_by_role("table", name=fi("Handovers received"))
    for header in ("Child", "Form", "Arrived", "Urgency", "Acknowledge by", "Status"):
        expect(table.get_by_role("columnheader", name=fi(header), exact=True)).to_be_visible()
    row = table.get_by_role("row").filter(has_text=child)
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=re.compile(re.escape(title)))).to_be_visible()
    expect(row).not_to_contain_text(form_key)
    expect(_cell(row, fi("Arrived"))).to_have_text(re.compile(r"\d{1,2}[.:]\d{2}"))
    expect(_cell(row, fi("Acknowledge by"))).to_have_text(re.compile(r"\d"))
    urgency_cell = _cell(row, fi("Urgency"))
    if urgency:
        expect(urgency_cell).to_have_text(re.compile(re.escape(fi(urgency))))
    else:
        expect(urgency_cell).not_to_contain_text(fi("Urgent"))
        expect(urgency_cell).not_to_contain_text(fi("Planned"))
    child_cell = _cell(row, fi("Child"))
    name_at, born_at = (child_cell.inner_text().find(part) for part in (child, "."))
    assert 0 <= name_at < born_at, child_cell.inner_text()  # the name before the birth date
    if case:
        expect(child_cell.locator(".govuk-tag").filter(has_text=fi(case))).to_be_visible()
        expect(page.get_by_text(AINO_LIVES_AT)).to_have_count(0)
    else:
        expect(child_cell).not_to_contain_text(
            fi("Placement hidden from parents (Child Welfare Act, s. 62)"))
        expect(child_cell).not_to_contain_text(fi("Non-disclosure marking"))
    # Nobody has opened the handover awaiting acknowledgement: the row is unread, in bold.
    assert int(child_cell.evaluate("cell => getComputedStyle(cell).fontWeight")) >= 700
    # The form's other demo handover was acknowledged by its receipt: the list says so.
    answered = table.get_by_role("row").filter(has_text=ANSWERED[form_key])
    expect(_cell(answered, fi("Status"))).to_contain_text(fi("Received"))
    # The filters fold away above the list, until asked for.
    expect(page.get_by_label(fi("Status"), exact=True)).to_be_hidden()
    page.get_by_text(fi("Filter the list")).click()
    expect(page.get_by_label(fi("Status"), exact=True)).to_be_visible()

    _in_every_language(page, check_accessibility, lambda language: expect(
        page.get_by_role("table", name=text("Handovers received", language))).to_be_visible())
    # At 1280 px the list fits the page: nothing to scroll sideways to.
    assert page.locator(".table-wrap").first.evaluate(
        "wrap => wrap.scrollWidth <= wrap.clientWidth")
    folder = artifacts_dir / "inbox"
    folder.mkdir(exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_accessibility(page)
        if form_key != WARD_FORM:
            page.screenshot(path=str(folder / f"{form_key}-inbox-fi-{width}.png"), full_page=True)
    # At 390 px the row is a card: the child, the tags and the dates fit the screen's width.
    for part in [child_cell, urgency_cell, _cell(row, fi("Arrived")),
                 *([child_cell.locator(".govuk-tag").first] if case else [])]:
        box = part.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (part, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def _send_fresh_ward_handover(server):
    """A ward handover of its own (planned arrival), so that acknowledging it leaves the demo's
    handovers awaiting acknowledgement for the other tests."""
    with server.app.app_context():
        sender = accounts.find_user(KEY_WORKER)
        draft = drafts.start(sender, accounts.find_unit(INSTITUTION), WARD_FORM,
                             accounts.find_unit(WARD), [accounts.find_unit(SOCIAL_WORK)],
                             "child_welfare_necessary")
        drafts.save(sender, draft, {**ward_content(), "child_name": RECEIPT_CHILD,
                                    "arrival_type": "planned"})
        handover_id = sending.send(sender, draft, secrets.token_urlsafe(16)).id
        db.session.remove()
        return handover_id


def test_the_ward_receipt_comes_filled_in_and_acknowledges_in_one_step(
        demo_server, browser, check_accessibility):
    handover_id = _send_fresh_ward_handover(demo_server)
    with demo_server.app.app_context():
        receipt = plugin_manager.registry().get(WARD_FORM).reply_form("ward_receipt")
    label = {key: receipt.field(key).label_in("fi")
             for key in ("received_on", "acknowledged_by", "primary_nurse_name",
                         "care_meeting_date")}
    nurse_context, sender_context = browser.new_context(), browser.new_context()
    try:
        nurse = nurse_context.new_page()
        log_in_demo_user(nurse, demo_server, NURSE)
        nurse.goto(demo_server.url + "/handovers/inbox")
        row = nurse.get_by_role("table", name=fi("Handovers received")).get_by_role("row") \
            .filter(has_text=RECEIPT_CHILD)
        expect(_cell(row, fi("Urgency"))).to_have_text(re.compile(re.escape(fi("Planned"))))
        row.get_by_role("link", name=re.compile(f"#{handover_id}")).click()
        expect(nurse.get_by_role("button", name=fi("Acknowledge receipt"))).to_be_visible()
        nurse.get_by_role("link", name=fi("Answer with: %(title)s",
                                          title=receipt.title_in("fi"))).click()

        expect(nurse.get_by_role("heading", level=1, name=receipt.title_in("fi"))).to_be_visible()
        _in_every_language(nurse, check_accessibility, lambda language: expect(
            nurse.get_by_role("heading", level=1,
                              name=receipt.title_in(language))).to_be_visible())
        # What the server knows is filled in: the nurse's name, today's date.
        expect(nurse.get_by_label(label["acknowledged_by"])).to_have_value(NAMES[NURSE])
        expect(nurse.get_by_label(label["received_on"])).to_have_value(_today_pattern())
        nurse.get_by_label(label["primary_nurse_name"]).fill("Tiina Mäkelä")
        _fill_date(nurse.get_by_label(label["care_meeting_date"]), today())
        nurse.get_by_role("button", name=fi("Send reply and acknowledge receipt")).click()

        expect(nurse.get_by_role("status")).to_contain_text(
            fi("Reply sent and receipt acknowledged."))
        expect(nurse.get_by_role("button", name=fi("Acknowledge receipt"))).to_have_count(0)
        # The handover's own details now say when it was received (its status row too).
        expect(nurse.locator("dl.handover-meta").get_by_role("term").filter(
            has_text=re.compile(rf"^\s*{re.escape(fi('Received'))}\s*$"))).to_be_visible()
        check_accessibility(nurse)

        # The key worker who sent it sees it received, and the receipt in the thread.
        sender = sender_context.new_page()
        log_in_demo_user(sender, demo_server, KEY_WORKER)
        sender.goto(demo_server.url + "/handovers/outbox")
        sent_row = sender.get_by_role("table", name=fi("Handovers sent by your units")) \
            .get_by_role("row").filter(has_text=RECEIPT_CHILD)
        expect(_cell(sent_row, fi("Status"))).to_contain_text(fi("Received"))
        expect(_cell(sent_row, fi("Status"))).to_contain_text(fi("replied"))
        check_accessibility(sender)
        sent_row.get_by_role("link", name=re.compile(f"#{handover_id}")).click()
        expect(sender.get_by_role("region", name=fi("Replies"))).to_contain_text("Tiina Mäkelä")
        check_accessibility(sender)
    finally:
        nurse_context.close()
        sender_context.close()
