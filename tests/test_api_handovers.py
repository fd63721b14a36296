"""The JSON API's handover operations, as a receiving and a sending system use them, and as
an attacker with someone else's token, an expired one, or only a browser cookie tries them."""

import api_support
import lifecycle_support
import pytest
from api_support import bearer, expire, make_token
from lifecycle_support import (
    ADDRESS,
    CHILD_NAME,
    FORM_KEY,
    content,
    handover,
    login_as,
    send_handover,
)
from sqlalchemy import select

from handover.store.database import db
from handover.store.models import AuditEvent, Handover

# Fixtures shared by the lifecycle tests, and the API clients' tokens.
app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api


def _sent(app, world, **overrides):
    with app.app_context():
        return send_handover(world, **overrides)


def test_receiving_system_lists_reads_acknowledges_and_replies(app, client, world, api):
    handover_id = _sent(app, world)
    headers = bearer(api["receiving"])

    listed = client.get("/api/v1/inbox", headers=headers)
    assert listed.status_code == 200, listed.json
    assert [item["id"] for item in listed.json["items"]] == [handover_id]
    assert listed.json["items"][0]["summary"] == {"child_name": CHILD_NAME}

    read = client.get(f"/api/v1/handovers/{handover_id}", headers=headers)
    assert read.status_code == 200, read.json
    assert read.json["content"]["child_name"] == CHILD_NAME
    assert read.json["status"] == "opened"   # the receiving unit's first read opens it
    assert "acknowledge" in read.json["actions"]

    acked = client.post(f"/api/v1/handovers/{handover_id}/acknowledge", json={"note": "ok"},
                        headers=headers)
    assert acked.status_code == 200, acked.json
    assert acked.json["status"] == "acknowledged"

    replied = client.post(f"/api/v1/handovers/{handover_id}/replies",
                          json={"message": "Received, welcome."}, headers=headers)
    assert replied.status_code == 201, replied.json
    thread = client.get(f"/api/v1/handovers/{handover_id}", headers=headers).json["thread"]
    assert [entry["text"] for entry in thread] == ["Received, welcome."]

    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(handover_id=handover_id).all()
        by_client = {(e.action, e.actor_label) for e in events}
    label = "api:receiving-forms:read-handover:acknowledge-handover:read-inbox:read-reply:send"
    for action in ("handover.listed", "handover.viewed", "handover.acknowledged",
                   "handover.replied"):
        assert (action, label) in by_client


def test_inbox_filters_by_status_and_date(app, client, world, api):
    handover_id = _sent(app, world)
    headers = bearer(api["receiving"])
    with app.app_context():
        sent_at = handover(handover_id).sent_at
    later = (sent_at.replace(microsecond=0)).isoformat()
    assert client.get("/api/v1/inbox?status=acknowledged", headers=headers).json["items"] == []
    assert len(client.get("/api/v1/inbox?status=sent", headers=headers).json["items"]) == 1
    before = client.get("/api/v1/inbox", query_string={"sent_until": later},
                        headers=headers).json["items"]
    assert before == [] or sent_at.microsecond == 0
    after = client.get("/api/v1/inbox", query_string={"sent_from": later}, headers=headers)
    assert [item["id"] for item in after.json["items"]] == [handover_id]
    bad = client.get("/api/v1/inbox?status=lost&page=0", headers=headers)
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json["errors"]} == {"query.status", "query.page"}


def test_token_of_another_unit_gets_404_like_a_missing_handover(app, client, world, api):
    handover_id = _sent(app, world)
    for path in (f"/api/v1/handovers/{handover_id}", "/api/v1/handovers/999999"):
        response = client.get(path, headers=bearer(api["other"]))
        assert response.status_code == 404
        assert response.json["status"] == 404
    refused = client.post(f"/api/v1/handovers/{handover_id}/acknowledge", json={},
                          headers=bearer(api["other"]))
    assert refused.status_code == 404
    assert client.get("/api/v1/inbox", headers=bearer(api["other"])).json["items"] == []


@pytest.mark.parametrize("too_large", [2**31, 2**63])
def test_an_id_larger_than_the_database_holds_is_not_found(app, client, world, api, too_large):
    """Found by Schemathesis: a URL's integer can exceed what an id column (INTEGER) holds,
    which once answered 500."""
    answer = client.post(f"/api/v1/handovers/{too_large}/replies", json={"message": "0"},
                         headers=bearer(api["receiving"]))
    assert answer.status_code == 404 and answer.json["status"] == 404
    assert client.get(f"/api/v1/handovers/{too_large}",
                      headers=bearer(api["receiving"])).status_code == 404
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(f"/handovers/{too_large}").status_code == 404


def test_copy_unit_gets_the_minimum_and_hidden_location_is_redacted(app, client, world, api):
    handover_id = _sent(app, world, location_hidden="yes")
    read = client.get(f"/api/v1/handovers/{handover_id}", headers=bearer(api["copy"]))
    assert read.status_code == 200
    assert read.json["relation"] == "copy"
    assert "placement_address" not in read.json["content"]
    assert read.json["redacted"] == ["placement_address"]
    assert "health_notes" not in read.json["content"]   # not a section for copies
    assert read.json["thread"] == [] and read.json["copy_units"] == []
    assert ADDRESS not in read.get_data(as_text=True)


