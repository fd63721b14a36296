"""FHIR R4 out of and into Handover: every form (the built-in ones, the example plugin's and
the tests' own) as a Questionnaire, a handover as a Bundle for each kind of reader, a draft from
a QuestionnaireResponse, and a round trip that gives back the same content.

Each resource is validated by fhir.resources and by Handover's value-set checks, and compared
with its golden file in tests/golden/fhir/ (``HANDOVER_UPDATE_GOLDEN=1`` rewrites them after a
deliberate change; review the diff)."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from lifecycle_support import CHILD_CODE, FORM_KEY, send_handover

from handover.cli import demo_handovers
from handover.formdefs import content as content_rules
from handover.plugins import manager as plugin_manager
from handover.services.fhir import importing, valuesets
from handover.services.fhir.bundle import questionnaire_response
from handover.services.fhir.questionnaire import questionnaire, validated
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

GOLDEN = Path(__file__).parent / "golden" / "fhir"
SENT_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
#: The built-in forms and the example plugin's forms (examples/handover-health-check).
BUILT_IN_FORMS = ["psychiatric_ward_preinfo", "daycare_placed_child", "school_transfer",
                  "pre_placement_notice", "placement_update", "placement_health_check",
                  "placement_health_check_results"]
#: Every form's Questionnaire is also compared with its golden file: a change of a form's
#: content shows there as a diff to review (rewrite with HANDOVER_UPDATE_GOLDEN=1).
GOLDEN_FORMS = [*BUILT_IN_FORMS, FORM_KEY]
DEMO_CONTENT = {form_key: make for form_key, *_rest, make in demo_handovers.HANDOVERS}


def matches_golden(name, resource):
    path = GOLDEN / f"{name}.json"
    text = json.dumps(resource, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("HANDOVER_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: write it with HANDOVER_UPDATE_GOLDEN=1 and review it"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), name


def _link_ids(items):
    for item in items:
        yield item["linkId"], item
        yield from _link_ids(item.get("item", []))


@pytest.mark.parametrize("form_key", GOLDEN_FORMS)
def test_each_form_is_a_valid_questionnaire(app, form_key):
    with app.app_context():
        definition = plugin_manager.registry(app).get(form_key)
        resource = questionnaire(definition)
    Questionnaire.model_validate(resource)
    valuesets.check(resource)
    assert resource["title"] == definition.title["fi"]
    languages = {e["extension"][0]["valueCode"] for e in resource["_title"]["extension"]}
    assert languages == {"sv", "en"}
    items = dict(_link_ids(resource["item"]))
    for section in definition.sections:
        assert items[f"section:{section.key}"]["type"] == "group"
        for field in section.fields:
            item = items[field.key]
            assert item["text"] == field.label["fi"]
            assert item.get("required", False) == field.required
            assert bool(item.get("enableWhen")) == bool(field.show_if)
            assert (item.get("extension", [{}])[0].get("valueCoding", {}).get("code") == "R") \
                == field.sensitive
            for sub in field.fields:
                assert f"{field.key}.{sub.key}" in items
    if form_key in GOLDEN_FORMS:
        matches_golden(f"questionnaire-{form_key}", resource)


def test_questionnaire_over_the_api(app, client, world, api):
    response = client.get(f"/api/v1/forms/{FORM_KEY}/questionnaire",
                          headers=bearer(api["receiving"]))
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    items = {item["linkId"]: item for section in response.json["item"]
             for item in section["item"]}
    assert items["child_identity_code"]["extension"][0]["valueCoding"]["code"] == "R"
    assert client.get("/api/v1/forms/nothing/questionnaire",
                      headers=bearer(api["receiving"])).status_code == 404


@pytest.mark.parametrize("reader", ["receiving", "copy"])
def test_handover_bundle_for_each_reader(app, client, world, api, reader):
    with app.app_context():
        handover_id = send_handover(world, now=SENT_AT, location_hidden="yes")
    response = client.get(f"/api/v1/handovers/{handover_id}/fhir", headers=bearer(api[reader]))
    assert response.status_code == 200, response.json
    bundle = response.json
    Bundle.model_validate(bundle)
    valuesets.check(bundle)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("QuestionnaireResponse") == 1 and kinds.count("Task") == 1
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"] == [{"system": "urn:oid:1.2.246.21", "value": CHILD_CODE}]
    text = json.dumps(bundle, ensure_ascii=False)
    assert (lifecycle_support.ADDRESS in text) == (reader == "receiving")   # copies: hidden
    matches_golden(f"bundle-{reader}", bundle)


def test_task_follows_the_handover_to_completed(app, client, world, api):
    with app.app_context():
        handover_id = send_handover(world, now=SENT_AT)
    headers = bearer(api["receiving"])
    client.post(f"/api/v1/handovers/{handover_id}/acknowledge", json={}, headers=headers)
    client.post(f"/api/v1/handovers/{handover_id}/replies", json={"message": "Kiitos"},
                headers=headers)
    bundle = client.get(f"/api/v1/handovers/{handover_id}/fhir", headers=headers).json
    resources = [e["resource"] for e in bundle["entry"]]
    task = next(r for r in resources if r["resourceType"] == "Task")
    assert task["status"] == "completed"
    assert task["businessStatus"]["text"] == "acknowledged"
    assert task["owner"]["reference"] == f"Organization/unit-{world.units['receiving'].id}"
    (communication,) = [r for r in resources if r["resourceType"] == "Communication"]
    assert communication["payload"] == [{"contentString": "Kiitos"}]


def test_task_statuses_are_in_the_value_set():
    from handover.services.fhir.bundle import TASK_STATUS

    assert set(TASK_STATUS.values()) <= valuesets.REQUIRED[("Task", "status")]
    with pytest.raises(valuesets.ValueSetError):
        valuesets.check({"resourceType": "Task", "status": "sent", "intent": "order"})
    with pytest.raises(valuesets.ValueSetError):
        valuesets.check({"resourceType": "Questionnaire", "status": "active",
                         "item": [{"linkId": "x", "type": "yesno"}]})


def _without_empties(definition, content):
    cleaned = content_rules.cleaned(definition, content, None)
    kept = {}
    for key, value in cleaned.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = [{k: v for k, v in row.items() if v not in (None, "", [])} for row in value]
            value = [row for row in value if row]
        if value not in (None, "", []):
            kept[key] = value
    return kept


@pytest.mark.parametrize("form_key", sorted(DEMO_CONTENT))
def test_round_trip_gives_the_same_content(app, form_key):
    """export → import of a realistic filling of each built-in form."""
    with app.app_context():
        definition = plugin_manager.registry(app).get(form_key)
        content = _without_empties(definition, DEMO_CONTENT[form_key]())
        response = validated(QuestionnaireResponse, questionnaire_response(definition, content))
        assert importing.imported(definition, response).content == content


def test_sending_system_posts_a_questionnaire_response_as_a_draft(app, client, world, api):
    with app.app_context():
        handover_id = send_handover(world, now=SENT_AT)
        original = db.session.get(Handover, handover_id)
        assert original is not None
    exported = client.get(f"/api/v1/handovers/{handover_id}/fhir",
                          headers=bearer(api["sending"])).json
    response = next(e["resource"] for e in exported["entry"]
                    if e["resource"]["resourceType"] == "QuestionnaireResponse")
    query = {"receiver_unit_id": world.units["receiving"].id, "legal_basis": "lsl_disclosure"}
    made = client.post("/api/v1/fhir/QuestionnaireResponse", json=response,
                       query_string=query, headers=bearer(api["sending"]))
    assert made.status_code == 201, made.json
    with app.app_context():
        from handover.services import drafts

        draft = db.session.get(Handover, made.json["id"])
        assert drafts.content_of(draft) == lifecycle_support.content()

    broken = {**response, "item": [{"linkId": "child", "item": [
        {"linkId": "child_name", "answer": [{"valueString": ""}]}]}]}
    refused = client.post("/api/v1/fhir/QuestionnaireResponse", json=broken,
                          query_string=query, headers=bearer(api["sending"]))
    assert refused.status_code == 422
    not_ours = client.post("/api/v1/fhir/QuestionnaireResponse",
                           json={**response, "questionnaire": "http://elsewhere/Q|1"},
                           query_string=query, headers=bearer(api["sending"]))
    assert not_ours.status_code == 422
    assert not_ours.json["errors"][0]["path"] == "questionnaire"
