"""A sending system's drafts through the JSON API and the FHIR import: reading its own draft
back gives the draft, audited as a draft read (never a false integrity alarm), and what it
stores and sends is what the web form could have stored, so a receiver's JSON and FHIR reads
never fail on content the page could not have produced."""

import json
import logging
import secrets

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from lifecycle_support import CHILD_NAME, FORM_KEY, content
from sqlalchemy import select

from handover.cli.demo_handovers import ward_content
from handover.services import drafts, sending
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

WARD_FORM = "psychiatric_ward_preinfo"
#: Values the ward form's rules never look at: their fields' show_if conditions are false.
HIDDEN_BY_CONDITION = {
    "restrictive_measures_used": "no", "restrictive_measure_list": ["not a row"],
    "admission_status": "observation", "admission_consent_by": {"unchecked": 123},
}


def _drafted(client, world, api, filled, *, form_key=FORM_KEY, legal_basis="lsl_disclosure"):
    """The id of a draft the sending system made through the API with ``filled``."""
    body = {"form_key": form_key, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": legal_basis, "content": filled}
    made = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert made.status_code == 201, made.json
    return made.json["id"]


def _sent(client, world, api, filled, **routing):
    handover_id = _drafted(client, world, api, filled, **routing)
    sent = client.post(f"/api/v1/handovers/{handover_id}/send", headers=bearer(api["sending"]))
    assert sent.status_code == 200, sent.json
    return handover_id


def _events_of(app, handover_id):
    """(action, detail) of every event of the handover, oldest first."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.handover_id == handover_id).order_by(AuditEvent.id))]


def _stored(app, handover_id):
    with app.app_context():
        return drafts.content_of(db.session.get(Handover, handover_id))


@pytest.mark.parametrize("suffix, page", [("", "api"), ("/fhir", "fhir")])
def test_sender_reading_its_own_draft_gets_the_draft_audited_as_a_draft_read(
        app, client, world, api, caplog, suffix, page):
    draft_id = _drafted(client, world, api, content())
    before = len(_events_of(app, draft_id))
    with caplog.at_level(logging.ERROR):
        read = client.get(f"/api/v1/handovers/{draft_id}{suffix}",
                          headers=bearer(api["sending"]))
    assert read.status_code == 200, read.get_data(as_text=True)[:300]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    events = _events_of(app, draft_id)[before:]
    assert [action for action, _detail in events] == ["handover.draft_viewed"]
    assert page in events[0][1]
    assert CHILD_NAME not in events[0][1]


def test_sending_system_reads_its_draft_as_json(app, client, world, api):
    draft_id = _drafted(client, world, api, content())
    read = client.get(f"/api/v1/handovers/{draft_id}", headers=bearer(api["sending"])).json
    assert read["status"] == "draft" and read["relation"] == "sending"
    assert read["content"]["child_name"] == CHILD_NAME
    assert "send" in read["actions"]


def test_sending_system_reads_its_draft_as_an_in_progress_fhir_bundle(app, client, world, api):
    draft_id = _drafted(client, world, api, content())
    bundle = client.get(f"/api/v1/handovers/{draft_id}/fhir", headers=bearer(api["sending"]))
    resources = {entry["resource"]["resourceType"]: entry["resource"]
                 for entry in bundle.json["entry"]}
    assert resources["Task"]["status"] == "draft"
    assert resources["QuestionnaireResponse"]["status"] == "in-progress"


def test_receiving_system_never_sees_a_draft(app, client, world, api):
    draft_id = _drafted(client, world, api, content())
    for suffix in ("", "/fhir"):
        read = client.get(f"/api/v1/handovers/{draft_id}{suffix}",
                          headers=bearer(api["receiving"]))
        assert read.status_code == 404


def test_blank_answer_to_a_choice_is_stored_as_none_and_the_receiver_gets_its_bundle(
        app, client, world, api):
    handover_id = _sent(client, world, api, content(non_disclosure=" "))
    assert _stored(app, handover_id)["non_disclosure"] is None
    bundle = client.get(f"/api/v1/handovers/{handover_id}/fhir",
                        headers=bearer(api["receiving"]))
    assert bundle.status_code == 200, bundle.get_data(as_text=True)[:300]


def test_text_is_stored_trimmed_with_the_identity_code_in_capitals(app, client, world, api):
    draft_id = _drafted(client, world, api, content(child_name=f"  {CHILD_NAME} ",
                                                    child_identity_code="010594y9032"))
    stored = _stored(app, draft_id)
    assert stored["child_name"] == CHILD_NAME
    assert stored["child_identity_code"] == "010594Y9032"


def test_fields_hidden_by_their_condition_never_reach_the_receiver(app, client, world, api):
    handover_id = _sent(client, world, api, {**ward_content(), **HIDDEN_BY_CONDITION},
                        form_key=WARD_FORM, legal_basis="child_welfare_necessary")
    read = client.get(f"/api/v1/handovers/{handover_id}", headers=bearer(api["receiving"]))
    assert read.status_code == 200
    assert "admission_consent_by" not in read.json["content"]
    assert "restrictive_measure_list" not in read.json["content"]
    bundle = client.get(f"/api/v1/handovers/{handover_id}/fhir",
                        headers=bearer(api["receiving"]))
    assert bundle.status_code == 200, bundle.get_data(as_text=True)[:300]


def _sent_as_saved(app, world, form_key, legal_basis, filled):
    """A handover sent with ``filled`` saved as it is, as API content was before it was
    cleaned: values the page could not have produced, which the rules let through."""
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), form_key, world.unit("receiving"),
                             [], legal_basis)
        drafts.save(sender, draft, filled)
        return sending.send(sender, draft, secrets.token_urlsafe(16)).id


@pytest.mark.parametrize("form_key, legal_basis, filled", [
    (FORM_KEY, "lsl_disclosure", content(non_disclosure=" ", health_notes=" ")),
    (WARD_FORM, "child_welfare_necessary", {**ward_content(), **HIDDEN_BY_CONDITION}),
], ids=["blank answers", "values hidden by their condition"])
def test_receiver_gets_a_bundle_even_of_content_stored_before_it_was_cleaned(
        app, client, world, api, form_key, legal_basis, filled):
    handover_id = _sent_as_saved(app, world, form_key, legal_basis, filled)
    bundle = client.get(f"/api/v1/handovers/{handover_id}/fhir",
                        headers=bearer(api["receiving"]))
    assert bundle.status_code == 200, bundle.get_data(as_text=True)[:300]
    assert "not a row" not in bundle.get_data(as_text=True)


def test_reply_form_content_is_stored_as_the_page_would_store_it(app, client, world, api):
    """Checked by the page's rules (text trimmed); a key naming no field of the reply form is
    refused at its path and nothing is stored: left out silently, a typo would lose what it
    carried."""
    with app.app_context():
        handover_id = lifecycle_support.send_handover(world)
    path = f"/api/v1/handovers/{handover_id}/reply-forms/ward_reply"
    refused = client.post(path, json={"content": {"primary_nurse": "  Hoitaja Helmi ",
                                                  "not_a_field": {"unchecked": 1}}},
                          headers=bearer(api["receiving"]))
    assert refused.status_code == 422, refused.json
    assert "content.not_a_field" in json.dumps(refused.json)
    made = client.post(path, json={"content": {"primary_nurse": "  Hoitaja Helmi "}},
                       headers=bearer(api["receiving"]))
    assert made.status_code == 201, made.json
    thread = client.get(f"/api/v1/handovers/{handover_id}",
                        headers=bearer(api["sending"])).json["thread"]
    assert [entry["content"] for entry in thread] == [{"primary_nurse": "Hoitaja Helmi"}]
