"""Issue 4 in a real browser, two people at once: a key worker in a child-welfare institution
sends the psychiatric ward pre-information; the ward nurse finds it in the inbox, opens, prints,
acknowledges and replies; the key worker sees the status change and the reply. Every page is
checked with axe-core; the print view is also rendered as print media into a PDF."""

import re

import pytest
from helpers import at_phone_width_too, exactly, fi, fill_definition, log_in_user, required_content
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

from handover.plugins import manager as plugin_manager

FORM_KEY = "psychiatric_ward_preinfo"
INSTITUTION = "Kuusikon lastenkoti"
WARD = "Nuorisopsykiatrian osasto 3"
SOCIAL_WORK = "Itäinen lastensuojelun sosiaalityö"
CHILD = "Ilmari Testilapsi-Kuusikko"
ACK_NOTE = "Omahoitajana toimii Minna; hoitoneuvottelu torstaina."
REPLY = "Tervetuloa osastolle, huone 12 on valmiina."


@pytest.fixture
def people(live_server):
    with live_server.app.app_context():
        definition = plugin_manager.registry().get(FORM_KEY)
        institution = create_unit(INSTITUTION, kind="child_welfare_institution")
        ward = create_unit(WARD, kind="psychiatric_ward")
        create_unit(SOCIAL_WORK, kind="child_welfare_social_work")
        return {
            "definition": definition,
            "sender": create_user("omaohjaaja@example.test", name="Olli Omaohjaaja",
                                  memberships=[(institution, "sender")]).id,
            "nurse": create_user("hoitaja@example.test", name="Hanna Hoitaja",
                                 memberships=[(ward, "receiver")]).id,
        }


