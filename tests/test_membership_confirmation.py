"""Four eyes on content access an administrator grants: a membership an administrator adds, and
every membership of a person whose password (and two-factor enrolment) an administrator
resets, give nothing until a lead of the unit or another administrator confirms them.

The security review's two attacks, played as the attacker plays them: (a) reset a member's
password and two-factor enrolment, sign in as them with the temporary password, enrol a new
authenticator, and open the unit's handover; (b) create a puppet account, add it to a unit, and
sign in as it. Both now end in 404 until someone else confirms, then 200.
"""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import four_eyes_support
import lifecycle_support
import pytest
from flask_migrate import upgrade
from four_eyes_support import (
    browser,
    events,
    membership_id,
    sign_in_with_temporary,
    temporary_password_in,
)
from lifecycle_support import send_handover
from sqlalchemy import select, text
from support import empty_database, run_command

from handover.cli import check_data
from handover.config import SERVICE_TIMEZONE
from handover.services import accounts, notifications, policy
from handover.store.database import db
from handover.store.models import Membership, Unit, User
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world
sent = four_eyes_support.sent
admin = four_eyes_support.admin
other_admin = four_eyes_support.other_admin

AWAITS = "Your access to your units awaits confirmation"


def lead_confirms(app, world, email, unit="receiving", role="receiver"):
    lead = browser(app, world.users[f"{unit}_lead"])
    unit_id = world.units[unit].id
    page = lead.get(f"/lead/units/{unit_id}").get_data(as_text=True)
    assert "Memberships awaiting confirmation" in page and email in page
    mid = membership_id(app, email, unit_id, role)
    answer = lead.post(f"/lead/units/{unit_id}/members/{mid}/confirm")
    assert answer.status_code == 302
    return lead


# --- attack (a): reset a member's password and two-factor, sign in as them ----------------


def test_reset_password_and_two_factor_no_longer_lets_the_admin_read_alone(
        app, world, sent, admin):
    victim = world.users["receiving_receiver"]
    reset = admin.post(f"/admin/users/{victim.id}/reset-password",
                       data={"reset_two_factor": "y"})
    assert reset.status_code == 200
    assert "now awaits confirmation" in reset.get_data(as_text=True)
    [event] = events(app, "admin.password_reset")
    assert json.loads(event.detail)["memberships_suspended"] == 1

    attacker = browser(app)
    sign_in_with_temporary(attacker, victim.email, temporary_password_in(reset))
    assert attacker.get(f"/handovers/{sent}").status_code == 404
    home = attacker.get("/").get_data(as_text=True)
    assert AWAITS in home
    inbox = attacker.get("/handovers/inbox")
    assert f"/handovers/{sent}" not in inbox.get_data(as_text=True)

    # The admin page says why, and the same admin cannot confirm it.
    user_page = admin.get(f"/admin/users/{victim.id}").get_data(as_text=True)
    assert "Awaiting confirmation by the unit's lead or another administrator" in user_page
    mid = membership_id(app, victim.email, world.units["receiving"].id, "receiver")
    listed = admin.get("/admin/memberships/awaiting").get_data(as_text=True)
    assert victim.email in listed
    assert f"/admin/memberships/{mid}/confirm" not in listed
    assert admin.post(f"/admin/memberships/{mid}/confirm").status_code == 302
    assert "You cannot confirm or refuse this membership" in admin.get(
        "/admin/memberships/awaiting").get_data(as_text=True)
    assert attacker.get(f"/handovers/{sent}").status_code == 404

    # The unit's lead recognises the person and confirms: the person reads again.
    lead_confirms(app, world, victim.email)
    assert attacker.get(f"/handovers/{sent}").status_code == 200
    assert AWAITS not in attacker.get("/").get_data(as_text=True)
    [confirmed] = events(app, "unit_lead.membership_confirmed")
    assert confirmed.actor_label == "receiving.lead@example.test"


def test_linking_an_organisation_account_suspends_the_persons_memberships(
        app, world, sent, admin):
    """An administrator who links an organisation account of their own to a member could sign
    in as them through the organisation's login: the link suspends as a reset does."""
    victim = world.users["receiving_receiver"]
    linked = admin.post(f"/admin/users/{victim.id}/sso", data={
        "issuer": "https://login.example.test", "subject": "attacker-controlled", "tenant": ""})
    assert linked.status_code == 302
    page = admin.get(linked.headers["Location"]).get_data(as_text=True)
    assert "memberships now await confirmation" in page
    [event] = events(app, "admin.sso_linked")
    assert json.loads(event.detail)["memberships_suspended"] == 1
    as_victim = browser(app, victim)
    assert as_victim.get(f"/handovers/{sent}").status_code == 404
    lead_confirms(app, world, victim.email)
    assert as_victim.get(f"/handovers/{sent}").status_code == 200


# --- attack (b): a puppet account added to a unit -------------------------------------------


