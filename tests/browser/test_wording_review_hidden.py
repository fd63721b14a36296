"""The wording review in a real browser: the "file too large" message of a section page's file
input is out of sight (and out of a screen reader's reading) until a file over the limit is
chosen; our stylesheet lets ``hidden`` win over ``.govuk-error-message``'s display: block."""

import re

from helpers import fi, log_in_user
from playwright.sync_api import expect
from test_sender_review_pages import _new_draft, _user_id, server  # noqa: F401  (a fixture)

from handover.cli.demo import DEMO_PASSWORD


def test_the_file_too_large_message_shows_only_for_a_file_too_large(server, browser):  # noqa: F811
    draft_id = _new_draft(server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_user(page, server, _user_id(server), DEMO_PASSWORD)
    message = page.locator("[data-file-too-large]")
    for path in (f"/handovers/{draft_id}/edit", f"/handovers/{draft_id}/sections/health"):
        page.goto(server.url + path)
        expect(message).to_have_count(1)
        expect(message).to_be_hidden()
        expect(page.get_by_text(re.compile(re.escape(fi(
            "The file is too large: at most %(mb)s MB is allowed.", mb=10))))).to_be_hidden()
    page.locator("#attachment-file").set_input_files(files=[{
        "name": "iso.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n" + b"x" * (11 * 1024 * 1024)}])
    expect(message).to_be_visible()
    page.close()
