"""Return to sender: a receiver that is not the right unit sends the handover back; it leaves
their inbox and their access, the sender is told why and routes it to another unit (routing
checked again) or withdraws it."""

import lifecycle_support
import pytest
from lifecycle_support import CHILD_NAME, access_for, handover, login_as, send_handover
from support import create_unit, create_user

from handover.services import LifecycleError, policy, returning, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent, Delivery, HandoverReturn

app_config = lifecycle_support.app_config
world = lifecycle_support.world


@pytest.fixture
def second_ward(app, world):
    """Another ward the routing allows, and its nurse."""
    with app.app_context():
        unit = create_unit("Second ward", kind="psychiatric_ward", email="")
        nurse = create_user("second.nurse@example.test", memberships=[(unit, "receiver")])
        db.session.refresh(unit)
        db.session.refresh(nurse)
        db.session.expunge(unit)
        db.session.expunge(nurse)
    return unit, nurse


def test_return_and_reroute_the_first_receiver_loses_access(app, client, world, second_ward):
    unit, nurse = second_ward
    with app.app_context():
        hid = send_handover(world)
    first = login_as(client, app, world.users["receiving_receiver"])
    assert CHILD_NAME in first.get("/handovers/inbox").get_data(as_text=True)
    page = first.get(f"/handovers/{hid}").get_data(as_text=True)
    assert f'href="/handovers/{hid}/return"' in page
    assert "Why do you return it?" in first.get(f"/handovers/{hid}/return").get_data(
        as_text=True)
    response = first.post(f"/handovers/{hid}/return",
                          data={"reason": "wrong_unit", "text": "Lapsi tulee osastolle 5"},
                          follow_redirects=True)
    assert "returned to its sender" in response.get_data(as_text=True)
    assert CHILD_NAME not in first.get("/handovers/inbox").get_data(as_text=True)
    assert first.get(f"/handovers/{hid}").status_code == 404

    sender = app.test_client()
    login_as(sender, app, world.users["sending_sender"])
    page = sender.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Returned by Receiving unit" in page and "Wrong unit" in page
    assert "Lapsi tulee osastolle 5" in page
    # On the first screen, with the way on: before the form, not after the whole of it.
    returned = page.index("Returned by Receiving unit")
    assert returned < page.index(f'href="/handovers/{hid}/reroute"') < page.index(
        'class="content-section"') < page.index('id="details-title"')
    assert f'href="/handovers/{hid}/reroute"' in page
    assert "Second ward" in sender.get(f"/handovers/{hid}/reroute").get_data(as_text=True)
    response = sender.post(f"/handovers/{hid}/reroute", data={"receiver": str(unit.id)},
                           follow_redirects=True)
    assert "The handover was sent to Second ward" in response.get_data(as_text=True)

    second = app.test_client()
    login_as(second, app, nurse)
    page = second.get(f"/handovers/{hid}").get_data(as_text=True)
    assert CHILD_NAME in page
    assert "Lapsi tulee osastolle 5" not in page  # what the first receiver wrote stays theirs
    assert first.get(f"/handovers/{hid}").status_code == 404
    with app.app_context():
        row = handover(hid)
        assert row.receiver_unit_id == unit.id and row.status == "opened"
        record = db.session.query(HandoverReturn).one()
        assert (record.outcome, record.rerouted_to_unit_id) == ("rerouted", unit.id)
        actions = {e.action for e in db.session.query(AuditEvent).filter_by(handover_id=hid)}
        assert {"handover.returned", "handover.rerouted"} <= actions
        notices = db.session.query(Delivery).filter_by(handover_id=hid, event="returned").all()
        assert {n.recipient for n in notices} == {"sending.sender@example.test",
                                                  "sending.lead@example.test"}


def test_reroute_checks_the_routing_again(app, world):
    with app.app_context():
        hid = send_handover(world)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"),
                            world.user("receiving_receiver"), "child_not_coming")
        granted = access_for(world, "sending_sender", hid, "reroute")
        offered = {u.id for u in returning.reroute_choices(granted)}
        assert world.unit("other").id in offered
        assert world.unit("receiving").id not in offered  # it returned it
        for refused in (world.unit("copy"), world.unit("receiving"), world.unit("sending")):
            with pytest.raises(LifecycleError):
                returning.reroute(granted, world.user("sending_sender"), refused)
        assert handover(hid).status == "returned"


def test_sender_may_withdraw_a_returned_handover(app, world):
    with app.app_context():
        hid = send_handover(world)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"),
                            world.user("receiving_receiver"), "other", "Ei meidän asiakas")
        withdrawal.withdraw(access_for(world, "sending_sender", hid, "withdraw"),
                            world.user("sending_sender"))
        assert handover(hid).status == "withdrawn"
        assert db.session.query(HandoverReturn).one().outcome == "withdrawn"


def test_return_needs_a_reason_and_only_the_receiver_returns(app, world):
    with app.app_context():
        hid = send_handover(world)
        granted = access_for(world, "receiving_receiver", hid, "return")
        with pytest.raises(LifecycleError):
            returning.give_back(granted, world.user("receiving_receiver"), "bogus")
        with pytest.raises(LifecycleError):
            returning.give_back(granted, world.user("receiving_receiver"), "other", " ")
        for reader in ("sending_sender", "copy_receiver"):   # they read it; told why not
            with pytest.raises(policy.WrongState):
                access_for(world, reader, hid, "return")
        for outsider in ("other_receiver", "admin"):
            with pytest.raises(policy.NotFound):
                access_for(world, outsider, hid, "return")
        assert handover(hid).status == "sent"


def test_returned_handover_actions(app, world):
    with app.app_context():
        hid = send_handover(world)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"),
                            world.user("receiving_receiver"), "wrong_unit")
        row = handover(hid)
        assert set(policy.evaluate(world.user("sending_sender"), row).actions) == {
            "view", "print", "download", "reroute", "withdraw"}
        assert not policy.evaluate(world.user("receiving_receiver"), row).actions
        assert not policy.evaluate(world.user("receiving_lead"), row).actions
        assert row.erase_after is not None


def test_a_return_left_incomplete_shows_its_page_again_with_what_was_typed(app, client, world):
    """The return page keeps the explanation when the reason is missing, or when "other"
    comes without an explanation; nothing is returned until it is complete."""
    with app.app_context():
        hid = send_handover(world)
    nurse = login_as(client, app, world.users["receiving_receiver"])
    response = nurse.post(f"/handovers/{hid}/return", data={"text": "Osasto 5 on oikea"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Choose why you return the handover." in page
    assert "Osasto 5 on oikea" in page and "<title>Error:" in page
    response = nurse.post(f"/handovers/{hid}/return", data={"reason": "other", "text": " "})
    assert response.status_code == 200 and 'class="error-summary"' in response.get_data(
        as_text=True)
    with app.app_context():
        assert handover(hid).status == "sent"
        assert not db.session.query(HandoverReturn).count()


def test_the_return_and_reroute_pages_refuse_everyone_else(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    for name in ("sending_sender", "copy_receiver"):   # they read it: back to it, told why
        login_as(client, app, world.users[name])
        assert client.get(f"/handovers/{hid}/return").status_code == 303, name
    for name in ("other_receiver", "admin"):
        login_as(client, app, world.users[name])
        assert client.get(f"/handovers/{hid}/return").status_code == 404, name
    login_as(client, app, world.users["receiving_receiver"])
    refused = client.get(f"/handovers/{hid}/reroute", follow_redirects=True)
    assert "The sending unit does this, not your unit." in refused.text
