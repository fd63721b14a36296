"""The audit log pages: auditors only, filters, and the per-child report found through the
keyed identity-code hash (the code is posted and never stored or logged)."""

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    access_for,
    login_as,
    send_handover,
)
from sqlalchemy import select

from handover.services import reading
from handover.store.database import db
from handover.store.models import AuditEvent

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


OTHER_CHILD = "020594X903P"


@pytest.mark.parametrize("user_name", ["admin", "receiving_lead", "sending_sender"])
def test_only_auditors_see_the_audit_log(app, world, user_name):
    client = app.test_client()
    login_as(client, app, world.users[user_name])
    assert client.get("/audit/").status_code == 404
    assert client.post("/audit/child-report",
                       data={"identity_code": CHILD_CODE}).status_code == 404


def test_auditor_filters_by_action_handover_unit_and_user(app, client, world):
    with app.app_context():
        first = send_handover(world)
        second = send_handover(world)
        reading.record_view(access_for(world, "receiving_receiver", first),
                            world.user("receiving_receiver"))
    login_as(client, app, world.users["auditor"])
    page = client.get("/audit/?action=handover.opened").get_data(as_text=True)
    assert "receiving.receiver@example.test" in page and "<td>handover.sent</td>" not in page
    page = client.get(f"/audit/?handover={second}").get_data(as_text=True)
    assert "<td>handover.sent</td>" in page and "<td>handover.opened</td>" not in page
    page = client.get("/audit/?user=receiving.receiver").get_data(as_text=True)
    assert "<td>sending.sender@example.test</td>" not in page
    page = client.get(f"/audit/?unit={world.units['receiving'].id}").get_data(as_text=True)
    assert "<td>handover.opened</td>" in page and "<td>handover.draft_created</td>" not in page
    page = client.get("/audit/?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "No events match" in page


def test_child_report_lists_every_event_on_that_childs_handovers_only(app, client, world):
    with app.app_context():
        mine = send_handover(world)
        other = send_handover(world, child_identity_code=OTHER_CHILD)
        reading.record_view(access_for(world, "receiving_receiver", mine),
                            world.user("receiving_receiver"))
    login_as(client, app, world.users["auditor"])
    response = client.post("/audit/child-report", data={"identity_code": CHILD_CODE.lower()})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"#{mine}:" in page and f"#{other}:" not in page
    for action in ("handover.draft_created", "handover.sent", "handover.opened",
                   "handover.viewed"):
        assert f"<td>{action}</td>" in page
    assert "receiving.receiver@example.test" in page
    with app.app_context():
        report = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "audit.child_report")).scalar_one()
        assert CHILD_CODE not in report.detail and report.actor_label == "auditor@example.test"


def test_child_report_with_an_invalid_code_explains(app, client, world):
    login_as(client, app, world.users["auditor"])
    response = client.post("/audit/child-report", data={"identity_code": "010594Y9033"})
    assert response.status_code == 400
    assert "Check the personal identity code" in response.get_data(as_text=True)


def test_action_filter_offers_each_recorded_action_once(app, client, world):
    import re

    with app.app_context():
        send_handover(world)
        send_handover(world)
        recorded = sorted(set(db.session.execute(select(AuditEvent.action)).scalars()))
    login_as(client, app, world.users["auditor"])
    page = client.get("/audit/").get_data(as_text=True)
    menu = page.split('name="action"')[1].split("</select>")[0]
    offered = re.findall(r'<option[^>]*value="([^"]+)"', menu)
    assert sorted(offered) == recorded and len(offered) == len(recorded) >= 3