def make_puppet(app, world, admin, role="receiver"):
    created = admin.post("/admin/users/new", data={"email": "puppet@example.test",
                                                   "name": "Pentti Puppet"})
    assert created.status_code == 200
    temporary = temporary_password_in(created)
    with app.app_context():
        puppet_id = accounts.find_user("puppet@example.test").id
    added = admin.post(f"/admin/users/{puppet_id}/memberships",
                       data={"unit": str(world.units["receiving"].id), "role": role})
    assert added.status_code == 302
    return puppet_id, temporary


def test_a_puppet_account_the_admin_adds_to_a_unit_reads_nothing(
        app, world, sent, admin, other_admin):
    puppet_id, temporary = make_puppet(app, world, admin)
    puppet = browser(app)
    sign_in_with_temporary(puppet, "puppet@example.test", temporary)
    assert puppet.get(f"/handovers/{sent}").status_code == 404
    assert AWAITS in puppet.get("/").get_data(as_text=True)

    mid = membership_id(app, "puppet@example.test", world.units["receiving"].id, "receiver")
    admin.post(f"/admin/memberships/{mid}/confirm")
    admin.post(f"/admin/memberships/{mid}/refuse")
    assert puppet.get(f"/handovers/{sent}").status_code == 404
    assert events(app, "admin.membership_confirmed") == []
    assert events(app, "admin.membership_refused") == []

    listed = other_admin.get("/admin/memberships/awaiting").get_data(as_text=True)
    assert f"/admin/memberships/{mid}/confirm" in listed
    assert other_admin.post(f"/admin/memberships/{mid}/confirm").status_code == 302
    assert puppet.get(f"/handovers/{sent}").status_code == 200
    [confirmed] = events(app, "admin.membership_confirmed")
    assert confirmed.actor_label == "second.admin@example.test"
    page = admin.get(f"/admin/users/{puppet_id}").get_data(as_text=True)
    assert "Confirmed" in page and "Awaiting confirmation by" not in page


def test_the_awaiting_page_writes_its_dates_as_the_rest_of_the_interface(
        app, world, admin, other_admin):
    """Day.month.year in the user's time zone, as every other page, not the ISO form."""
    make_puppet(app, world, admin)
    today = datetime.now(ZoneInfo(SERVICE_TIMEZONE)).date()
    listed = other_admin.get("/admin/memberships/awaiting").get_data(as_text=True)
    assert f"<td>{today.day}.{today.month}.{today.year}</td>" in listed
    assert today.isoformat() not in listed


def test_the_lead_refuses_a_membership_they_do_not_recognise(app, world, sent, admin):
    make_puppet(app, world, admin)
    unit_id = world.units["receiving"].id
    mid = membership_id(app, "puppet@example.test", unit_id, "receiver")
    lead = browser(app, world.users["receiving_lead"])
    assert lead.post(f"/lead/units/{unit_id}/members/{mid}/refuse").status_code == 302
    assert membership_id(app, "puppet@example.test", unit_id, "receiver") is None
    assert len(events(app, "unit_lead.membership_refused")) == 1
    assert "puppet@example.test" not in lead.get(f"/lead/units/{unit_id}").get_data(
        as_text=True)


def test_a_lead_of_another_unit_cannot_confirm(app, world, sent, admin):
    make_puppet(app, world, admin)
    mid = membership_id(app, "puppet@example.test", world.units["receiving"].id, "receiver")
    stranger = browser(app, world.users["other_lead"])
    assert stranger.post(
        f"/lead/units/{world.units['receiving'].id}/members/{mid}/confirm").status_code == 404
    assert stranger.post(
        f"/lead/units/{world.units['other'].id}/members/{mid}/confirm").status_code == 404
    with app.app_context():
        assert db.session.get(Membership, mid).confirmed_at is None


def test_a_puppet_made_lead_confirms_nothing(app, world, sent, admin):
    """The admin adds the puppet as the unit's lead, then as a receiver: the unconfirmed lead
    role gives no lead page, so the puppet cannot confirm its own receiver role."""
    puppet_id, temporary = make_puppet(app, world, admin, role="lead")
    admin.post(f"/admin/users/{puppet_id}/memberships",
               data={"unit": str(world.units["receiving"].id), "role": "receiver"})
    puppet = browser(app)
    sign_in_with_temporary(puppet, "puppet@example.test", temporary)
    unit_id = world.units["receiving"].id
    assert puppet.get(f"/lead/units/{unit_id}").status_code == 404
    mid = membership_id(app, "puppet@example.test", unit_id, "receiver")
    assert puppet.post(f"/lead/units/{unit_id}/members/{mid}/confirm").status_code == 404
    assert puppet.get(f"/handovers/{sent}").status_code == 404


