"""Issue 5 in a real browser, for each built-in form: a sender fills it in Finnish and sends it;
screenshots of the fill page and the read page at 1280 px and 390 px (phone) go into
test-artifacts/forms/ for reviewers. Then the receiver switches to Swedish and reads the same
handover: labels, section titles and choices in Swedish, the typed text exactly as typed."""

from dataclasses import dataclass

import pytest
from helpers import exactly, fi, fill_definition, log_in_user, required_content, switch_language
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

from handover.plugins import manager as plugin_manager

WIDTHS = (1280, 390)


@dataclass(frozen=True)
class Route:
    form_key: str
    sender_kind: str
    receiver_kind: str


ROUTES = (
    Route("psychiatric_ward_preinfo", "child_welfare_institution", "psychiatric_ward"),
    Route("daycare_placed_child", "child_welfare_social_work", "daycare"),
    Route("school_transfer", "child_welfare_social_work", "school"),
)

GUARDIAN = {"guardian_name": "Äiti Testinen-Öljymäki", "guardian_relation": "äiti"}
#: Required choices whose first choice would ask for one more answer: the ward's legal basis of
#: the admission (a voluntary admission names the consenting person; observation does not).
CHOSEN = {"psychiatric_ward_preinfo": {"admission_status": "observation"}}


def screenshots(page, folder, name, check_accessibility):
    """Full-page screenshots at each width; axe at each width too (the phone layout differs)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        check_accessibility(page)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


@pytest.mark.parametrize("route", ROUTES, ids=[route.form_key for route in ROUTES])
def test_form_filled_in_finnish_reads_in_swedish_for_the_receiver(
        route, live_server, browser, check_accessibility, artifacts_dir):
    folder = artifacts_dir / "forms"
    folder.mkdir(exist_ok=True)
    with live_server.app.app_context():
        definition = plugin_manager.registry().get(route.form_key)
        sender_unit = create_unit(f"Lähettäjä {route.form_key}", kind=route.sender_kind)
        receiver_unit = create_unit(f"Vastaanottaja {route.form_key}", kind=route.receiver_kind)
        sender_id = create_user(f"sender.{route.form_key}@example.test",
                                memberships=[(sender_unit, "sender")]).id
        receiver_id = create_user(f"receiver.{route.form_key}@example.test",
                                  memberships=[(receiver_unit, "receiver")]).id
        sender_name, receiver_name = sender_unit.name, receiver_unit.name
    title = definition.title_in("fi")
    content = required_content(definition, route.sender_kind, "Täytetty suomeksi",
                               {"child_name": "Ilmari Testilapsi-Kuusikko",
                                "mother_tongue": "suomi ja pohjoissaame",
                                "guardians": [GUARDIAN], **CHOSEN.get(route.form_key, {})})

    sender_context, receiver_context = browser.new_context(), browser.new_context()
    try:
        sender = sender_context.new_page()
        sender.set_viewport_size({"width": WIDTHS[0], "height": 900})
        log_in_user(sender, live_server, sender_id, PASSWORD)
        sender.goto(live_server.url + "/handovers/new")
        sender.get_by_role("radio", name=f"{title} — {sender_name}").check()
        sender.get_by_role("button", name=fi("Continue")).click()
        sender.get_by_label(fi("Receiving unit")).select_option(label=receiver_name)
        sender.get_by_role("group", name=fi("Legal basis of the disclosure")).get_by_role(
            "radio", name=definition.legal_bases[0].label_in("fi")).check()
        sender.get_by_role("button", name=fi("Continue")).click()
        expect(sender.get_by_role("heading", level=1, name=title)).to_be_visible()
        fill_definition(sender, definition, content)
        screenshots(sender, folder, f"{route.form_key}-fill-fi", check_accessibility)
        sender.get_by_role("button", name=fi("Preview")).click()
        expect(sender.get_by_role("button", name=fi("Send"), exact=True)).to_be_visible()
        sender.get_by_role("button", name=fi("Send"), exact=True).click()
        expect(sender.get_by_role("status")).to_contain_text(fi("The handover was sent."))
        url = sender.url

        receiver = receiver_context.new_page()
        receiver.set_viewport_size({"width": WIDTHS[0], "height": 900})
        log_in_user(receiver, live_server, receiver_id, PASSWORD)
        receiver.goto(url)
        expect(receiver.get_by_role("heading", level=1)).to_contain_text(title)
        screenshots(receiver, folder, f"{route.form_key}-read-fi", check_accessibility)

        # Swedish: the same handover, read by someone who works in Swedish.
        switch_language(receiver, "svenska")
        expect(receiver.locator("html")).to_have_attribute("lang", "sv")
        expect(receiver.get_by_role("heading", level=1)).to_contain_text(
            definition.title_in("sv"))
        shown = definition.visible_sections(route.receiver_kind)
        for section in shown:
            region = receiver.get_by_role("region", name=exactly(section.title_in("sv")))
            expect(region).to_be_visible()
            for field in section.fields:
                if field.key not in content:
                    continue
                expect(region.get_by_role("term").filter(
                    has_text=exactly(field.label_in("sv")))).to_have_count(1)
                typed = content[field.key]
                if field.type in ("text", "textarea"):
                    expect(region.get_by_role("definition").filter(
                        has_text=exactly(typed))).to_have_count(1)
                elif field.type == "choice":
                    expect(region.get_by_role("definition").filter(
                        has_text=exactly(field.choice_label(typed, "sv")))).to_have_count(1)
                elif field.type == "group":
                    table = region.get_by_role("table", name=field.label_in("sv"))
                    for sub in field.fields:
                        expect(table.get_by_role("columnheader",
                                                 name=sub.label_in("sv"))).to_be_visible()
                    for value in typed[0].values():
                        expect(table.get_by_role("cell", name=value, exact=True)).to_be_visible()
        # The Finnish labels are gone, the Finnish text is not translated.
        child_name = definition.field("child_name")
        assert child_name.label_in("fi") != child_name.label_in("sv")
        expect(receiver.get_by_role("term").filter(
            has_text=exactly(child_name.label_in("fi")))).to_have_count(0)
        expect(receiver.get_by_text("suomi ja pohjoissaame", exact=True)).to_be_visible()
        check_accessibility(receiver)
        receiver.set_viewport_size({"width": WIDTHS[0], "height": 900})
        receiver.screenshot(path=str(folder / f"{route.form_key}-read-sv-1280.png"),
                            full_page=True)
    finally:
        sender_context.close()
        receiver_context.close()
