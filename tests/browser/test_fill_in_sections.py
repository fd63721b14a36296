"""Issue 14, filling and lists in a real browser: a key worker fills the ward form a section at
a time from the task list (a date typed as d.m.yyyy in an English browser is kept as typed),
checks the answers and deletes nothing by accident; the nurse's inbox at 390 px shows the
child's name without horizontal scrolling. axe-core checks each page in fi, sv and en;
screenshots at 1280 and 390 px go to test-artifacts/filling/."""

import re

from helpers import fi, log_in_demo_user, switch_language_to, text
from playwright.sync_api import expect

from handover.plugins import manager as plugin_manager

INSTITUTION = "Demo: Lastensuojelulaitos Majakka"
WARD = "Demo: Nuorisopsykiatrian osasto 3"
FORM_KEY = "psychiatric_ward_preinfo"






def _shots(page, folder, name, check_accessibility):
    """axe in fi, sv and en; screenshots at 1280 and 390 px; back in Finnish at 1280 px."""
    for language in ("sv", "en", "fi"):
        switch_language_to(page, language)
        check_accessibility(page)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_accessibility(page)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_key_worker_fills_the_ward_form_a_section_at_a_time(
        demo_server, browser, check_accessibility, artifacts_dir):
    folder = artifacts_dir / "filling"
    folder.mkdir(exist_ok=True)
    with demo_server.app.app_context():
        definition = plugin_manager.registry().get(FORM_KEY)
    title = definition.title_in("fi")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in_demo_user(page, demo_server, "omaohjaaja@demo.handover.example")
    page.goto(demo_server.url + "/handovers/new")
    page.get_by_role("radio", name=f"{title} — {INSTITUTION}").check()
    page.get_by_role("button", name=fi("Continue")).click()
    page.get_by_label(fi("Receiving unit")).select_option(label=WARD)
    page.get_by_role("group", name=fi("Legal basis of the disclosure")) \
        .get_by_role("radio", name=definition.legal_bases[0].label_in("fi")).check()
    page.get_by_role("button", name=fi("Continue")).click()
    page.get_by_role("link", name=fi("Fill in section by section")).click()

    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    tasks = page.locator(".govuk-task-list__item")
    expect(tasks).to_have_count(len(definition.sections) + 1)   # and the check step
    expect(tasks.first).to_contain_text(fi("Not started"))
    _shots(page, folder, "ward-tasks", check_accessibility)

    first = definition.sections[0]
    page.get_by_role("link", name=first.title_in("fi"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=first.title_in("fi"))).to_be_visible()
    _shots(page, folder, "ward-section-1", check_accessibility)
    switch_language_to(page, "en")   # an English browser: the date is still d.m.yyyy
    page.get_by_label(definition.field("child_name").label_in("en"), exact=True).fill(
        "Ilmari Testilapsi")
    page.get_by_label(re.compile("^" + re.escape(definition.field("child_birth_date")
                                                 .label_in("en")))).fill("14.3.2012")
    page.get_by_role("button", name=text("Save and continue", "en")).click()
    expect(page.get_by_role("heading", level=1,
                            name=definition.sections[1].title_in("en"))).to_be_visible()
    page.get_by_role("button", name=text("Back to the sections", "en")).click()
    expect(page.locator(".govuk-task-list__item").first).to_contain_text(re.compile(
        f'{text("In progress", "en")}|{text("Completed", "en")}'))
    page.get_by_role("link", name=first.title_in("en"), exact=True).click()
    expect(page.get_by_label(re.compile("^" + re.escape(
        definition.field("child_birth_date").label_in("en"))))).to_have_value("14.3.2012")
    switch_language_to(page, "fi")

    page.goto(page.url.rsplit("/sections/", 1)[0] + "/preview")
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("link", name=re.compile("^" + re.escape(fi("Change"))))
           .first).to_be_visible()
    _shots(page, folder, "ward-check-answers", check_accessibility)

    page.goto(page.url.rsplit("/preview", 1)[0] + "/discard")
    expect(page.get_by_role("heading", level=1, name=fi("Delete the draft?"))).to_be_visible()
    _shots(page, folder, "ward-delete-draft", check_accessibility)
    page.get_by_role("link", name=fi("No, keep it")).click()
    page.goto(demo_server.url + "/")
    expect(page.get_by_role("table", name=fi("Drafts you can continue"))).to_contain_text(
        "Ilmari Testilapsi")
    _shots(page, folder, "home-with-draft", check_accessibility)
    page.close()


def test_the_inbox_on_a_phone_shows_the_child_without_scrolling_sideways(
        demo_server, browser, check_accessibility, artifacts_dir):
    folder = artifacts_dir / "filling"
    folder.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 900})
    log_in_demo_user(page, demo_server, "omahoitaja@demo.handover.example")
    page.goto(demo_server.url + "/handovers/inbox")
    child = page.get_by_text("Veeti Esimerkki").first
    expect(child).to_be_visible()
    box = child.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("link", name=fi("Outbox"), exact=True)).to_have_count(0)
    _shots(page, folder, "inbox", check_accessibility)
    page.close()
