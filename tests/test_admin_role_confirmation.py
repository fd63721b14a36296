"""Four eyes on the administrator role: one administrator alone can no longer make a second
administrator account and confirm, through it, the memberships they added for a third.

The attack, played as the attacker plays it: the administrator creates a "second admin" on the
admin pages (they see its temporary password), signs in with it, and confirms the unit
membership they added for a puppet staff account; or resets a real colleague administrator's
password and signs in as them. Each now finds the administration pages closed (404) until
another administrator, whose own role is in force, confirms the role.
"""

import json
from datetime import timedelta

import four_eyes_support
import lifecycle_support
from four_eyes_support import (
    browser,
    events,
    membership_id,
    sign_in_with_temporary,
    temporary_password_in,
)
from support import run_command

from handover.cli import check_data
from handover.services import accounts
from handover.store.database import db
from handover.store.models import User
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world
sent = four_eyes_support.sent
admin = four_eyes_support.admin
other_admin = four_eyes_support.other_admin

ROLE_AWAITS = "Your administrator role awaits confirmation by another administrator"


def user_id(app, email):
    with app.app_context():
        return accounts.find_user(email).id


def create_on_admin_pages(browser_of_admin, email, name, **roles):
    created = browser_of_admin.post("/admin/users/new",
                                    data={"email": email, "name": name, **roles})
    assert created.status_code == 200, created.get_data(as_text=True)[:500]
    return temporary_password_in(created)


# --- the attack -----------------------------------------------------------------------------


def test_a_second_admin_account_made_by_one_admin_confirms_nothing(app, world, sent, admin):
    puppet_admin_password = create_on_admin_pages(admin, "shadow.admin@example.test",
                                                  "Varjo Ylläpitäjä", admin="y")
    create_on_admin_pages(admin, "puppet@example.test", "Pentti Puppet")
    puppet_id = user_id(app, "puppet@example.test")
    assert admin.post(f"/admin/users/{puppet_id}/memberships", data={
        "unit": str(world.units["receiving"].id), "role": "receiver"}).status_code == 302
    mid = membership_id(app, "puppet@example.test", world.units["receiving"].id, "receiver")

    shadow = browser(app)
    sign_in_with_temporary(shadow, "shadow.admin@example.test", puppet_admin_password)
    assert ROLE_AWAITS in shadow.get("/").get_data(as_text=True)
    for page in ("/admin/users", "/admin/memberships/awaiting", "/admin/units"):
        assert shadow.get(page).status_code == 404, page
    assert shadow.post(f"/admin/memberships/{mid}/confirm").status_code == 404
    with app.app_context():
        assert not accounts.find_user("shadow.admin@example.test").is_admin
    assert events(app, "admin.membership_confirmed") == []

    # Nor does the administrator who gave the role put it in force.
    shadow_id = user_id(app, "shadow.admin@example.test")
    listed = admin.get("/admin/memberships/awaiting").get_data(as_text=True)
    assert "shadow.admin@example.test" in listed
    assert f"/admin/users/{shadow_id}/admin-role/confirm" not in listed
    assert admin.post(f"/admin/users/{shadow_id}/admin-role/confirm").status_code == 302
    assert "You cannot confirm or refuse this administrator role" in admin.get(
        "/admin/memberships/awaiting").get_data(as_text=True)
    assert shadow.get("/admin/users").status_code == 404
    assert events(app, "admin.admin_role_confirmed") == []


def test_another_admin_confirms_the_role_and_it_is_in_force(app, world, admin, other_admin):
    temporary = create_on_admin_pages(admin, "new.admin@example.test", "Uusi Ylläpitäjä", admin="y")
    new_id = user_id(app, "new.admin@example.test")
    [created] = events(app, "admin.user_created")
    assert json.loads(created.detail)["admin_awaiting_confirmation"] is True
    page = admin.get(f"/admin/users/{new_id}").get_data(as_text=True)
    assert "Awaiting confirmation by another administrator" in page

    listed = other_admin.get("/admin/memberships/awaiting").get_data(as_text=True)
    assert f"/admin/users/{new_id}/admin-role/confirm" in listed
    assert "Admin" in listed   # who gave it
    assert other_admin.post(f"/admin/users/{new_id}/admin-role/confirm").status_code == 302
    with app.app_context():
        confirmed = db.session.get(User, new_id)
        assert confirmed.is_admin and not confirmed.admin_awaiting_confirmation
    [event] = events(app, "admin.admin_role_confirmed")
    assert event.actor_label == "second.admin@example.test"
    assert json.loads(event.detail) == {"user_id": new_id}
    new_admin = browser(app)
    sign_in_with_temporary(new_admin, "new.admin@example.test", temporary)
    assert new_admin.get("/admin/users").status_code == 200
    assert ROLE_AWAITS not in new_admin.get("/").get_data(as_text=True)


def test_another_admin_refuses_the_role(app, world, admin, other_admin):
    create_on_admin_pages(admin, "new.admin@example.test", "Uusi Ylläpitäjä", admin="y")
    new_id = user_id(app, "new.admin@example.test")
    assert other_admin.post(f"/admin/users/{new_id}/admin-role/refuse").status_code == 302
    with app.app_context():
        refused = db.session.get(User, new_id)
        assert not refused.is_admin and not refused.admin_awaiting_confirmation
    assert len(events(app, "admin.admin_role_refused")) == 1
    assert "No administrator roles await confirmation" in other_admin.get(
        "/admin/memberships/awaiting").get_data(as_text=True)


