"""Issue 2 in a real browser: an admin logs in with password and code, creates a unit and a user;
that user's first login enrols TOTP, changes the temporary password, switches to Swedish and
logs out. Every page on the way is checked with axe-core."""

import pyotp
from helpers import at_phone_width_too, exactly, fi, log_in, log_out, switch_language, text
from playwright.sync_api import expect
from support import PASSWORD, create_user

from handover.security import totp
from handover.store.database import db
from handover.store.models import User

UNIT_NAME = "Kuusikon lastenkoti"
NEW_EMAIL = "sanna.sijainen@example.test"
NEW_NAME = "Sanna Sijainen"
NEW_PASSWORD = "lumikko kantaa sinistä lyhtyä"


def test_admin_creates_a_user_who_enrols_changes_password_switches_to_swedish_and_logs_out(
        live_server, page, check_accessibility):
    check = at_phone_width_too(check_accessibility)
    with live_server.app.app_context():
        admin = create_user("admin.journey@example.test", name="Aino Admin", admin=True)
        admin_secret = totp.secret_of(admin)
        second = create_user("second.admin@example.test", name="Bertta Admin", admin=True)
        second_secret = totp.secret_of(second)

    # The admin: password, then the authenticator's code.
    log_in(page, live_server, "admin.journey@example.test", PASSWORD,
           lambda: pyotp.TOTP(admin_secret).now(), check=check)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aino Admin")
    check(page)

    # A unit, from the admin's Units page.
    navigation = page.get_by_role("navigation", name=fi("Main"))
    navigation.get_by_role("link", name=fi("Units"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=fi("Units"))).to_be_visible()
    check(page)
    new_unit = page.get_by_role("region", name=fi("Create a unit"))
    new_unit.get_by_label(fi("Name"), exact=True).fill(UNIT_NAME)
    new_unit.get_by_label(fi("Kind"), exact=True).select_option(
        label=fi("Child-welfare institution"))
    new_unit.get_by_label(fi("Organisation"), exact=True).fill("Esimerkin hyvinvointialue")
    new_unit.get_by_role("button", name=fi("Create unit")).click()
    expect(page.get_by_role("status")).to_contain_text(fi("Unit %(name)s created.",
                                                          name=UNIT_NAME))
    expect(page.get_by_role("link", name=UNIT_NAME)).to_be_visible()
    check(page)

    # A user: the temporary password is shown once.
    navigation.get_by_role("link", name=fi("Users"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=fi("Users"))).to_be_visible()
    check(page)
    page.get_by_role("link", name=fi("Create a user")).click()
    expect(page.get_by_role("heading", level=1, name=fi("Create a user"))).to_be_visible()
    check(page)
    page.get_by_label(fi("E-mail address"), exact=True).fill(NEW_EMAIL)
    page.get_by_label(fi("Name"), exact=True).fill(NEW_NAME)
    page.get_by_role("button", name=fi("Create user")).click()
    expect(page.get_by_role("heading", level=1, name=fi("User created"))).to_be_visible()
    check(page)
    temporary_password = page.get_by_role("code").inner_text().strip()
    assert len(temporary_password) >= 12

    # Their membership: sender in the new unit.
    page.get_by_role("link", name=fi("Continue to the user's page")).click()
    expect(page.get_by_role("heading", level=1, name=NEW_NAME)).to_be_visible()
    check(page)
    page.get_by_label(fi("Unit"), exact=True).select_option(label=UNIT_NAME)
    page.get_by_label(fi("Role"), exact=True).select_option(label=fi("Sender"))
    page.get_by_role("button", name=fi("Add membership")).click()
    expect(page.get_by_role("status")).to_contain_text(fi(
        "Membership added. It gives access once a lead of the unit or another administrator "
        "confirms it."))
    memberships = page.get_by_role("region", name=fi("Memberships"))
    expect(memberships.get_by_role("rowheader", name=UNIT_NAME)).to_be_visible()
    expect(memberships).to_contain_text(
        fi("Awaiting confirmation by the unit's lead or another administrator"))
    check(page)
    log_out(page)
    expect(page.get_by_role("heading", level=1, name=fi("Log in"))).to_be_visible()

    # Four eyes: another administrator confirms the membership the first one added.
    log_in(page, live_server, "second.admin@example.test", PASSWORD,
           lambda: pyotp.TOTP(second_secret).now())
    page.get_by_role("navigation", name=fi("Main")).get_by_role(
        "link", name=fi("Awaiting confirmation"), exact=True).click()
    expect(page.get_by_role("heading", level=1,
                            name=fi("Awaiting confirmation"))).to_be_visible()
    check(page)
    page.get_by_role("button", name=f"{fi('Confirm')}: {NEW_NAME}, {UNIT_NAME}, "
                                    f"{fi('Sender')}").click()
    expect(page.get_by_role("status")).to_contain_text(fi("Membership confirmed."))
    check(page)
    log_out(page)
    expect(page.get_by_role("heading", level=1, name=fi("Log in"))).to_be_visible()

    # The new user's first login: password, then enrolment of the authenticator.
    page.get_by_label(fi("E-mail address")).fill(NEW_EMAIL)
    page.get_by_label(fi("Password"), exact=True).fill(temporary_password)
    page.get_by_role("button", name=fi("Continue")).click()
    expect(page.get_by_role("heading", level=1, name=fi("Set up two-step login"))).to_be_visible()
    check(page)
    qr_code = page.get_by_role("img", name=fi("QR code for your authenticator app"))
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("element => element.tagName.toLowerCase()") == "svg"
    secret = page.get_by_role("code").inner_text().strip()
    assert len(secret) >= 16
    page.get_by_label(fi("Code"), exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=fi("Confirm and log in")).click()

    # The temporary password must go before anything else.
    expect(page.get_by_role("heading", level=1, name=fi("Change password"))).to_be_visible()
    check(page)
    page.get_by_role("link", name=fi("Home"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=fi("Change password"))).to_be_visible()
    page.get_by_label(fi("Current password"), exact=True).fill(temporary_password)
    page.get_by_label(fi("New password"), exact=True).fill(NEW_PASSWORD)
    page.get_by_label(fi("New password again"), exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name=fi("Change password")).click()

    # Home: their unit is there.
    expect(page.get_by_role("heading", level=1)).to_contain_text(NEW_NAME)
    units = page.get_by_role("region", name=fi("Your units"))
    expect(units.get_by_role("listitem")).to_contain_text(UNIT_NAME)
    check(page)
    with live_server.app.app_context():
        enrolled = db.session.execute(
            db.select(User).where(User.email == NEW_EMAIL)).scalar_one()
        assert totp.secret_of(enrolled) == secret
        assert not enrolled.must_change_password

    # The account page, then Swedish from the language switch.
    page.get_by_role("link", name=fi("Account"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=fi("Account"))).to_be_visible()
    check(page)
    switch_language(page, "svenska")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    swedish_heading = text("Account", "sv")
    assert swedish_heading not in (fi("Account"), "Account"), "no Swedish text for 'Account'"
    expect(page.get_by_role("heading", level=1, name=exactly(swedish_heading))).to_be_visible()
    expect(page.get_by_role("button", name=text("Log out", "sv"))).to_be_visible()
    expect(page.get_by_role("group", name=text("Interface language", "sv"))
           .get_by_role("radio", name="svenska")).to_be_checked()
    check(page)

    # Logging out: the home page now sends to the login page.
    log_out(page, "sv")
    expect(page).to_have_url(live_server.url + "/login")
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re_login(live_server))
    expect(page.get_by_role("heading", level=1, name=text("Log in", "sv"))).to_be_visible()
    check(page)


def re_login(server):
    import re

    return re.compile(re.escape(server.url) + r"/login(\?.*)?$")
