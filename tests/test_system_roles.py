"""Administration and content access never meet in one account: an administrator or auditor
cannot be made a member of a unit — not by the service, not on the admin pages (not even by
adding himself), not by a unit lead, not from the command line — and a member is not made an
administrator or auditor while still holding memberships. The refusal says why."""

import lifecycle_support
import pytest
from lifecycle_support import install_plugin, login_as, send_handover

from handover.cli import cli
from handover.services import accounts, policy
from handover.store.database import db
from handover.store.models import AuditEvent, Membership, User
from tests.support import create_unit, create_user, login

REFUSAL = "Administrators and auditors cannot be members of a unit"


world = lifecycle_support.world


@pytest.fixture
def app_config(app_config, instance_path):
    """The lifecycle test form installed; the CLI answers in English."""
    install_plugin(instance_path)
    return {**app_config, "CLI_LANGUAGE": "en"}


def _english(user):
    """Staff here read English messages (the default is Finnish)."""
    user.language = "en"
    db.session.commit()
    return user


def _memberships(app, email):
    with app.app_context():
        user = accounts.find_user(email)
        return db.session.query(Membership).filter_by(user_id=user.id).count()


@pytest.mark.parametrize("flag", ["admin", "auditor"])
def test_service_refuses_membership_for_admin_and_auditor(app, flag):
    with app.app_context():
        unit = create_unit("Majakka")
        user = create_user(f"{flag}@example.fi", **{flag: True})
        with pytest.raises(accounts.AccountError, match=REFUSAL):
            accounts.add_membership(user, unit, "receiver")
        with pytest.raises(accounts.AccountError, match=REFUSAL):
            accounts.create_user("new@example.fi", "New", **{flag: True},
                                 memberships=[(unit, "sender")])
        assert db.session.query(Membership).count() == 0
        assert accounts.find_user("new@example.fi") is None


def test_admin_cannot_add_himself_to_a_unit(app, client):
    with app.app_context():
        unit = create_unit("Majakka")
        admin = create_user("admin@example.fi", admin=True)
        login(client, _english(admin))
        admin_id, unit_id = admin.id, unit.id
    response = client.post(f"/admin/users/{admin_id}/memberships",
                           data={"unit": unit_id, "role": "receiver"})
    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)
    assert _memberships(app, "admin@example.fi") == 0


def test_admin_cannot_add_an_auditor_to_a_unit(app, client):
    with app.app_context():
        unit = create_unit("Majakka")
        login(client, _english(create_user("admin@example.fi", admin=True)))
        auditor_id, unit_id = create_user("auditor@example.fi", auditor=True).id, unit.id
    response = client.post(f"/admin/users/{auditor_id}/memberships",
                           data={"unit": unit_id, "role": "lead"})
    assert response.status_code == 400 and REFUSAL in response.get_data(as_text=True)
    assert _memberships(app, "auditor@example.fi") == 0


@pytest.mark.parametrize("flag", ["admin", "auditor"])
def test_unit_lead_cannot_add_an_admin_or_auditor(app, client, flag):
    with app.app_context():
        unit = create_unit("Majakka")
        login(client, _english(create_user("lead@example.fi", memberships=[(unit, "lead")])))
        create_user("system@example.fi", **{flag: True})
        unit_id = unit.id
    response = client.post(f"/lead/units/{unit_id}/members",
                           data={"email": "system@example.fi", "role": "receiver"})
    assert response.status_code == 400 and REFUSAL in response.get_data(as_text=True)
    assert _memberships(app, "system@example.fi") == 0


def test_refusal_is_in_the_users_language(app, client):
    with app.app_context():
        unit = create_unit("Majakka")
        lead = create_user("lead@example.fi", memberships=[(unit, "lead")])
        lead.language = "fi"
        db.session.commit()
        login(client, lead)
        create_user("admin@example.fi", admin=True)
        unit_id = unit.id
    page = client.post(f"/lead/units/{unit_id}/members",
                       data={"email": "admin@example.fi", "role": "receiver"}
                       ).get_data(as_text=True)
    assert "Pääkäyttäjät ja lokien tarkastajat eivät voi olla yksikön jäseniä" in page


@pytest.mark.parametrize("flag", ["--admin", "--auditor"])
def test_cli_refuses_a_system_user_with_units(app, runner, flag):
    with app.app_context():
        create_unit("Majakka")
    result = runner.invoke(cli, args=[
        "users", "create", "--email", "x@example.fi", "--name", "X", flag,
        "--unit", "Majakka", "--role", "sender"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert REFUSAL in result.output
    with app.app_context():
        assert accounts.find_user("x@example.fi") is None


def test_member_is_not_made_admin_while_holding_memberships(app, runner):
    """The admin removes the memberships first (and so sees what the person loses); the roles
    are then given, and the change is audited."""
    with app.app_context():
        unit = create_unit("Majakka")
        create_user("anna@example.fi", memberships=[(unit, "sender")])
    result = runner.invoke(cli, args=["users", "set-roles", "anna@example.fi", "--admin"])
    assert result.exit_code != 0 and "Remove the person's unit memberships first" in result.output
    with app.app_context():
        anna = accounts.find_user("anna@example.fi")
        assert not anna.is_admin and len(anna.memberships) == 1
        accounts.remove_membership(anna.memberships[0])
    result = runner.invoke(cli, args=["users", "set-roles", "anna@example.fi", "--admin"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        anna = accounts.find_user("anna@example.fi")
        assert anna.is_admin and not anna.memberships
        assert db.session.query(AuditEvent).filter_by(
            action="admin.user_roles_changed").count() == 1


def test_membership_left_from_before_the_rule_gives_an_admin_no_content(app, client, world):
    """Defence in depth: an admin who somehow still has a membership reads nothing."""
    with app.app_context():
        hid = send_handover(world)
        db.session.add(Membership(user_id=world.users["admin"].id,
                                  unit_id=world.units["receiving"].id, role="receiver"))
        db.session.commit()
        admin = db.session.get(User, world.users["admin"].id)
        with pytest.raises(policy.NotFound):
            policy.require(admin, hid, "view")
    login_as(client, app, world.users["admin"])
    assert client.get(f"/handovers/{hid}").status_code == 404


def test_admin_page_refuses_to_make_a_member_an_admin_until_memberships_are_removed(app, client):
    with app.app_context():
        unit = create_unit("Majakka")
        login(client, _english(create_user("admin@example.fi", admin=True)))
        anna = create_user("anna@example.fi", memberships=[(unit, "sender")])
        anna_id, membership_id = anna.id, anna.memberships[0].id
    response = client.post(f"/admin/users/{anna_id}/roles", data={"auditor": "y"})
    assert response.status_code == 400
    assert "unit memberships first" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(User, anna_id).is_auditor
    client.post(f"/admin/users/{anna_id}/memberships/{membership_id}/remove")
    response = client.post(f"/admin/users/{anna_id}/roles", data={"auditor": "y"})
    assert response.status_code == 302
    with app.app_context():
        anna = db.session.get(User, anna_id)
        assert anna.is_auditor and not anna.memberships
    page = client.get(f"/admin/users/{anna_id}").get_data(as_text=True)
    assert f"/admin/users/{anna_id}/memberships\"" not in page  # no form to add one


def test_admin_cannot_remove_his_own_admin_role(app, client):
    with app.app_context():
        admin = _english(create_user("admin@example.fi", admin=True))
        login(client, admin)
        admin_id = admin.id
    response = client.post(f"/admin/users/{admin_id}/roles", data={})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, admin_id).is_admin