def test_a_reset_takes_a_colleague_admins_role_back_into_confirmation(
        app, world, admin, other_admin):
    colleague = user_id(app, "second.admin@example.test")
    reset = admin.post(f"/admin/users/{colleague}/reset-password",
                       data={"reset_two_factor": "y"})
    assert reset.status_code == 200
    [event] = events(app, "admin.password_reset")
    assert json.loads(event.detail)["admin_role_suspended"] is True

    attacker = browser(app)
    sign_in_with_temporary(attacker, "second.admin@example.test", temporary_password_in(reset))
    assert attacker.get("/admin/users").status_code == 404
    assert ROLE_AWAITS in attacker.get("/").get_data(as_text=True)
    # The administrator who reset it cannot confirm it either.
    admin.post(f"/admin/users/{colleague}/admin-role/confirm")
    assert attacker.get("/admin/users").status_code == 404


def test_linking_an_organisation_account_takes_an_admins_role_back(app, world, admin,
                                                                  other_admin):
    colleague = user_id(app, "second.admin@example.test")
    linked = admin.post(f"/admin/users/{colleague}/sso", data={
        "issuer": "https://login.example.test", "subject": "attacker-controlled", "tenant": ""})
    assert linked.status_code == 302
    [event] = events(app, "admin.sso_linked")
    assert json.loads(event.detail)["admin_role_suspended"] is True
    assert other_admin.get("/admin/users").status_code == 404


def test_resetting_ones_own_password_is_refused_and_keeps_ones_role(app, world, admin):
    own = world.users["admin"].id
    answer = admin.post(f"/admin/users/{own}/reset-password", data={})
    assert answer.status_code == 302
    assert "You cannot reset your own password here" in admin.get(answer.location).get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(User, own).is_admin


def test_an_account_awaiting_the_role_gets_no_membership(app, world, admin):
    create_on_admin_pages(admin, "new.admin@example.test", "Uusi Ylläpitäjä", admin="y")
    new_id = user_id(app, "new.admin@example.test")
    answer = admin.post(f"/admin/users/{new_id}/memberships", data={
        "unit": str(world.units["receiving"].id), "role": "receiver"})
    assert answer.status_code == 400
    assert "Administrators and auditors cannot be members of a unit" in answer.get_data(
        as_text=True)
    assert membership_id(app, "new.admin@example.test", world.units["receiving"].id,
                         "receiver") is None


def test_saving_the_roles_form_again_keeps_the_request_and_who_made_it(
        app, world, admin, other_admin):
    target = world.users["receiving_receiver"]
    with app.app_context():
        accounts.remove_membership(accounts.find_user(target.email).all_memberships[0])
    assert admin.post(f"/admin/users/{target.id}/roles", data={"admin": "y"}).status_code == 302
    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "The administrator role takes effect once another administrator confirms it" in page
    assert 'name="admin" type="checkbox" value="y" checked' in page or 'checked' in page
    other_admin.post(f"/admin/users/{target.id}/roles", data={"admin": "y"})
    with app.app_context():
        waiting = db.session.get(User, target.id)
        assert waiting.admin_awaiting_confirmation and not waiting.is_admin
        assert waiting.admin_requested_by_id == world.users["admin"].id
    # Unticked, the request is withdrawn.
    admin.post(f"/admin/users/{target.id}/roles", data={})
    with app.app_context():
        assert not db.session.get(User, target.id).admin_awaiting_confirmation


def test_the_operator_gives_the_role_at_once(app, world, admin, runner):
    create_on_admin_pages(admin, "new.admin@example.test", "Uusi Ylläpitäjä", admin="y")
    listed = run_command(runner, "users", "list")
    assert "admin awaiting confirmation" in listed.output
    result = run_command(runner, "users", "set-roles", "new.admin@example.test", "--admin")
    assert result.exit_code == 0, result.output
    with app.app_context():
        given = accounts.find_user("new.admin@example.test")
        assert given.is_admin and not given.admin_awaiting_confirmation
    made = run_command(runner, "users", "create", "--email", "cli.admin@example.test",
                       "--name", "Komento Rivi", "--admin")
    assert made.exit_code == 0, made.output
    with app.app_context():
        assert accounts.find_user("cli.admin@example.test").is_admin


def test_check_warns_of_a_role_awaiting_for_over_a_week(app, world, admin):
    create_on_admin_pages(admin, "new.admin@example.test", "Uusi Ylläpitäjä", admin="y")
    assert list(check_data.pending_membership_problems(app)) == []
    with app.app_context():
        waiting = accounts.find_user("new.admin@example.test")
        waiting.admin_requested_at = utcnow() - timedelta(days=8)
        db.session.commit()
    [finding] = list(check_data.pending_membership_problems(app))
    assert "new.admin@example.test's administrator role" in str(finding)
    assert "handover users set-roles new.admin@example.test --admin" in str(finding)