def test_institution_sends_ward_reads_acknowledges_and_replies_sender_sees_it(
        live_server, browser, people, check_accessibility, artifacts_dir):
    check = at_phone_width_too(check_accessibility)
    definition = people["definition"]
    title = definition.title_in("fi")
    sender_context, nurse_context = browser.new_context(), browser.new_context()
    try:
        sender, nurse = sender_context.new_page(), nurse_context.new_page()

        # The key worker writes: form, receiver and legal basis, content, preview, send.
        log_in_user(sender, live_server, people["sender"], PASSWORD)
        check(sender)
        sender.get_by_role("link", name=fi("New handover")).click()
        expect(sender.get_by_role("heading", level=1, name=fi("New handover"))).to_be_visible()
        check(sender)
        sender.get_by_role("radio", name=f"{title} — {INSTITUTION}").check()
        sender.get_by_role("button", name=fi("Continue")).click()

        expect(sender.get_by_role("heading", level=1, name=title)).to_be_visible()
        check(sender)
        sender.get_by_label(fi("Receiving unit")).select_option(label=WARD)
        sender.get_by_role("group", name=fi("Units that get a copy")) \
            .get_by_role("checkbox", name=SOCIAL_WORK).check()
        legal_basis = definition.legal_bases[0].label_in("fi")
        sender.get_by_role("group", name=fi("Legal basis of the disclosure")) \
            .get_by_role("radio", name=legal_basis).check()
        sender.get_by_role("button", name=fi("Continue")).click()

        expect(sender.get_by_role("heading", level=1, name=title)).to_be_visible()
        check(sender)
        # The legal basis of the admission is required; observation asks for no consenting
        # person (a voluntary admission, the first choice, would).
        content = required_content(definition, "child_welfare_institution", "Testi",
                                   {"child_name": CHILD, "child_birth_date": "2011-03-15",
                                    "admission_status": "observation"})
        fill_definition(sender, definition, content)
        sender.get_by_role("button", name=fi("Save draft")).click()
        # The page's messages; the form has a status line of its own (the background save's).
        expect(sender.locator(".flashes")).to_contain_text(fi("Draft saved."))
        expect(sender.get_by_label(definition.field("child_name").label_in("fi"),
                                   exact=True)).to_have_value(CHILD)
        sender.get_by_role("button", name=fi("Preview")).click()

        expect(sender.get_by_role("heading", level=1)).to_contain_text(title)
        expect(sender.get_by_role("definition").filter(has_text=CHILD)).to_be_visible()
        check(sender)
        sender.get_by_role("button", name=fi("Send"), exact=True).click()
        expect(sender.get_by_role("status")).to_contain_text(fi("The handover was sent."))
        heading = sender.get_by_role("heading", level=1)
        expect(heading).to_contain_text(title)
        handover_number = re.search(r"#(\d+)", heading.inner_text()).group(0)
        expect(sender.get_by_text(legal_basis)).to_be_visible()
        check(sender)

        # The nurse: the inbox shows it with the child's summary; opening it shows everything.
        log_in_user(nurse, live_server, people["nurse"], PASSWORD)
        nurse.get_by_role("navigation", name=fi("Main")).get_by_role(
            "link", name=fi("Inbox"), exact=True).click()
        expect(nurse.get_by_role("heading", level=1, name=fi("Inbox"))).to_be_visible()
        row = nurse.get_by_role("table", name=fi("Handovers received")).get_by_role("row") \
            .filter(has_text=handover_number)
        expect(row).to_contain_text(INSTITUTION)
        expect(row).to_contain_text(CHILD)
        expect(row).to_contain_text(fi("Sent"))
        check(nurse)
        row.get_by_role("link", name=f"{title} {handover_number}").click()
        expect(nurse.get_by_role("heading", level=1)).to_contain_text(handover_number)
        expect(nurse.get_by_role("definition").filter(has_text=CHILD)).to_be_visible()
        arrival_reason = definition.field("arrival_reason").label_in("fi")
        expect(nurse.get_by_role("term").filter(has_text=arrival_reason)).to_be_visible()
        check(nurse)

        # The print view: axe on screen, then print media into a PDF and a screenshot.
        nurse.get_by_role("link", name=fi("Print view")).click()
        expect(nurse.get_by_role("heading", level=1)).to_contain_text(handover_number)
        check(nurse)
        nurse.emulate_media(media="print")
        printed_by = nurse.get_by_text(re.compile(re.escape(fi("Printed by %(name)s on %(when)s",
                                                               name="Hanna Hoitaja",
                                                               when="")[:-1])))
        expect(printed_by).to_be_visible()
        expect(nurse.get_by_role("navigation", name=fi("Main"))).to_be_hidden()
        printed = nurse.pdf(path=str(artifacts_dir / "handover-journey-print.pdf"),
                            format="A4", print_background=True)
        # The whole ward form, summary first, in at most four A4 pages (seven before the
        # record was printed compactly, eight once the summary came first).
        assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) <= 4
        nurse.screenshot(path=str(artifacts_dir / "handover-journey-print.png"), full_page=True)
        nurse.emulate_media(media="screen")
        nurse.get_by_role("link", name=fi("Back"), exact=True).click()

        # Acknowledge with a note, then reply in the thread.
        acknowledge = nurse.get_by_role("region", name=fi("Acknowledge receipt"))
        acknowledge.get_by_label(fi("Note on receipt (optional)")).fill(ACK_NOTE)
        acknowledge.get_by_role("button", name=fi("Acknowledge receipt")).click()
        expect(nurse.get_by_role("status")).to_contain_text(fi("Receipt acknowledged."))
        check(nurse)
        thread = nurse.get_by_role("region", name=fi("Replies"))
        thread.get_by_label(fi("Message"), exact=True).fill(REPLY)
        thread.get_by_role("button", name=fi("Send reply")).click()
        expect(nurse.get_by_role("status")).to_contain_text(fi("Reply sent."))
        expect(thread.get_by_role("article")).to_contain_text(REPLY)
        check(nurse)

        # The key worker: the outbox says received and replied; the handover shows the reply.
        sender.get_by_role("navigation", name=fi("Main")).get_by_role(
            "link", name=fi("Outbox"), exact=True).click()
        expect(sender.get_by_role("heading", level=1, name=fi("Outbox"))).to_be_visible()
        sent_row = sender.get_by_role("table", name=fi("Handovers sent by your units")) \
            .get_by_role("row").filter(has_text=handover_number)
        expect(sent_row).to_contain_text(WARD)
        status = sent_row.get_by_role("cell").nth(5)  # child, form, sent, urgency, due, status
        expect(status).to_contain_text(fi("Received"))
        expect(status).to_contain_text(fi("replied"))
        check(sender)
        sent_row.get_by_role("link", name=f"{title} {handover_number}").click()
        expect(sender.get_by_role("term").filter(has_text=exactly(fi("Opened")))).to_be_visible()
        expect(sender.get_by_role("definition").filter(has_text=WARD).first).to_be_visible()
        expect(sender.get_by_role("region", name=fi("Receipt acknowledged"))).to_contain_text(
            ACK_NOTE)
        reply = sender.get_by_role("region", name=fi("Replies")).get_by_role("article")
        expect(reply).to_contain_text(REPLY)
        expect(reply).to_contain_text("Hanna Hoitaja")
        check(sender)
    finally:
        sender_context.close()
        nurse_context.close()
