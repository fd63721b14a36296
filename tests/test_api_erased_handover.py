"""A handover whose content the retention rule erased is still there: the record (units, times,
status) stays, and the receiving system must be able to tell "erased" from "gone". So reading
it answers 200 with ``erased`` and ``erased_at`` and no content, as the page shows it; acting on
it is 409 like any action its state no longer allows; and the OpenAPI document says the same."""

from datetime import timedelta

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from lifecycle_support import ADDRESS, CHILD_NAME, FREE_TEXT_MARKER, send_handover

from handover.services import retention
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api


@pytest.fixture
def erased(app, world):
    """A handover sent long ago whose content `handover purge` has erased."""
    with app.app_context():
        handover_id = send_handover(world, now=utcnow() - timedelta(days=100))
        assert retention.purge() == [handover_id]
    return handover_id


def test_reading_an_erased_handover_tells_the_client_it_was_erased(client, api, erased):
    answer = client.get(f"/api/v1/handovers/{erased}", headers=bearer(api["receiving"]))
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["erased"] is True and body["erased_at"]
    assert body["id"] == erased and body["sender_unit"]["name"] and body["sent_at"]
    assert body["content"] is None
    assert (body["thread"], body["attachments"], body["redacted"]) == ([], [], [])
    assert body["acknowledgement_note"] is None
    text = answer.get_data(as_text=True)
    assert CHILD_NAME not in text and ADDRESS not in text and FREE_TEXT_MARKER not in text


def test_an_erased_handover_as_fhir_is_there_without_its_answers(client, api, erased):
    answer = client.get(f"/api/v1/handovers/{erased}/fhir", headers=bearer(api["receiving"]))
    assert answer.status_code == 200
    assert CHILD_NAME not in answer.get_data(as_text=True)


def test_a_handover_not_erased_says_so(app, client, world, api):
    with app.app_context():
        handover_id = send_handover(world)
    body = client.get(f"/api/v1/handovers/{handover_id}", headers=bearer(api["receiving"])).json
    assert (body["erased"], body["erased_at"]) == (False, None)


@pytest.mark.parametrize("path, body", [("acknowledge", {}), ("replies", {"message": "Hi"})])
def test_acting_on_an_erased_handover_is_409(client, api, erased, path, body):
    answer = client.post(f"/api/v1/handovers/{erased}/{path}", json=body,
                         headers=bearer(api["receiving"]))
    assert answer.status_code == 409, answer.json


@pytest.mark.parametrize("path", ["/api/v1/handovers/{handover_id}",
                                  "/api/v1/handovers/{handover_id}/fhir"])
def test_the_document_promises_200_not_410_for_a_read(client, path):
    document = client.get("/api/v1/openapi.json").json
    responses = document["paths"][path]["get"]["responses"]
    assert "200" in responses and "410" not in responses


def test_the_document_describes_erased_at(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    handover = next(schema for name, schema in schemas.items() if name.startswith("HandoverOut"))
    assert {"erased", "erased_at"} <= handover["properties"].keys()
