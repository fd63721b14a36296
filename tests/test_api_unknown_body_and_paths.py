"""What an integrator sees when the request itself is wrong is the API's own answer, the same
wherever it is found: a body that is not JSON gets the API's JSON error in the language asked
for (not the web page's "go back and try again"); an Idempotency-Key is refused at one path,
``Idempotency-Key``, whether it is malformed or reused; and an id in the path that no handover
has is 404, however large, as docs/api.md says."""

from pathlib import Path

import api_support
import lifecycle_support
import pytest
from api_support import OTHER_CHILD, bearer, draft_body
from flask_babel import force_locale
from lifecycle_support import FORM_KEY

from handover.i18n import gettext

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

API_DOC = Path(__file__).parent.parent / "docs" / "api.md"
NOT_JSON = "The request body is not valid JSON: check its syntax and that it is in UTF-8."
WEB_PAGE_TEXT = "The request could not be understood. Go back and try again."


def _in(app, language, text):
    with app.test_request_context(), force_locale(language):
        return gettext(text)


@pytest.mark.parametrize("path, media_type", [
    ("/api/v1/drafts", "application/json"),
    ("/api/v1/handovers/{handover}/acknowledge", "application/json"),
    ("/api/v1/fhir/QuestionnaireResponse", "application/fhir+json"),
])
@pytest.mark.parametrize("body", [b"{bad", b'{"note": "\xff"}'], ids=["syntax", "not-utf-8"])
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_body_that_is_not_json_gets_the_apis_json_error(app, client, world, api, path,
                                                          media_type, body, language):
    with app.app_context():
        handover_id = lifecycle_support.send_handover(world)
    token = api["receiving"] if "acknowledge" in path else api["sending"]
    answer = client.post(path.format(handover=handover_id), data=body,
                         query_string={"receiver_unit_id": world.units["receiving"].id,
                                       "legal_basis": "lsl_disclosure"},
                         headers={**bearer(token), "Content-Type": media_type,
                                  "Accept-Language": language})
    assert answer.status_code == 400
    assert answer.mimetype == "application/json"
    assert answer.json == {"status": 400, "message": _in(app, language, NOT_JSON),
                           "errors": []}
    assert answer.json["message"] != _in(app, language, WEB_PAGE_TEXT)
    if language != "en":
        assert answer.json["message"] != NOT_JSON


def test_a_malformed_and_a_reused_idempotency_key_are_refused_at_the_same_path(
        client, world, api):
    malformed = client.post("/api/v1/drafts", json=draft_body(world),
                            headers={**bearer(api["sending"]), "Idempotency-Key": "k" * 201})
    assert malformed.status_code == 422, malformed.json
    headers = {**bearer(api["sending"]), "Idempotency-Key": "admission-0099"}
    assert client.post("/api/v1/drafts", json=draft_body(world),
                       headers=headers).status_code == 201
    reused = client.post("/api/v1/drafts", json=draft_body(world, **OTHER_CHILD),
                         headers=headers)
    assert reused.status_code == 422, reused.json
    assert [error["path"] for error in malformed.json["errors"]] == ["Idempotency-Key"]
    assert [error["path"] for error in reused.json["errors"]] == ["Idempotency-Key"]


def test_a_malformed_idempotency_key_of_a_send_and_an_import_is_at_that_path_too(
        client, world, api):
    headers = {**bearer(api["sending"]), "Idempotency-Key": ""}
    send = client.post("/api/v1/handovers/1/send", headers=headers)
    imported = client.post("/api/v1/fhir/QuestionnaireResponse",
                           json={"resourceType": "QuestionnaireResponse",
                                 "questionnaire": f"urn:handover:questionnaire:{FORM_KEY}"},
                           query_string={"receiver_unit_id": world.units["receiving"].id,
                                         "legal_basis": "lsl_disclosure"}, headers=headers)
    for answer in (send, imported):
        assert answer.status_code == 422, answer.json
        assert "Idempotency-Key" in [error["path"] for error in answer.json["errors"]]
        assert not [error for error in answer.json["errors"]
                    if error["path"].startswith("headers.")]


@pytest.mark.parametrize("handover_id", [2**31, 2**63, 10**30])
@pytest.mark.parametrize("suffix", ["", "/fhir"])
def test_a_path_id_too_large_for_the_database_is_404_like_any_missing_id(client, api,
                                                                          handover_id, suffix):
    missing = client.get(f"/api/v1/handovers/{2**31 - 1}{suffix}",
                         headers=bearer(api["receiving"]))
    large = client.get(f"/api/v1/handovers/{handover_id}{suffix}",
                       headers=bearer(api["receiving"]))
    assert missing.status_code == large.status_code == 404
    assert large.json == missing.json


def test_the_document_says_a_path_id_is_404_and_a_body_or_query_id_422():
    """docs/api.md listed "an id above 2147483647" among the 422s without saying where."""
    text = " ".join(API_DOC.read_text(encoding="utf-8").split())
    assert "an id above 2147483647 in the body or the query" in text
    assert "an id in the path that no handover has, however large, is **404**" in text
    assert "path `Idempotency-Key`" in text and "headers.Idempotency-Key" not in text


@pytest.mark.parametrize("path, scope", [("/api/v1/inbox", "inbox:read"),
                                         ("/api/v1/audit/events", "audit:read")])
def test_an_unknown_query_parameter_is_refused_at_its_name(app, client, world, path, scope):
    """A misspelt filter (``?stauts=sent``) was ignored, and the answer was the whole list, as
    if the client had asked for it; the FHIR import already refused such a parameter."""
    from api_support import make_token

    with app.app_context():
        token = make_token(world, None if scope == "audit:read" else "receiving", {scope})
    response = client.get(f"{path}?stauts=sent", headers=bearer(token))
    assert response.status_code == 422
    assert response.json["errors"] == [{"path": "query.stauts",
                                        "message": "Leave out this unknown field."}]
