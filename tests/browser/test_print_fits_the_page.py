"""The print view on A4, as the ward's primary nurse prints the demo's received pre-information:
laid out as Chromium prints it (print media, the width of the page's content box), no part of
the record is wider than the paper, so that every column of a repeating group (the contact
restrictions' decision date and end date, the guardians' contact details) is on it; and the
thread the nurse sees on the page (the ward's receipt, the discharge summary) is printed under
its own heading. axe-core checks the page on screen and as printed; the PDF goes to
test-artifacts/print/."""

import re
from pathlib import Path

from helpers import fi, log_in_demo_user
from playwright.sync_api import expect

import handover
from handover.cli.demo_handovers import ward_content
from handover.plugins import manager as plugin_manager

NURSE = "omahoitaja@demo.handover.example"
FORM_KEY = "psychiatric_ward_preinfo"
PRINT_CSS = Path(handover.__file__).resolve().parent / "static" / "print.css"
A4_WIDTH_MM = 210
PX_PER_MM = 96 / 25.4


def content_box_width():
    """The width of an A4 page's content box in CSS pixels, from print.css's own @page rule
    (its left and right margins), so that the test follows the stylesheet."""
    margins = re.search(r"@page\s*{[^}]*margin:\s*([^;}]+)", PRINT_CSS.read_text()).group(1)
    sizes = [float(value.removesuffix("mm")) for value in margins.split()]
    right = sizes[1] if len(sizes) > 1 else sizes[0]
    left = sizes[3] if len(sizes) > 3 else right
    return (A4_WIDTH_MM - left - right) * PX_PER_MM


#: Every element of the printed record whose box reaches past the page's content box: its tag,
#: its name (a table's label or a cell's text) and its right edge.
OVERFLOWING = """(width) => Array.from(document.querySelectorAll("main *"))
  .filter((e) => e.getClientRects().length > 0)
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([e, box]) => box.width > 0 && (box.right > width + 0.5 || box.left < -0.5))
  .map(([e, box]) => [e.tagName, e.getAttribute("aria-label") || e.textContent.trim()
                      .slice(0, 40), Math.round(box.left), Math.round(box.right)])"""


def test_every_column_of_the_record_and_the_thread_are_on_an_a4_page(
        demo_server, browser, check_accessibility, artifacts_dir):
    folder = artifacts_dir / "print"
    folder.mkdir(exist_ok=True)
    child = ward_content()["child_name"]
    with demo_server.app.app_context():
        definition = plugin_manager.registry().get(FORM_KEY)
        restrictions = definition.field("contact_restrictions")
        columns = [sub.label_in("fi") for sub in restrictions.fields]
        reply_sections = [section.title_in("fi") for form in definition.reply_forms
                          for section in form.sections]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_demo_user(page, demo_server, NURSE)
    page.goto(demo_server.url + "/handovers/inbox")
    page.get_by_role("row").filter(has_text=child).get_by_role(
        "link", name=re.compile(re.escape(definition.title_in("fi")))).click()
    page.get_by_role("link", name=fi("Print view")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(child)
    check_accessibility(page)

    width = content_box_width()
    page.emulate_media(media="print")
    page.set_viewport_size({"width": int(width), "height": 1100})
    assert page.evaluate(OVERFLOWING, width) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 0.5
    table = page.get_by_role("table", name=restrictions.label_in("fi"))
    expect(table).to_be_visible()
    for column in columns:   # "Päätöksen päivämäärä" and "Voimassa asti" among them
        header = table.get_by_role("columnheader", name=column, exact=True)
        expect(header).to_be_visible()
        box = header.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (column, box)

    # The thread as the nurse sees it on the page: the ward's receipt and the discharge
    # summary, each headed by the ward and its author, under the heading "Replies".
    thread = page.get_by_role("region", name=fi("Replies"))
    expect(thread).to_be_visible()
    entries = thread.get_by_role("article")
    expect(entries).to_have_count(2)
    for entry in entries.all():
        expect(entry.get_by_role("heading", level=3)).to_contain_text("Tiina Mäkelä")
    shown = [title for title in reply_sections
             if thread.get_by_role("heading", name=title, exact=True).count()]
    assert len(shown) >= 2, shown
    check_accessibility(page)
    page.pdf(path=str(folder / "ward-preinfo-received.pdf"), format="A4",
             print_background=True)
    page.screenshot(path=str(folder / "ward-preinfo-received.png"), full_page=True)
    page.close()