def test_expired_revoked_unknown_or_missing_token_gets_401(app, client, world, api):
    with app.app_context():
        expire(api["receiving"])
        from handover.services import integration_clients
        from handover.store.models import IntegrationClient

        other = db.session.query(IntegrationClient).filter_by(
            token_hash=integration_clients.hash_token(api["other"])).one()
        integration_clients.revoke(world.user("admin"), other)
    for headers in (bearer(api["receiving"]), bearer(api["other"]), bearer("hov_nonsense"),
                    {}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/inbox", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["status"] == 401
    with app.app_context():
        refused = db.session.query(AuditEvent).filter_by(action="api.token_refused").count()
    assert refused == 2   # the known tokens; guesses are not logged


def test_missing_scope_gets_403(app, client, world, api):
    handover_id = _sent(app, world)
    with app.app_context():
        list_only = make_token(world, "receiving", {"inbox:read"}, name="lister")
    assert client.get("/api/v1/inbox", headers=bearer(list_only)).status_code == 200
    response = client.get(f"/api/v1/handovers/{handover_id}", headers=bearer(list_only))
    assert response.status_code == 403
    assert response.json["status"] == 403
    sending = client.post(f"/api/v1/handovers/{handover_id}/acknowledge", json={},
                          headers=bearer(api["sending"]))
    assert sending.status_code == 403


def test_the_session_cookie_alone_gets_401(app, client, world):
    with app.app_context():
        receiver = world.user("receiving_receiver")
    login_as(client, app, receiver)
    assert client.get("/handovers/inbox").status_code == 200   # the cookie works for pages
    response = client.get("/api/v1/inbox")
    assert response.status_code == 401


def test_a_token_beside_a_session_cookie_acts_as_its_client_alone(app, client, world, api):
    """The other ward's token sent with the receiving unit's nurse's cookie (one browser, or
    a page's script on an integrator's machine): the request acted as the nurse, in her unit,
    and was logged as her. The token's client does not see the handover."""
    handover_id = _sent(app, world)
    with app.app_context():
        receiver = world.user("receiving_receiver")
    login_as(client, app, receiver)
    other = bearer(api["other"])
    assert client.get(f"/api/v1/handovers/{handover_id}", headers=other).status_code == 404
    replied = client.post(f"/api/v1/handovers/{handover_id}/replies",
                          json={"message": "Kuka tämä on?"}, headers=other)
    assert replied.status_code == 404
    forms = client.get("/api/v1/forms", headers=other)
    assert forms.status_code == 200, "it was a 500: the person has no unit of a client"
    with app.app_context():
        actors = db.session.execute(select(AuditEvent.actor_label).where(
            AuditEvent.handover_id == handover_id,
            AuditEvent.action.in_(("handover.viewed", "handover.opened",
                                   "handover.replied")))).scalars().all()
    assert actors == []


def test_a_token_never_opens_a_web_page(app, client, world, api):
    response = client.get("/handovers/inbox", headers=bearer(api["receiving"]))
    assert response.status_code in (302, 401)
    assert "/login" in response.headers.get("Location", "/login")


def _draft_body(world, **content_overrides):
    return {"form_key": FORM_KEY, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [world.units["copy"].id], "legal_basis": "lsl_disclosure",
            "content": content(**content_overrides)}


def test_sending_system_drafts_and_sends_once_per_idempotency_key(app, client, world, api):
    headers = {**bearer(api["sending"]), "Idempotency-Key": "order-1"}
    made = client.post("/api/v1/drafts", json=_draft_body(world), headers=headers)
    assert made.status_code == 201, made.json
    again = client.post("/api/v1/drafts", json=_draft_body(world), headers=headers)
    assert again.json["id"] == made.json["id"]
    draft_id = made.json["id"]
    send_headers = {**bearer(api["sending"]), "Idempotency-Key": "send-1"}
    sent = client.post(f"/api/v1/handovers/{draft_id}/send", headers=send_headers)
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "sent"
    repeat = client.post(f"/api/v1/handovers/{draft_id}/send", headers=send_headers)
    assert repeat.status_code == 200 and repeat.json["id"] == draft_id
    with app.app_context():
        assert db.session.query(Handover).count() == 1
    # Without the key, a second send is refused: the handover was already sent.
    plain = client.post(f"/api/v1/handovers/{draft_id}/send", headers=bearer(api["sending"]))
    assert plain.status_code == 409
    reused = client.post("/api/v1/drafts", json=_draft_body(world), headers=send_headers)
    assert reused.status_code == 422
    inbox = client.get("/api/v1/inbox", headers=bearer(api["receiving"])).json["items"]
    assert [item["id"] for item in inbox] == [draft_id]


@pytest.mark.parametrize("overrides, expected", [
    ({"child_name": ""}, {"content.child_name": "Enter child's name"}),
    ({"child_identity_code": "010594Y9033"},
     {"content.child_identity_code": "The check character of the identity code is wrong."}),
    ({"non_disclosure": "perhaps"}, {"content.non_disclosure": "Choose one of the options."}),
])
def test_bad_content_lists_every_error_with_the_web_forms_message(app, client, world, api,
                                                                  overrides, expected):
    response = client.post("/api/v1/drafts", json=_draft_body(world, **overrides),
                           headers=bearer(api["sending"]))
    assert response.status_code == 422
    assert {e["path"]: e["message"] for e in response.json["errors"]} == expected
    with app.app_context():
        assert db.session.query(Handover).count() == 0   # nothing half-made


def test_several_errors_and_bad_shapes_are_all_listed(app, client, world, api):
    body = _draft_body(world, child_name="", non_disclosure="perhaps")
    response = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert {e["path"] for e in response.json["errors"]} == {"content.child_name",
                                                           "content.non_disclosure"}
    shapeless = client.post("/api/v1/drafts", json={"receiver_unit_id": "x"},
                            headers=bearer(api["sending"]))
    assert shapeless.status_code == 422
    assert {e["path"] for e in shapeless.json["errors"]} >= {
        "form_key", "receiver_unit_id", "legal_basis", "content"}


def test_routing_is_enforced(app, client, world, api):
    body = {**_draft_body(world), "receiver_unit_id": world.units["copy"].id}
    response = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert response.status_code == 422
    # Each routing problem at its own field (the receiver here; the copy unit, the same
    # social work unit, may not be both).
    assert response.json["errors"][0]["path"] == "receiver_unit_id"
    receiving = client.post("/api/v1/drafts", json=_draft_body(world),
                            headers=bearer(make_token_in(app, world)))
    assert receiving.status_code == 422   # a ward may not send this form
    assert receiving.json["errors"][0]["path"] == "form_key"


def make_token_in(app, world):
    with app.app_context():
        return make_token(world, "receiving", {"handover:send"}, name="ward-sender")


def test_api_errors_are_json_including_routing_404_and_405(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["status"] == 404
    wrong = client.delete("/api/v1/inbox")
    assert wrong.status_code == 405
    assert wrong.json["status"] == 405
    assert "GET" in wrong.headers["Allow"]
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_rate_limit_per_client(app, client, world, api):
    app.config["API_RATE_LIMIT"] = "3/minute"
    statuses = [client.get("/api/v1/inbox", headers=bearer(api["receiving"])).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/inbox", headers=bearer(api["other"])).status_code == 200


def test_reply_form_is_checked_like_the_page_form(app, client, world, api):
    handover_id = _sent(app, world)
    headers = bearer(api["receiving"])
    path = f"/api/v1/handovers/{handover_id}/reply-forms/ward_reply"
    empty = client.post(path, json={"content": {}}, headers=headers)
    assert empty.status_code == 422
    assert empty.json["errors"] == [{"path": "content.primary_nurse",
                                     "message": "Enter primary nurse"}]
    made = client.post(path, json={"content": {"primary_nurse": "Hoitaja Helmi"}},
                       headers=headers)
    assert made.status_code == 201 and made.json["kind"] == "ward_reply"
    unknown = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/nothing",
                          json={"content": {}}, headers=headers)
    assert unknown.status_code == 404
    copy = client.post(path, json={"content": {"primary_nurse": "X"}},
                       headers=bearer(api["copy"]))
    # A copy unit reads the handover but never answers with reply forms: told so, not 404.
    assert copy.status_code == 409
    assert "The receiving unit acknowledges it, answers it" in copy.json["message"]


def test_request_size_limit_as_for_the_web_answers_json(app, client, world, api):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/v1/drafts", data=b"{" + b" " * 2000 + b"}",
                           headers={**bearer(api["sending"]), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["status"] == 413


def test_a_receipt_that_acknowledges_needs_the_acknowledge_scope(app, client, world, api,
                                                                 monkeypatch):
    """A reply form that acknowledges (the receipts) acknowledges through the API only with a
    token that may acknowledge: reply:send alone is no back door."""
    from dataclasses import replace

    from handover.services import replies

    plain = replies.reply_form
    monkeypatch.setattr(replies, "reply_form", lambda handover, key: replace(
        plain(handover, key), acknowledges=True) if plain(handover, key) else None)
    handover_id = _sent(app, world)
    path = f"/api/v1/handovers/{handover_id}/reply-forms/ward_reply"
    body = {"content": {"primary_nurse": "Hoitaja Helmi"}}
    with app.app_context():
        replying_only = make_token(world, "receiving", {"handover:read", "reply:send"})
    refused = client.post(path, json=body, headers=bearer(replying_only))
    assert refused.status_code == 403 and "handover:acknowledge" in refused.json["message"]
    with app.app_context():
        row = handover(handover_id)
        assert row.status == "sent" and not row.replies
    made = client.post(path, json=body, headers=bearer(api["receiving"]))
    assert made.status_code == 201
    with app.app_context():
        row = handover(handover_id)
        assert row.status == "acknowledged" and len(row.replies) == 1
