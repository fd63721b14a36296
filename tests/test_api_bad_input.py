"""Bad input to the JSON API is the client's mistake: 422 with the path of the field at fault,
never a server error from deeper down. A client (or an attacker probing it) sends an id larger
than the database holds, a time without its offset, a FHIR version that only looks like a
number, or a reply of nothing but spaces."""

import api_support
import lifecycle_support
import pytest
from api_support import bearer, make_token
from lifecycle_support import FORM_KEY, content, handover, send_handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

#: Every id column is an INTEGER (32 bits, signed); SQLite's own integers end at 2**63 - 1.
LARGEST_ID = 2**31 - 1
TOO_LARGE_FOR_THE_DATABASE = [LARGEST_ID + 1, 2**63, 2**70]


@pytest.fixture
def headers(app, world, api):
    """Bearer headers of the sending and receiving systems and of an auditor's archive, with
    server errors answered as a real server would (500) instead of raised into the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        auditor = make_token(world, None, {"audit:read"}, name="archive")
    return {"sending": bearer(api["sending"]), "receiving": bearer(api["receiving"]),
            "audit": bearer(auditor)}


def _draft(world, **overrides):
    return {"form_key": FORM_KEY, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "lsl_disclosure", "content": content(),
            **overrides}


def _questionnaire_response(reference):
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": reference,
            "item": [{"linkId": "child_name", "answer": [{"valueString": "x"}]}]}


def _refused_at(answer, path):
    assert answer.status_code == 422, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert path in [error["path"] for error in answer.json["errors"]], answer.json
    return next(error["message"] for error in answer.json["errors"] if error["path"] == path)


@pytest.mark.parametrize("unit_id", TOO_LARGE_FOR_THE_DATABASE)
@pytest.mark.parametrize("field, value_of, path", [
    ("receiver_unit_id", lambda unit_id: unit_id, "receiver_unit_id"),
    ("copy_unit_ids", lambda unit_id: [unit_id], "copy_unit_ids.0"),
])
def test_draft_to_a_unit_id_too_large_for_the_database_is_422(client, world, headers, unit_id,
                                                              field, value_of, path):
    answer = client.post("/api/v1/drafts", json=_draft(world, **{field: value_of(unit_id)}),
                         headers=headers["sending"])
    assert str(LARGEST_ID) in _refused_at(answer, path)


@pytest.mark.parametrize("query, path", [
    ({"receiver_unit_id": 2**70}, "query.receiver_unit_id"),
    ({"copy_unit_ids": 2**70}, "query.copy_unit_ids.0"),
])
def test_fhir_import_to_a_unit_id_too_large_for_the_database_is_422(client, world, headers,
                                                                    query, path):
    routing = {"receiver_unit_id": world.units["receiving"].id, "legal_basis": "lsl_disclosure"}
    answer = client.post("/api/v1/fhir/QuestionnaireResponse",
                         json=_questionnaire_response(f"urn:handover:questionnaire:{FORM_KEY}|1"),
                         query_string={**routing, **query}, headers=headers["sending"])
    _refused_at(answer, path)


@pytest.mark.parametrize("name", ["after_id", "unit_id"])
@pytest.mark.parametrize("value", TOO_LARGE_FOR_THE_DATABASE)
def test_audit_export_by_an_id_too_large_for_the_database_is_422(client, headers, name, value):
    answer = client.get("/api/v1/audit/events", query_string={name: value},
                        headers=headers["audit"])
    assert str(LARGEST_ID) in _refused_at(answer, f"query.{name}")


def test_audit_export_from_the_largest_id_is_an_empty_page(client, headers):
    answer = client.get("/api/v1/audit/events", query_string={"after_id": LARGEST_ID},
                        headers=headers["audit"])
    assert answer.status_code == 200, answer.json
    assert answer.json["events"] == []


TIME_FILTERS = [("/api/v1/inbox", "sent_from", "receiving"),
                ("/api/v1/inbox", "sent_until", "receiving"),
                ("/api/v1/audit/events", "since", "audit"),
                ("/api/v1/audit/events", "until", "audit")]


@pytest.mark.parametrize("path, name, who", TIME_FILTERS)
def test_time_filter_without_an_offset_is_422_asking_for_one(client, headers, path, name, who):
    answer = client.get(path, query_string={name: "2026-01-01T00:00:00"}, headers=headers[who])
    assert "offset" in _refused_at(answer, f"query.{name}")


@pytest.mark.parametrize("moment", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+02:00"])
@pytest.mark.parametrize("path, name, who", TIME_FILTERS)
def test_time_filter_with_an_offset_is_taken(client, headers, path, name, who, moment):
    answer = client.get(path, query_string={name: moment}, headers=headers[who])
    assert answer.status_code == 200, answer.json


@pytest.mark.parametrize("version", ["\u00b2", "\u0663", "1\u00b9", "one", "-1"])
def test_fhir_import_with_a_version_that_is_not_a_number_is_422(client, world, headers,
                                                                 version):
    """``"²".isdigit()`` is true but ``int("²")`` fails; Arabic-Indic "٣" passes both, and is
    no more a version of ours than "one"."""
    routing = {"receiver_unit_id": world.units["receiving"].id, "legal_basis": "lsl_disclosure"}
    answer = client.post(
        "/api/v1/fhir/QuestionnaireResponse", headers=headers["sending"], query_string=routing,
        json=_questionnaire_response(f"urn:handover:questionnaire:{FORM_KEY}|{version}"))
    _refused_at(answer, "questionnaire")


@pytest.mark.parametrize("message", ["", "   ", "\n\t "])
def test_reply_of_only_whitespace_is_422_at_the_message_and_stores_nothing(app, client, world,
                                                                           headers, message):
    with app.app_context():
        handover_id = send_handover(world)
    answer = client.post(f"/api/v1/handovers/{handover_id}/replies", json={"message": message},
                         headers=headers["receiving"])
    assert _refused_at(answer, "message") == "Write a message."
    assert len(answer.json["errors"]) == 1
    with app.app_context():
        assert handover(handover_id).replies == []
