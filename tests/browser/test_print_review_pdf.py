"""The handover printed on A4 as Chromium prints it (page.pdf), read back page by page: every
page of the print view and of the reading page printed with the browser's own command names
the child and the handover and the person who printed or opened it, and is numbered
"Sivu x / y" in the bottom margin. The PDFs go to test-artifacts/print/."""

import io
import re

from helpers import fi, log_in_demo_user
from playwright.sync_api import expect
from pypdf import PdfReader

from handover.cli.demo_handovers import ward_content
from handover.plugins import manager as plugin_manager

NURSE = "omahoitaja@demo.handover.example"
FORM_KEY = "psychiatric_ward_preinfo"


def test_every_printed_page_names_the_child_and_the_handover_and_is_numbered(
        demo_server, browser, artifacts_dir):
    folder = artifacts_dir / "print"
    folder.mkdir(exist_ok=True)
    child = ward_content()["child_name"]
    with demo_server.app.app_context():
        title = plugin_manager.registry().get(FORM_KEY).title_in("fi")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_demo_user(page, demo_server, NURSE)
    page.goto(demo_server.url + "/handovers/inbox")
    page.get_by_role("row").filter(has_text=child).get_by_role(
        "link", name=re.compile(re.escape(title))).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(child)
    number = re.search(r"/handovers/(\d+)$", page.url).group(1)
    identity = f"{child} – {title} #{number}"
    # The reading page with Ctrl+P: the header is not on the screen, only on paper.
    expect(page.get_by_text(identity)).to_be_hidden()
    printouts = {"reading-page": page.pdf(format="A4")}
    page.get_by_role("link", name=fi("Print view")).click()
    printouts["print-view"] = page.pdf(format="A4")
    page.close()
    from test_reading_review_pages import accounts_name

    reader = accounts_name(demo_server, NURSE)
    for name, data in printouts.items():
        (folder / f"ward-preinfo-{name}.pdf").write_bytes(data)
        pages = pages_text(data)
        assert len(pages) >= 2, (name, len(pages))
        for at, text in enumerate(pages, start=1):
            assert unspaced(identity) in text, (name, at, text[:300])
            assert unspaced(reader) in text, (name, at, text[:300])
            assert unspaced(f"Sivu {at} / {len(pages)}") in text, (name, at, text[:300])


def unspaced(text):
    """``text`` without its spaces: a PDF places words and even letters apart, not spaces."""
    return re.sub(r"\s+", "", text)


def pages_text(data):
    """The text of each page of a PDF, without spaces (pypdf)."""
    return [unspaced(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]


#: A link pasted into a reply: one word far wider than a phone or an A4 page.
LONG_LINK = ("https://sairaala.example/ohjeet/Pitkäsanainensairaalakoulunyhteistyöohje/"
             + "vaihe" * 30 + "?id=1234567890")


def test_printed_check_answers_name_the_draft_and_who_printed_it_on_every_page(demo_server,
                                                                                browser):
    """Check answers printed to go through on paper: every page names the child, the form and
    the draft's number and who opened it; no link to the edit page, no page address after a
    link (it needs a login and means nothing on paper)."""
    from test_reading_review_pages import _ward_draft, accounts_name

    from handover.cli.demo_handovers import KEY_WORKER

    child = "Paperi Tulostettava"
    draft_id = _ward_draft(demo_server, child)
    with demo_server.app.app_context():
        title = plugin_manager.registry().get(FORM_KEY).title_in("fi")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_demo_user(page, demo_server, KEY_WORKER)
    page.goto(f"{demo_server.url}/handovers/{draft_id}/preview")
    pages = pages_text(page.pdf(format="A4"))
    page.close()
    reader = accounts_name(demo_server, KEY_WORKER)
    for at, text in enumerate(pages, start=1):
        assert unspaced(f"{child} – {title} #{draft_id}") in text, (at, text[:300])
        assert unspaced(reader) in text, (at, text[:300])
    assert not any(f"/handovers/{draft_id}" in text for text in pages)
    assert not any(unspaced(fi("Back to editing")) in text for text in pages)


def test_the_first_printed_page_carries_the_key_facts_and_a_long_link_wraps(demo_server,
                                                                             browser):
    """A section that did not fit on what was left of the first page moved whole to the next:
    the sender's printout of an acknowledged handover began with a page of its heading and
    the receipt only, the key facts after it. A long section now continues over the page.
    A word wider than the page (a link pasted into a reply) made the reading page 2,300 px
    wide on a phone and was cut off in the middle on paper: it wraps, on screen and in print."""
    from test_reading_review_pages import NURSE as RECEIVER
    from test_reading_review_pages import _send_ward_handover

    from handover.cli.demo_handovers import KEY_WORKER
    from handover.services import accounts, policy, reading, replies
    from handover.store.database import db

    handover_id = _send_ward_handover(demo_server)
    with demo_server.app.app_context():
        nurse = accounts.find_user(RECEIVER)
        reading.acknowledge(policy.require(nurse, handover_id, "acknowledge"), nurse)
        replies.add_message(policy.require(nurse, handover_id, "reply"), nurse, LONG_LINK)
        first_fact = plugin_manager.registry().get(FORM_KEY).summary[0].field
        label = plugin_manager.registry().get(FORM_KEY).field(first_fact).label_in("fi")
        db.session.remove()
    page = browser.new_page(viewport={"width": 400, "height": 900})
    log_in_demo_user(page, demo_server, KEY_WORKER)
    for address in (f"/handovers/{handover_id}", f"/handovers/{handover_id}/print"):
        page.goto(demo_server.url + address)
        assert page.evaluate("document.documentElement.scrollWidth") <= 400, address
        printed = pages_text(page.pdf(format="A4"))
        assert unspaced(fi("Receipt acknowledged")) in printed[0], (address, printed[0][:300])
        assert unspaced(label) in printed[0], (address, printed[0][:500])
        assert unspaced(LONG_LINK) in "".join(printed), address
    page.close()
