"""Input to the JSON API that a reviewer sent to a running demo and that the API mishandled:
text that is not Unicode, times past the calendar's ends, bodies not labelled JSON, FHIR
versions and statuses it ignored, JSON nested past any sense, control characters, fractional
ids, and error paths that named internals. Each is what an integrator (or an attacker) sees:
the status and the error's path and message."""

import json

import api_support
import lifecycle_support
import pytest
from api_support import bearer, draft_body, make_token
from lifecycle_support import FORM_KEY, send_handover

from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

#: A lone surrogate: valid in a JSON string escape, never encodable as UTF-8.
LONE_SURROGATE = "\ud800"
RESPONSE_REFERENCE = f"urn:handover:questionnaire:{FORM_KEY}"


@pytest.fixture
def headers(app, world, api):
    """Bearer headers of the sending and receiving systems and of an auditor's archive, with
    server errors answered as a real server would (500) instead of raised into the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        auditor = make_token(world, None, {"audit:read"}, name="archive")
    return {"sending": bearer(api["sending"]), "receiving": bearer(api["receiving"]),
            "audit": bearer(auditor)}


@pytest.fixture
def sent_id(app, world):
    with app.app_context():
        return send_handover(world)


def _drafts_count(app):
    with app.app_context():
        return db.session.query(Handover).count()


def _refused_at(answer, path, status=422):
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:300])
    paths = [error["path"] for error in answer.json["errors"]]
    assert path in paths, answer.json
    return next(error["message"] for error in answer.json["errors"] if error["path"] == path)


def _response(**overrides):
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": f"{RESPONSE_REFERENCE}|1",
            "item": [{"linkId": "child_name", "answer": [{"valueString": "Testi Lapsi"}]}],
            **overrides}


def _import(client, world, headers, resource, **query):
    routing = {"receiver_unit_id": world.units["receiving"].id, "legal_basis": "lsl_disclosure"}
    return client.post("/api/v1/fhir/QuestionnaireResponse", json=resource,
                       query_string={**routing, **query}, headers=headers["sending"])


# 1. Text that cannot be UTF-8

def test_a_lone_surrogate_in_draft_content_is_422_and_leaves_no_draft(app, client, world,
                                                                    headers):
    before = _drafts_count(app)
    answer = client.post("/api/v1/drafts", json=draft_body(world, child_name=LONE_SURROGATE),
                         headers=headers["sending"])
    assert "UTF-8" in _refused_at(answer, "content.child_name")
    assert _drafts_count(app) == before


def test_a_draft_that_fails_to_save_leaves_no_empty_draft(app, client, world, headers,
                                                          monkeypatch):
    from handover.services import drafts

    def failing_save(*args, **kwargs):
        raise RuntimeError("the store failed")

    before = _drafts_count(app)
    monkeypatch.setattr(drafts, "save", failing_save)
    answer = client.post("/api/v1/drafts", json=draft_body(world), headers=headers["sending"])
    assert answer.status_code == 500
    assert _drafts_count(app) == before


@pytest.mark.parametrize("action, body, path", [
    ("replies", {"message": f"Hei {LONE_SURROGATE}"}, "message"),
    ("acknowledge", {"note": LONE_SURROGATE}, "note"),
])
def test_a_lone_surrogate_in_a_reply_or_note_is_422(client, headers, sent_id, action, body,
                                                   path):
    answer = client.post(f"/api/v1/handovers/{sent_id}/{action}", json=body,
                         headers=headers["receiving"])
    _refused_at(answer, path)


# 2. Times whose UTC value is past the calendar's ends

@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
@pytest.mark.parametrize("url, name, who", [
    ("/api/v1/inbox", "sent_from", "receiving"), ("/api/v1/inbox", "sent_until", "receiving"),
    ("/api/v1/audit/events", "since", "audit"), ("/api/v1/audit/events", "until", "audit"),
])
def test_a_time_out_of_range_in_utc_is_422(client, headers, value, url, name, who):
    answer = client.get(url, query_string={name: value}, headers=headers[who])
    _refused_at(answer, f"query.{name}")


# 3. Bodies not labelled JSON

@pytest.mark.parametrize("content_type, data", [
    ("text/plain", '{"note": "Received, room 12."}'),
    ("application/x-www-form-urlencoded", "note=Received"),
])
def test_a_body_not_labelled_json_is_415(client, headers, sent_id, content_type, data):
    answer = client.post(f"/api/v1/handovers/{sent_id}/acknowledge", data=data,
                         headers={**headers["receiving"], "Content-Type": content_type})
    assert answer.status_code == 415, answer.get_data(as_text=True)[:300]
    assert answer.json["status"] == 415
    assert "application/json" in answer.json["message"]
    # Nothing was acknowledged; no body at all (and no label) still acknowledges.
    acknowledged = client.post(f"/api/v1/handovers/{sent_id}/acknowledge",
                               headers=headers["receiving"])
    assert acknowledged.status_code == 200, acknowledged.json


def test_the_415_is_in_the_requested_language(client, headers, sent_id):
    answer = client.post(f"/api/v1/handovers/{sent_id}/replies", data='{"message": "Hei"}',
                         headers={**headers["receiving"], "Content-Type": "text/plain",
                                  "Accept-Language": "fi"})
    assert answer.status_code == 415
    assert "application/json" in answer.json["message"]
    assert answer.json["message"].startswith("Pyynnön")


# 4. The FHIR Questionnaire's version and the response's status

def test_an_unknown_questionnaire_version_is_422(client, world, headers):
    answer = _import(client, world, headers, _response(questionnaire=f"{RESPONSE_REFERENCE}|99"))
    _refused_at(answer, "questionnaire")


def test_only_completed_and_in_progress_responses_make_drafts(client, world, headers):
    for status in ["bogus", "amended", "entered-in-error", "stopped"]:
        _refused_at(_import(client, world, headers, _response(status=status)), "status")
    for status in ["completed", "in-progress"]:
        assert _import(client, world, headers, _response(status=status)).status_code == 201


# 5. JSON nested past any sense

def test_deeply_nested_json_is_the_documented_400(client, headers):
    body = "[" * 100000 + "]" * 100000
    answer = client.post("/api/v1/drafts", data=body,
                         headers={**headers["sending"], "Content-Type": "application/json"})
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.json["status"] == 400
    assert "JSON" in answer.json["message"]


# 6. Control characters are removed, as from the web forms; tab and line breaks stay

def test_control_characters_are_removed_from_json_text(app, client, world, headers, sent_id):
    answer = client.post(f"/api/v1/handovers/{sent_id}/replies",
                         json={"message": "Hoito\u0000kokous\u001b[31m\tmaanantaina\r\nklo 10"},
                         headers=headers["receiving"])
    assert answer.status_code == 201, answer.json
    thread = client.get(f"/api/v1/handovers/{sent_id}",
                        headers=headers["receiving"]).json["thread"]
    assert thread[-1]["text"] == "Hoitokokous[31m\tmaanantaina\r\nklo 10"


def test_control_characters_never_reach_the_fhir_export(client, world, headers):
    made = client.post("/api/v1/drafts",
                       json=draft_body(world, child_name="Testi\u0000 Lap\u0085si"),
                       headers=headers["sending"])
    assert made.status_code == 201, made.json
    exported = client.get(f"/api/v1/handovers/{made.json['id']}/fhir",
                          headers=headers["sending"]).get_data(as_text=True)
    assert "\\u0000" not in exported and "\\u0085" not in exported
    assert "Testi Lapsi" in exported


# 7. Ids are whole numbers

@pytest.mark.parametrize("field, value, path", [
    ("receiver_unit_id", 5.9, "receiver_unit_id"),
    ("copy_unit_ids", [2.5], "copy_unit_ids.0"),
])
def test_a_fractional_id_in_a_draft_is_422(client, world, headers, field, value, path):
    answer = client.post("/api/v1/drafts", json={**draft_body(world), field: value},
                         headers=headers["sending"])
    _refused_at(answer, path)


# 8. What the document and the error paths say

def test_a_body_that_is_not_an_object_is_refused_at_body(client, headers):
    answer = client.post("/api/v1/drafts", json=[1, 2], headers=headers["sending"])
    assert "_schema" not in [error["path"] for error in answer.json["errors"]]
    _refused_at(answer, "body")


def test_fhir_validator_paths_name_no_internals(client, world, headers):
    answer = _import(client, world, headers, _response(item=[5]))
    assert [error["path"] for error in answer.json["errors"]] == ["item.0"], answer.json


def test_another_resource_type_is_refused_before_its_questionnaire(client, world, headers):
    answer = _import(client, world, headers, {"resourceType": "Patient"})
    assert "QuestionnaireResponse" in _refused_at(answer, "resourceType")
    assert [error["path"] for error in answer.json["errors"]] == ["resourceType"]


def test_a_json_body_over_the_limit_says_the_body_is_too_large(app, client, headers):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    answer = client.post("/api/v1/drafts", data=b"{" + b" " * 2000 + b"}",
                         headers={**headers["sending"], "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert "request body" in answer.json["message"]
    assert "upload" not in answer.json["message"]


def test_the_document_lists_fhir_json_for_the_import_which_reads_it(client, world, headers):
    document = client.get("/api/v1/openapi.json").json
    body = document["paths"]["/api/v1/fhir/QuestionnaireResponse"]["post"]["requestBody"]
    assert "application/fhir+json" in body["content"]
    answer = client.post("/api/v1/fhir/QuestionnaireResponse", data=json.dumps(_response()),
                         query_string={"receiver_unit_id": world.units["receiving"].id,
                                       "legal_basis": "lsl_disclosure"},
                         headers={**headers["sending"], "Content-Type": "application/fhir+json"})
    assert answer.status_code == 201, answer.json


def test_api_without_its_slash_leads_to_the_reference(client):
    answer = client.get("/api")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/api/v1/reference")
    assert client.get(answer.headers["Location"]).status_code == 200
