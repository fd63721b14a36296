"""Issue 14 in a real browser: the pages of administrators and auditors read as words in fi, sv
and en, and axe-core finds nothing on them: the admin's home (what an admin does), statistics
(forms by title), the Plugins page (one routing table), the audit log and the per-child
report (people and units by name, events by label, repeats folded)."""

import re
import secrets

from helpers import at_phone_width_too, fi, log_in_user, text
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

from handover.cli.demo_handovers import ward_content
from handover.plugins.manager import registry
from handover.services import drafts, sending

LANGUAGES = {"fi": "suomi", "sv": "svenska", "en": "English"}
FORM_KEY = "psychiatric_ward_preinfo"


def _in_each_language(page, visit):
    """``visit(language)`` in Finnish, Swedish and English, switched in the page's header."""
    current = "fi"
    for language, name in LANGUAGES.items():
        if language != current:
            page.get_by_role("combobox", name=text("Language", current)).select_option(
                label=name)
            page.get_by_role("button", name=text("Change language", current), exact=True).click()
            current = language
        visit(language)


def test_admin_and_auditor_pages_speak_words_in_every_language(
        live_server, page, browser, check_accessibility):
    check = at_phone_width_too(check_accessibility)
    with live_server.app.app_context():
        institution = create_unit("Lastenkoti Majakka", kind="child_welfare_institution")
        ward = create_unit("Nuorisopsykiatrian osasto 3", kind="psychiatric_ward")
        worker = create_user("worker.words@example.test", name="Maija Majakka",
                             memberships=[(institution, "sender")])
        admin_id = create_user("admin.words@example.test", admin=True).id
        auditor_id = create_user("auditor.words@example.test", auditor=True).id
        draft = drafts.start(worker, institution, FORM_KEY, ward, [], "child_welfare_necessary")
        for _ in range(3):
            drafts.save(worker, draft, ward_content())
        sending.send(worker, draft, secrets.token_urlsafe(16))
        titles = {language: registry().get(FORM_KEY).title_in(language)
                  for language in LANGUAGES}

    log_in_user(page, live_server, admin_id, PASSWORD)

    def admin_pages(language):
        page.goto(live_server.url + "/")
        expect(page.get_by_role("heading", level=2, name=text(
            "What you do as an administrator", language))).to_be_visible()
        check(page)
        page.goto(live_server.url + "/admin/statistics")
        expect(page.get_by_role("rowheader", name=titles[language])).to_be_visible()
        expect(page.get_by_role("main")).not_to_contain_text(FORM_KEY)
        check(page)
        page.goto(live_server.url + "/admin/plugins/")
        routing = page.get_by_role("table", name=text("Who may send which form to whom",
                                                      language))
        expect(routing.get_by_role("rowheader", name=titles[language])).to_be_visible()
        check(page)

    _in_each_language(page, admin_pages)

    auditor_context = browser.new_context()
    try:
        auditor = auditor_context.new_page()
        log_in_user(auditor, live_server, auditor_id, PASSWORD)

        def audit_pages(language):
            auditor.goto(live_server.url + "/audit/")
            main = auditor.get_by_role("main")
            expect(main).to_contain_text(text("Handover sent", language))
            expect(main).not_to_contain_text("handover.")
            check(auditor)
            auditor.get_by_label(text("Child's personal identity code", language)).fill(
                ward_content()["child_identity_code"])
            auditor.get_by_role("button", name=text("Show report", language)).click()
            # The caption says what the rows are: from the second language on, the report's
            # earlier views (searches for this child) are among them.
            captions = [text(caption, language) for caption in (
                "Events on these handovers, oldest first",
                "Events on these handovers and searches for this child, oldest first")]
            events = auditor.get_by_role("table", name=re.compile(
                "^(" + "|".join(map(re.escape, captions)) + ")$"))
            expect(events).to_contain_text(text("Draft saved", language) + " ×3")
            expect(events).to_contain_text("Maija Majakka")
            expect(events).to_contain_text("Lastenkoti Majakka")
            expect(events).not_to_contain_text("@example.test")
            expect(auditor.get_by_role("main")).to_contain_text(titles[language])
            check(auditor)

        _in_each_language(auditor, audit_pages)
    finally:
        auditor_context.close()
    assert fi("Draft saved") == "Luonnos tallennettu"