def test_nobody_confirms_their_own_membership(app, world, admin):
    """A lead the admin adds to the unit in a second role sees it awaiting, without a Confirm
    button, and a post is refused."""
    lead = world.users["receiving_lead"]
    unit_id = world.units["receiving"].id
    admin.post(f"/admin/users/{lead.id}/memberships",
               data={"unit": str(unit_id), "role": "receiver"})
    mid = membership_id(app, lead.email, unit_id, "receiver")
    own = browser(app, lead)
    page = own.get(f"/lead/units/{unit_id}").get_data(as_text=True)
    assert "Your own membership" in page
    assert f"/members/{mid}/confirm" not in page
    own.post(f"/lead/units/{unit_id}/members/{mid}/confirm")
    with app.app_context():
        assert db.session.get(Membership, mid).confirmed_at is None
        membership = db.session.get(Membership, mid)
        assert not accounts.may_confirm(membership, db.session.get(User, lead.id), "unit_lead")
    assert events(app, "unit_lead.membership_confirmed") == []


# --- memberships that need no second person -------------------------------------------------


def test_a_member_the_lead_adds_reads_at_once(app, world, sent):
    newcomer = world.users["other_receiver"]
    lead = browser(app, world.users["receiving_lead"])
    unit_id = world.units["receiving"].id
    assert lead.post(f"/lead/units/{unit_id}/members",
                     data={"email": newcomer.email, "role": "receiver"}).status_code == 302
    assert browser(app, newcomer).get(f"/handovers/{sent}").status_code == 200


def test_a_member_the_command_line_makes_reads_at_once(app, world, sent, runner):
    result = run_command(runner, "users", "create", "--email", "cli.made@example.test",
                         "--name", "Komentorivi", "--unit", "Receiving unit",
                         "--role", "receiver")
    assert result.exit_code == 0, result.output
    with app.app_context():
        made = accounts.find_user("cli.made@example.test")
        assert [m.role for m in made.memberships] == ["receiver"]
        assert made.pending_memberships == []
        assert policy.inbox_unit_ids(made) == [world.units["receiving"].id]


# --- no notices, no lists, for a membership awaiting confirmation ---------------------------


def test_an_unconfirmed_member_gets_no_notice_and_no_inbox_rows(app, world, admin):
    _puppet_id, temporary = make_puppet(app, world, admin)
    unit_id = world.units["receiving"].id
    with app.app_context():
        addresses = notifications.unit_addresses(unit_id, ("receiver", "lead"))
        assert "puppet@example.test" not in addresses
        assert "receiving.receiver@example.test" in addresses
        hid = send_handover(world)
    puppet_session = browser(app)
    sign_in_with_temporary(puppet_session, "puppet@example.test", temporary)
    inbox = puppet_session.get("/handovers/inbox")
    assert f"/handovers/{hid}" not in inbox.get_data(as_text=True)
    assert AWAITS in puppet_session.get("/").get_data(as_text=True)

    lead_confirms(app, world, "puppet@example.test")
    with app.app_context():
        assert "puppet@example.test" in notifications.unit_addresses(unit_id, ("receiver",))
    assert f"/handovers/{hid}" in puppet_session.get("/handovers/inbox").get_data(
        as_text=True)


def test_check_warns_of_a_membership_awaiting_for_over_a_week(app, world, admin):
    make_puppet(app, world, admin)
    assert list(check_data.pending_membership_problems(app)) == []
    with app.app_context():
        membership = db.session.scalars(
            select(Membership).where(Membership.confirmed_at.is_(None))).one()
        membership.pending_since = utcnow() - timedelta(days=8)
        db.session.commit()
    [finding] = list(check_data.pending_membership_problems(app))
    assert "puppet@example.test" in str(finding) and "Receiving unit" in str(finding)


# --- migration 0015 --------------------------------------------------------------------------


@pytest.fixture
def at_0014(app):
    with app.app_context():
        empty_database()
        upgrade(revision="0014")
    yield
    with app.app_context():
        db.session.remove()
        empty_database()
        db.create_all()


def test_memberships_from_before_0015_stay_in_force(app, at_0014):
    with app.app_context():
        now = utcnow()
        db.session.execute(text(
            "INSERT INTO units (name, name_key, kind, organisation, email, is_active, "
            "created_at) VALUES ('Majakka', 'majakka', 'child_welfare_institution', '', '', "
            ":yes, :now)"), {"now": now, "yes": True})
        db.session.execute(text(
            "INSERT INTO users (email, name, password_hash, must_change_password, "
            "totp_last_step, is_admin, is_auditor, active, password_login, created_at) "
            "VALUES ('anna@example.test', 'Anna', '!', :no, 0, :no, :no, :yes, :yes, :now)"),
            {"now": now, "yes": True, "no": False})
        db.session.execute(text(
            "INSERT INTO memberships (user_id, unit_id, role, created_at) "
            "SELECT users.id, units.id, 'receiver', :now FROM users, units"), {"now": now})
        db.session.commit()
        db.session.remove()

        upgrade()

        anna = db.session.scalars(select(User)).one()
        [membership] = anna.memberships
        assert membership.confirmed_at is not None
        assert anna.pending_memberships == []
        unit = db.session.scalars(select(Unit)).one()
        assert policy.inbox_unit_ids(anna) == [unit.id]
