"""An auditor's archiving system exports the audit log with its chain hashes, page by page,
and can verify the chain itself; no other client reaches it."""

import base64
import hmac
from types import SimpleNamespace

import api_support
import lifecycle_support
from api_support import bearer, make_token
from lifecycle_support import login_as, send_handover
from support import create_user

from handover.security import crypto, keys
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api


def _auditor_token(app, world):
    with app.app_context():
        return make_token(world, None, {"audit:read"}, name="archive")


def _recomputed(event, key):
    """As docs/api.md says: keyed with the instance's audit chain key, which the archive gets
    only from whoever holds the instance's keys (without it, it checks the links)."""
    fields = [event["occurred_at"], str(event["actor_id"] or ""), event["actor_label"],
              str(event["unit_id"] or ""), event["action"], str(event["handover_id"] or ""),
              event["outcome"], event["client_address"], event["detail"],
              event["previous_hash"]]
    digest = hmac.digest(key, "\x1f".join(fields).encode("utf-8"), "sha256")
    return "h2:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def test_archive_pages_through_the_log_and_verifies_the_chain(app, client, world, api):
    with app.app_context():
        send_handover(world)
        total = db.session.query(AuditEvent).count()
    token = _auditor_token(app, world)
    fetched, after = [], 0
    while True:
        page = client.get("/api/v1/audit/events", query_string={"after_id": after, "limit": 3},
                          headers=bearer(token))
        assert page.status_code == 200, page.json
        fetched += page.json["events"]
        after = page.json["next_after_id"]
        if after is None:
            break
    # Everything up to the first export's own event (each page's export is audited too).
    assert len(fetched) >= total
    with app.app_context():
        key = keys.current_audit_chain_key()
    previous = audit.GENESIS
    for event in fetched:
        assert event["previous_hash"] == previous
        assert _recomputed(event, key) == event["row_hash"]
        previous = event["row_hash"]
    with app.app_context():
        stored = db.session.get(AuditEvent, fetched[-1]["id"])
        assert audit.event_hash(SimpleNamespace(**{
            c: getattr(stored, c) for c in ("occurred_at", "actor_id", "actor_label",
                                            "unit_id", "action", "handover_id", "outcome",
                                            "client_address", "detail", "previous_hash")
        })) == fetched[-1]["row_hash"]
        exports = db.session.query(AuditEvent).filter_by(action="audit.exported").all()
        assert exports and all(e.actor_label == "api:archive" for e in exports)


def test_filters_by_action_unit_and_child(app, client, world, api):
    with app.app_context():
        handover_id = send_handover(world)
        child_hash = crypto.identity_hash(lifecycle_support.CHILD_CODE)
    token = _auditor_token(app, world)
    sent = client.get("/api/v1/audit/events", query_string={"action": "handover.sent"},
                      headers=bearer(token)).json["events"]
    assert [e["handover_id"] for e in sent] == [handover_id]
    by_unit = client.get("/api/v1/audit/events",
                         query_string={"unit_id": world.units["sending"].id},
                         headers=bearer(token)).json["events"]
    assert by_unit and {e["unit_id"] for e in by_unit} == {world.units["sending"].id}
    by_child = client.get("/api/v1/audit/events", query_string={"child_hash": child_hash},
                          headers=bearer(token)).json["events"]
    assert by_child and {e["handover_id"] for e in by_child} == {handover_id}
    nobody = client.get("/api/v1/audit/events", query_string={"child_hash": "0" * 64},
                        headers=bearer(token)).json["events"]
    assert nobody == []


def test_only_the_audit_scope_exports(app, client, world, api):
    response = client.get("/api/v1/audit/events", headers=bearer(api["receiving"]))
    assert response.status_code == 403


def test_a_unit_filter_exports_the_searches_of_someone_of_several_units(app, client, world,
                                                                        api):
    """A search by identity code by someone in two units names neither unit alone (it looked
    through both); the export by unit finds it under each, as the log's page does."""
    with app.app_context():
        user = create_user("two.units@example.test", name="Two Units", memberships=[
            (world.unit("sending"), "sender"), (world.unit("copy"), "receiver")])
        db.session.refresh(user)
        db.session.expunge(user)
    searcher = app.test_client()
    login_as(searcher, app, user)
    searcher.post("/handovers/find", data={"identity_code": "020594X903P"})
    token = _auditor_token(app, world)
    for unit, finds in (("sending", True), ("copy", True), ("receiving", False)):
        events = client.get("/api/v1/audit/events", headers=bearer(token), query_string={
            "unit_id": world.units[unit].id, "action": "handover.searched"}).json["events"]
        assert [e["actor_id"] for e in events] == ([user.id] if finds else []), unit
