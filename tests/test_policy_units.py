"""Who may start a handover, and whose handovers the lists show, is the policy's answer
(`policy.sending_units`, `policy.may_start`, `policy.inbox_unit_ids` and the like), not the
views' or the lists' own reading of the memberships.

Administrators and auditors may no longer get memberships, but an account can still hold one
from before the rule. Through it they start nothing and see nothing: no list row, no draft, no
button, and every handover URL answers 404 as if the handover did not exist. `handover check`
names such accounts and says how to clear them.
"""

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, CHILD_NAME, FORM_KEY, content, login_as, send_handover

from handover.cli import cli
from handover.services import LifecycleError, drafts, listing, policy, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, Membership, User

world = lifecycle_support.world
app_config = lifecycle_support.app_config

NEW_HANDOVER_BUTTON = 'class="govuk-button" href="/handovers/new"'


def _stale_memberships(world, name):
    """Memberships written straight into the database, as data from before the rule left them:
    the services refuse to create them for an administrator or auditor."""
    user_id = world.users[name].id
    for unit, role in (("sending", "sender"), ("sending", "lead"), ("receiving", "receiver"),
                       ("receiving", "lead"), ("copy", "receiver")):
        db.session.add(Membership(user_id=user_id, unit_id=world.units[unit].id, role=role))
    db.session.commit()


def _draft(world):
    """A draft of the sending unit, with content (the outbox lists it to its senders)."""
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                         [world.unit("copy")], "lsl_disclosure")
    drafts.save(sender, draft, content())
    return draft.id


@pytest.fixture
def handovers(app, world):
    """A sent handover (sending → receiving, copy to the copy unit) and a draft: {name: id}."""
    with app.app_context():
        return {"sent": send_handover(world), "draft": _draft(world)}


# --- starting a handover --------------------------------------------------------------------


def test_only_a_sender_of_an_active_unit_may_start_from_it(app, world):
    with app.app_context():
        sending, receiving = world.units["sending"].id, world.units["receiving"].id
        sender = world.user("sending_sender")
        assert [unit.id for unit in policy.sending_units(sender)] == [sending]
        assert policy.may_start(sender, sending)
        assert policy.require_start(sender, sending).id == sending
        assert not policy.may_start(sender, receiving)
        for name in ("sending_receiver", "sending_lead", "receiving_sender"):
            assert not policy.may_start(world.user(name), sending), name
        with pytest.raises(policy.NotFound):
            policy.require_start(world.user("sending_lead"), sending)

        world.unit("sending").is_active = False
        db.session.commit()
        sender = world.user("sending_sender")
        assert policy.sending_units(sender) == [] and not policy.may_start(sender, sending)


