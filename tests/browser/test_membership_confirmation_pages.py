"""Four eyes in a real browser: a unit lead confirms and refuses memberships an administrator
added, on their unit's page, and a person whose only membership awaits confirmation is told so
on the home page. Every page on the way is checked with axe-core."""

from helpers import at_phone_width_too, fi, log_in_user, log_out
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

from handover.services import accounts
from handover.store.database import db
from handover.store.models import Membership

UNIT_NAME = "Koivikon lastenkoti"


def test_a_lead_confirms_and_refuses_and_the_waiting_person_is_told(
        live_server, page, check_accessibility):
    check = at_phone_width_too(check_accessibility)
    with live_server.app.app_context():
        unit = create_unit(UNIT_NAME)
        lead = create_user("lead.confirm@example.test", name="Liisa Lead",
                           memberships=[(unit, "lead")])
        admin = create_user("admin.confirm@example.test", name="Aino Admin", admin=True)
        waiting = create_user("waiting@example.test", name="Veera Odottaja")
        stranger = create_user("stranger@example.test", name="Tuntematon Tyyppi")
        for person in (waiting, stranger):
            accounts.add_membership(person, unit, "receiver", actor=admin)
        ids = {"unit": unit.id, "lead": lead.id, "waiting": waiting.id}

    # The person waiting: the home page says why there is nothing.
    log_in_user(page, live_server, ids["waiting"], PASSWORD)
    expect(page.get_by_role("region", name=fi("Your units"))).to_contain_text(
        fi("Your access to your units awaits confirmation by the unit's lead or an "
           "administrator. Until then you see no handovers. Ask your unit lead to confirm "
           "your membership."))
    check(page)
    log_out(page)

    # The lead: the unit's page lists both, with Confirm and Refuse.
    log_in_user(page, live_server, ids["lead"], PASSWORD)
    page.goto(f"{live_server.url}/lead/units/{ids['unit']}")
    awaiting = page.get_by_role("region", name=fi("Memberships awaiting confirmation"))
    expect(awaiting.get_by_role("rowheader", name="Veera Odottaja")).to_be_visible()
    check(page)
    receiver = fi("Receiver")
    awaiting.get_by_role("button", name=f"{fi('Refuse')}: Tuntematon Tyyppi, {receiver}").click()
    expect(page.get_by_role("status")).to_contain_text(fi("Membership refused and removed."))
    check(page)
    page.get_by_role("region", name=fi("Memberships awaiting confirmation")).get_by_role(
        "button", name=f"{fi('Confirm')}: Veera Odottaja, {receiver}").click()
    expect(page.get_by_role("status")).to_contain_text(fi("Membership confirmed."))
    expect(page.get_by_role("region", name=fi("Memberships awaiting confirmation"))
           ).to_have_count(0)
    check(page)
    with live_server.app.app_context():
        held = sorted((m.user.email, m.confirmed_at is not None)
                      for m in db.session.query(Membership).filter_by(unit_id=ids["unit"]))
    assert held == [("lead.confirm@example.test", True), ("waiting@example.test", True)]
