"""An auditor's archive exporting the audit log for one child gets exactly the events that the
child's access report shows: those on the child's handovers, and the searches by the child's
identity code (also those that found nothing, also for a child with no handovers), the
look-ups of the child's earlier handovers and the views of the report, which name the child
only by the keyed hash."""

import lifecycle_support
import pytest
from api_support import bearer, make_token
from lifecycle_support import CHILD_CODE, FORM_KEY, login_as, send_handover

from handover.security import crypto
from handover.services import drafts, earlier_handovers, listing
from handover.services.audit_search import child_report

app_config = lifecycle_support.app_config
world = lifecycle_support.world

#: A child with no handovers at all.
OTHER_CHILD = "020594X903P"


def crypto_hash(app, code):
    with app.app_context():
        return crypto.identity_hash(code)


@pytest.fixture
def archive(app, world):
    """The token of an auditor's archiving system (scope ``audit:read``)."""
    with app.app_context():
        return make_token(world, None, {"audit:read"}, name="archive")


def _export(client, token, child_hash):
    """Every event of the export filtered by ``child_hash``, page by page."""
    events, after = [], 0
    while after is not None:
        page = client.get("/api/v1/audit/events", headers=bearer(token), query_string={
            "child_hash": child_hash, "after_id": after, "limit": 5})
        assert page.status_code == 200, page.json
        events += page.json["events"]
        after = page.json["next_after_id"]
    return events


def _report_ids(app, world, code):
    """The ids of the events the access report for ``code`` shows (its own view not yet)."""
    with app.app_context():
        _handovers, events = child_report(world.user("auditor"), code)
        return {event.id for event in events}


def test_the_export_by_child_has_the_searches_look_ups_and_report_views(app, client, world,
                                                                        archive):
    with app.app_context():
        handover_id = send_handover(world)
        receiver = world.user("receiving_receiver")
        listing.find_by_identity_code(receiver, CHILD_CODE, "en")
        draft = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [], "lsl_disclosure")
        earlier_handovers.look_up(world.user("sending_sender"),
                                  earlier_handovers.hash_of_code(CHILD_CODE), current=draft)
    login_as(client, app, world.users["auditor"])
    assert client.post("/audit/child-report",
                       data={"identity_code": CHILD_CODE}).status_code == 200
    shown = _report_ids(app, world, CHILD_CODE)
    exported = _export(client, archive, crypto_hash(app, CHILD_CODE))
    actions = [event["action"] for event in exported]
    for action in ("handover.sent", "handover.searched", "handover.earlier_looked_up",
                   "handover.earlier_shown", "audit.child_report"):
        assert action in actions, action
    assert {event["handover_id"] for event in exported} >= {handover_id}
    assert CHILD_CODE not in str(exported)
    # Exactly the report's events, and the view of the report just made (it is one too).
    assert {event["id"] for event in exported} == shown | {max(e["id"] for e in exported)}
    assert exported[-1]["action"] == "audit.child_report"


def test_a_search_that_found_nothing_is_in_the_export_of_a_child_without_handovers(
        app, client, world, archive):
    with app.app_context():
        send_handover(world)
        listing.find_by_identity_code(world.user("receiving_receiver"), OTHER_CHILD, "en")
    exported = _export(client, archive, crypto_hash(app, OTHER_CHILD))
    assert [(event["action"], event["handover_id"]) for event in exported] == [
        ("handover.searched", None)]
    assert '"found": 0' in exported[0]["detail"]
    assert _report_ids(app, world, OTHER_CHILD) == {exported[0]["id"]}
    # The other child's export holds none of it.
    mine = _export(client, archive, crypto_hash(app, CHILD_CODE))
    assert exported[0]["id"] not in {event["id"] for event in mine}


def test_a_child_hash_that_is_no_hash_matches_nothing(app, client, world, archive):
    """The filter is a value to compare, never a pattern: "%" does not match every child."""
    with app.app_context():
        send_handover(world)
        listing.find_by_identity_code(world.user("receiving_receiver"), CHILD_CODE, "en")
    assert _export(client, archive, "%" * 64) == []
    assert _export(client, archive, "_" * 64) == []