@pytest.mark.parametrize("name", ["admin", "auditor"])
def test_admin_or_auditor_with_an_old_sender_membership_cannot_start(app, client, world, name):
    with app.app_context():
        _stale_memberships(world, name)
        user = world.user(name)
        sending = world.units["sending"].id
        assert policy.sending_units(user) == [] and not policy.may_start(user, sending)
        with pytest.raises(policy.NotFound):
            policy.require_start(user, sending)
        with pytest.raises(LifecycleError):
            drafts.start(user, world.unit("sending"), FORM_KEY, world.unit("receiving"), [],
                         "lsl_disclosure")
    login_as(client, app, world.users[name])

    assert NEW_HANDOVER_BUTTON not in client.get("/").get_data(as_text=True)
    page = client.get("/handovers/new").get_data(as_text=True)
    assert "None of your units can send handovers" in page
    assert f'value="{sending}:{FORM_KEY}"' not in page
    assert client.post("/handovers/new", data={"choice": f"{sending}:{FORM_KEY}"}
                       ).status_code == 200  # not a valid choice: the page again, no redirect
    start = f"/handovers/new/{sending}/{FORM_KEY}"
    assert client.get(start).status_code == 404
    response = client.post(start, data={"receiver": world.units["receiving"].id,
                                        "legal_basis": "lsl_disclosure"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.query(Handover).count() == 0


def test_a_sender_is_offered_the_button_and_starts(app, client, world):
    """The other side of the refusals above: the sender of an active unit gets through."""
    login_as(client, app, world.users["sending_sender"])
    assert NEW_HANDOVER_BUTTON in client.get("/").get_data(as_text=True)
    assert NEW_HANDOVER_BUTTON in client.get("/handovers/outbox").get_data(as_text=True)
    sending = world.units["sending"].id
    assert f'value="{sending}:{FORM_KEY}"' in client.get("/handovers/new").get_data(as_text=True)
    response = client.post(f"/handovers/new/{sending}/{FORM_KEY}", data={
        "receiver": world.units["receiving"].id, "legal_basis": "lsl_disclosure"})
    assert response.status_code == 302 and "/edit" in response.headers["Location"]


@pytest.mark.parametrize("name", ["sending_receiver", "sending_lead"])
def test_a_member_without_the_sender_role_cannot_start(app, client, world, name):
    login_as(client, app, world.users[name])
    assert NEW_HANDOVER_BUTTON not in client.get("/").get_data(as_text=True)
    assert NEW_HANDOVER_BUTTON not in client.get("/handovers/outbox").get_data(as_text=True)
    assert client.get(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}"
                      ).status_code == 404


def test_correcting_is_refused_once_the_unit_is_closed(app, world):
    """A correction starts a new draft, so it asks the same question as starting one; once
    the unit is closed its members no longer see its handovers at all."""
    with app.app_context():
        hid = send_handover(world)
        access = policy.require(world.user("sending_sender"), hid, "correct")
        world.unit("sending").is_active = False
        db.session.commit()
        with pytest.raises(LifecycleError):
            withdrawal.correct(access, world.user("sending_sender"))
        with pytest.raises(policy.NotFound):
            policy.require(world.user("sending_sender"), hid, "correct")


# --- what the lists show --------------------------------------------------------------------


def _handover_urls(app, handover_id):
    """(method, url) of every page and action of one handover."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("handovers.") or "handover_id" not in rule.arguments:
            continue
        values = {"handover_id": handover_id, "attachment_id": 1, "form_key": FORM_KEY,
                  "section_key": "child"}
        url = rule.build({key: values[key] for key in rule.arguments})[1]
        found.append(("GET" if "GET" in rule.methods else "POST", url))
    return found


@pytest.mark.parametrize("name", ["admin", "auditor"])
def test_admin_or_auditor_with_old_memberships_sees_no_handover(app, client, world, handovers,
                                                                name):
    with app.app_context():
        _stale_memberships(world, name)
        user = world.user(name)
        assert policy.inbox_unit_ids(user) == policy.outbox_unit_ids(user) == []
        assert policy.draft_unit_ids(user) == policy.member_units(user) == []
        assert listing.inbox(user).rows == [] and listing.outbox(user).rows == []
        assert listing.drafts_of(user) == []
        assert listing.find_by_identity_code(user, CHILD_CODE) == []
    login_as(client, app, world.users[name])

    pages = {
        "home": client.get("/"),
        "inbox": client.get("/handovers/inbox"),
        "outbox": client.get("/handovers/outbox"),
        "find": client.post("/handovers/find", data={"identity_code": CHILD_CODE}),
    }
    for page_name, response in pages.items():
        assert response.status_code == 200, page_name
        page = response.get_data(as_text=True)
        for hid in handovers.values():
            assert f"/handovers/{hid}\"" not in page, (page_name, hid)
            assert f"/handovers/{hid}/" not in page, (page_name, hid)
        assert CHILD_NAME not in page, page_name
        assert world.units["receiving"].name not in page, page_name
    assert "Your units" not in pages["home"].get_data(as_text=True)

    for hid in handovers.values():
        for method, url in _handover_urls(app, hid):
            assert client.open(url, method=method).status_code == 404, (method, url)
    with app.app_context():
        assert db.session.get(Handover, handovers["sent"]).status == "sent"  # not opened
        assert db.session.get(Handover, handovers["draft"]).status == "draft"
        assert not db.session.query(AuditEvent).filter(
            AuditEvent.actor_id == world.users[name].id,
            AuditEvent.action.in_(("handover.viewed", "handover.listed",
                                   "handover.draft_viewed"))).count()


def test_members_still_see_what_is_theirs(app, client, world, handovers):
    """The lists above are empty because of who asks, not because nothing is there."""
    login_as(client, app, world.users["receiving_receiver"])
    assert f"/handovers/{handovers['sent']}\"" in client.get("/handovers/inbox").get_data(
        as_text=True)
    found = client.post("/handovers/find", data={"identity_code": CHILD_CODE})
    assert f"/handovers/{handovers['sent']}\"" in found.get_data(as_text=True)
    assert client.get(f"/handovers/{handovers['sent']}").status_code == 200

    login_as(client, app, world.users["sending_sender"])
    outbox = client.get("/handovers/outbox").get_data(as_text=True)
    assert f"/handovers/{handovers['sent']}\"" in outbox
    assert f"/handovers/{handovers['draft']}/tasks" in outbox
    home = client.get("/").get_data(as_text=True)
    assert "Your units" in home and world.units["sending"].name in home


# --- `handover check` -----------------------------------------------------------------------


def _check(app):
    return app.test_cli_runner().invoke(cli, ["check"])


def test_check_names_admins_and_auditors_holding_memberships_and_the_fix(app, world):
    assert "remove-memberships" not in _check(app).output  # members are not reported
    with app.app_context():
        _stale_memberships(world, "admin")
        db.session.add(Membership(user_id=world.users["auditor"].id,
                                  unit_id=world.units["copy"].id, role="receiver"))
        db.session.commit()

    output = _check(app).output
    warnings = [line for line in output.splitlines() if "remove-memberships" in line]
    assert len(warnings) == 2, output
    admin_line, auditor_line = warnings
    assert admin_line.startswith("warning: admin@example.test is an administrator")
    assert "Receiving unit (receiver)" in admin_line and "Sending unit (sender)" in admin_line
    assert "`handover users remove-memberships admin@example.test`" in admin_line
    assert auditor_line.startswith("warning: auditor@example.test is an auditor")
    assert "Copy unit (receiver)" in auditor_line
    assert "sending.sender@example.test" not in output

    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["users", "remove-memberships", "admin@example.test"])
    assert result.exit_code == 0, result.output
    assert "admin@example.test: removed from Receiving unit (receiver)." in result.output
    with app.app_context():
        assert not db.session.get(User, world.users["admin"].id).memberships
        assert db.session.query(AuditEvent).filter_by(
            action="admin.membership_removed").count() == 5
    output = _check(app).output
    assert "admin@example.test" not in output and "auditor@example.test is an auditor" in output


def test_remove_memberships_names_an_unknown_account(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["users", "remove-memberships", "nobody@example.test"])
    assert result.exit_code != 0 and "No user with the e-mail address" in result.output
    result = runner.invoke(cli, ["users", "remove-memberships", "admin@example.test"])
    assert result.exit_code == 0 and "holds no unit memberships" in result.output
