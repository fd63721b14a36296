"""Four eyes on administrators and integration clients in a real browser: another
administrator confirms an administrator role and a client that one administrator gave, on
Awaiting confirmation; the account waiting for its role is told so on its home page. Every page
on the way is checked with axe-core."""

from datetime import timedelta

from helpers import at_phone_width_too, fi, log_in_user, log_out
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

from handover.services import accounts, integration_clients
from handover.store.database import db
from handover.store.models import IntegrationClient, User
from handover.store.models.base import utcnow


def test_another_admin_confirms_a_role_and_a_client(live_server, page, check_accessibility):
    check = at_phone_width_too(check_accessibility)
    with live_server.app.app_context():
        unit = create_unit("Osasto 5")
        first = create_user("first.admin@example.test", name="Aino Admin", admin=True)
        second = create_user("second.admin@example.test", name="Bertta Admin", admin=True)
        waiting = create_user("waiting.admin@example.test", name="Cecilia Odottaja")
        accounts.set_system_roles(waiting, admin=True, auditor=False, actor=first)
        integration_clients.create(first, "Osaston järjestelmä", unit, {"inbox:read"},
                                   utcnow() + timedelta(days=30))
        ids = {"second": second.id, "waiting": waiting.id}

    log_in_user(page, live_server, ids["waiting"], PASSWORD)
    expect(page.get_by_role("main")).to_contain_text(fi(
        "Your administrator role awaits confirmation by another administrator. Until it is "
        "confirmed you cannot use the administration pages."))
    check(page)
    log_out(page)

    log_in_user(page, live_server, ids["second"], PASSWORD)
    page.get_by_role("navigation", name=fi("Main")).get_by_role(
        "link", name=fi("Awaiting confirmation"), exact=True).click()
    roles = page.get_by_role("region", name=fi("Administrator roles awaiting confirmation"))
    expect(roles.get_by_role("rowheader", name="Cecilia Odottaja")).to_be_visible()
    clients = page.get_by_role("region", name=fi("Integration clients awaiting confirmation"))
    expect(clients.get_by_role("rowheader", name="Osaston järjestelmä")).to_be_visible()
    check(page)
    roles.get_by_role("button", name=f"{fi('Confirm')}: Cecilia Odottaja, "
                                     f"{fi('Administrator')}").click()
    expect(page.get_by_role("status")).to_contain_text(fi("Administrator role confirmed."))
    page.get_by_role("region", name=fi("Integration clients awaiting confirmation")).get_by_role(
        "button", name=f"{fi('Confirm')}: Osaston järjestelmä").click()
    expect(page.get_by_role("status")).to_contain_text(
        fi("Integration client confirmed: its token works now."))
    check(page)
    with live_server.app.app_context():
        assert db.session.get(User, ids["waiting"]).is_admin
        client = db.session.query(IntegrationClient).one()
        assert client.confirmed_by_id == ids["second"]
