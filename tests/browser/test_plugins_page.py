"""Issue 3 in a real browser: the admin's Plugins page shows the example plugin (installed as a
package, found through its entry point) and its rows of the one routing table, and switching it
off takes its form away from what a social-work sender may choose; switching it on brings it
back."""

import handover_health_check
from helpers import at_phone_width_too, fi, log_in_user
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

from handover.plugins import manager as plugin_manager

PLUGIN = "health_check"
FORM_KEY = "placement_health_check"
SENDING_UNIT = "Itäisen alueen lastensuojelun sosiaalityö"


def health_service_label():
    kind, = handover_health_check.register_unit_kinds(app=None)
    assert kind["key"] == "health_service"
    return kind["labels"]["fi"]


def test_disabling_the_example_plugin_removes_its_form_from_the_senders_choices(
        live_server, page, browser, check_accessibility):
    check = at_phone_width_too(check_accessibility)
    with live_server.app.app_context():
        health_check = plugin_manager.registry().get(FORM_KEY)
        title = health_check.title_in("fi")
        daycare_title = plugin_manager.registry().get("daycare_placed_child").title_in("fi")
        social_work = create_unit(SENDING_UNIT, kind="child_welfare_social_work")
        social_work_id = social_work.id
        create_unit("Kaupungin terveysasema", kind="health_service")
        admin_id = create_user("admin.plugins@example.test", admin=True).id
        sender_id = create_user("sender.plugins@example.test",
                                memberships=[(social_work, "sender")]).id

    # The admin's Plugins page: the example plugin, where it came from, its form and routing.
    log_in_user(page, live_server, admin_id, PASSWORD)
    page.get_by_role("navigation", name=fi("Main")).get_by_role(
        "link", name=fi("Plugins"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=fi("Plugins"))).to_be_visible()
    check(page)
    plugin = page.get_by_role("region", name=PLUGIN, exact=True)
    expect(plugin).to_contain_text(fi("Installed package (entry point)"))
    expect(plugin).to_contain_text(f"{title}: " + fi("versions %(list)s", list="1"))
    expect(plugin).not_to_contain_text(FORM_KEY)
    expect(plugin).to_contain_text(health_service_label())
    # One routing table for every plugin: the form by its title, unit kinds by their labels.
    rules = page.get_by_role("table", name=fi("Who may send which form to whom"))
    rule = rules.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title))
    cells = rule.get_by_role("cell")
    expect(cells).to_have_count(4)
    expect(cells.nth(0)).to_have_text(fi("Child-welfare social work"))
    expect(cells.nth(1)).to_contain_text(health_service_label())
    expect(cells.nth(2)).to_have_text("—")
    expect(cells.nth(3)).to_have_text(PLUGIN)

    # A sender in social work may choose the health check form.
    sender_context = browser.new_context()
    try:
        sender = sender_context.new_page()
        log_in_user(sender, live_server, sender_id, PASSWORD)
        sender.goto(live_server.url + "/handovers/new")
        choices = sender.get_by_role("group", name=fi("Form"))
        expect(choices.get_by_role("radio", name=f"{title} — {SENDING_UNIT}")).to_have_count(1)
        expect(choices.get_by_role("radio", name=f"{daycare_title} — {SENDING_UNIT}")) \
            .to_have_count(1)
        check(sender)

        # Off: the form is gone for the sender (whichever gunicorn worker answers).
        plugin.get_by_role("button", name=fi("Disable %(name)s", name=PLUGIN)).click()
        expect(page.get_by_role("status")).to_contain_text(PLUGIN)
        plugin = page.get_by_role("region", name=PLUGIN, exact=True)
        expect(plugin).to_contain_text(fi("Disabled"))
        check(page)
        for _attempt in range(3):
            sender.reload()
            expect(choices.get_by_role("radio", name=f"{title} — {SENDING_UNIT}")) \
                .to_have_count(0)
            expect(choices.get_by_role("radio", name=f"{daycare_title} — {SENDING_UNIT}")) \
                .to_have_count(1)
        check(sender)
        # A direct link to the form's first step is refused as well.
        response = sender.goto(
            f"{live_server.url}/handovers/new/{social_work_id}/{FORM_KEY}")
        assert response.status == 404

        # On again: the form is back.
        plugin.get_by_role("button", name=fi("Enable %(name)s", name=PLUGIN)).click()
        expect(page.get_by_role("region", name=PLUGIN, exact=True)).to_contain_text(
            fi("Enabled"))
        sender.goto(live_server.url + "/handovers/new")
        expect(choices.get_by_role("radio", name=f"{title} — {SENDING_UNIT}")).to_have_count(1)
    finally:
        sender_context.close()
