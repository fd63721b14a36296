"""Issue 14, the reading view: a nurse, a daycare director and a principal open the demo's
handover of their form still awaiting acknowledgement and find, on the first screen at
1280×900, the child's name and age, the key facts the form definition declares (allergies,
risks, contact restrictions...) and the acknowledge button; the print view starts with the same
facts. axe-core checks the page in Finnish, Swedish and English; screenshots at 1280 and 390 px
go to test-artifacts/reading/."""

import re

import pytest
from helpers import fi, fi_plural, log_in_demo_user, switch_language_to, text
from playwright.sync_api import expect

from handover.plugins import manager as plugin_manager

FIRST_SCREEN = 900
#: (demo receiver, form key, the demo child whose handover awaits acknowledgement; the other
#: demo handover of the form carries the receipt, which acknowledged it)
READERS = (
    ("omahoitaja@demo.handover.example", "psychiatric_ward_preinfo", "Sofia Harjoitus"),
    ("paivakoti@demo.handover.example", "daycare_placed_child", "Leo Kokeilu"),
    ("rehtori@demo.handover.example", "school_transfer", "Aino Näyte"),
)






@pytest.mark.parametrize(("email", "form_key", "child"), READERS,
                         ids=[reader[1] for reader in READERS])
def test_key_facts_and_the_acknowledge_button_are_on_the_first_screen(
        email, form_key, child, demo_server, browser, check_accessibility, artifacts_dir):
    folder = artifacts_dir / "reading"
    folder.mkdir(exist_ok=True)
    with demo_server.app.app_context():
        definition = plugin_manager.registry().get(form_key)
    page = browser.new_page(viewport={"width": 1280, "height": FIRST_SCREEN})
    log_in_demo_user(page, demo_server, email)
    page.goto(demo_server.url + "/handovers/inbox")
    page.get_by_role("row").filter(has_text=child).get_by_role(
        "link", name=re.compile(re.escape(definition.title_in("fi")))).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(child)
    unit = fi_plural("%(num)s year", "%(num)s years", 2).removeprefix("2")   # " v"
    expect(heading).to_contain_text(re.compile(r", \d+" + re.escape(unit)))
    facts = page.get_by_role("region", name=fi("Key facts"))
    labels = facts.locator(".hv-key-facts__list").get_by_role("term").all_inner_texts()
    wanted = [definition.field(item.field).label_in("fi") for item in definition.summary]
    assert labels[:-1] == [label for label in wanted if label in labels], labels
    assert len(labels) >= 4 and labels[-1] == fi("Acknowledge by")
    button = page.get_by_role("button", name=fi("Acknowledge receipt"))
    for box in [facts.locator(".hv-key-facts__list").bounding_box(), button.bounding_box()]:
        assert box["y"] + box["height"] <= FIRST_SCREEN, (box, form_key)
    # A risk or an allergy is marked as a warning, not shown like sleep habits.
    alerts = [definition.field(item.field).label_in("fi") for item in definition.summary
              if item.emphasis == "alert"]
    shown_alerts = [label for label in alerts if label in labels]
    assert shown_alerts and all(
        "hv-emphasis--alert" in facts.get_by_role("term").filter(has_text=label).first
        .locator("xpath=..").get_attribute("class") for label in shown_alerts)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": FIRST_SCREEN})
        check_accessibility(page)
        page.screenshot(path=str(folder / f"{form_key}-read-fi-{width}.png"), full_page=True)
        page.screenshot(path=str(folder / f"{form_key}-first-screen-fi-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": FIRST_SCREEN})
    for language in ("sv", "en", "fi"):
        switch_language_to(page, language)
        expect(page.get_by_role("region", name=text("Key facts", language))).to_be_visible()
        check_accessibility(page)

    page.get_by_role("link", name=fi("Print view")).click()
    first_heading = page.get_by_role("heading", level=1)
    expect(first_heading).to_contain_text(child)
    print_facts = page.get_by_role("region", name=fi("Key facts"))
    expect(print_facts).to_be_visible()
    assert print_facts.bounding_box()["y"] < page.locator("#details-title").bounding_box()["y"]
    check_accessibility(page)
    page.close()
