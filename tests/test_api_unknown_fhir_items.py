"""A sending system's QuestionnaireResponse is made into a draft only when every answer in it has
a place in the form: an item whose linkId the form does not have (at that place), a second item
or a second answer for a field that takes one, and an answer of a type no field reads are
refused (422, at their path in the resource), never left out while the draft is made (201)
without them."""

import copy

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from flask_babel import force_locale
from lifecycle_support import FORM_KEY, content

from handover.cli.demo_handovers import ward_content
from handover.formdefs import content as content_rules
from handover.i18n import gettext
from handover.plugins import manager as plugin_manager
from handover.services.fhir.bundle import questionnaire_response
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

WARD_FORM = "psychiatric_ward_preinfo"
CANNOT = "The resource cannot be made into a draft."


@pytest.fixture
def response_of(app):
    """The QuestionnaireResponse Handover itself makes of a form's ``filled`` content."""
    def make(form_key, filled):
        with app.app_context():
            definition = plugin_manager.registry(app).get(form_key)
            return questionnaire_response(
                definition, content_rules.cleaned(definition, filled, None))
    return make


@pytest.fixture
def post(app, client, world, api):
    """Posts a QuestionnaireResponse as the sending system, routed as ``form_key`` needs."""
    def send(resource, form_key=FORM_KEY, accept_language="en"):
        basis = "lsl_disclosure" if form_key == FORM_KEY else "child_welfare_necessary"
        return client.post("/api/v1/fhir/QuestionnaireResponse", json=resource,
                           query_string={"receiver_unit_id": world.units["receiving"].id,
                                         "legal_basis": basis},
                           headers={**bearer(api["sending"]), "Accept-Language": accept_language})
    return send


def _section(resource, key):
    number = next(n for n, item in enumerate(resource["item"])
                  if item["linkId"] == f"section:{key}")
    return number, resource["item"][number]


def _refused(app, answer, message=CANNOT):
    assert answer.status_code == 422, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.json["message"] == message
    with app.app_context():
        assert db.session.query(Handover).count() == 0
    return {error["path"]: error["message"] for error in answer.json["errors"]}


def test_the_unchanged_response_is_made_into_a_draft(post, response_of):
    """The cases below differ from this one only in what they add."""
    assert post(response_of(FORM_KEY, content())).status_code == 201


def test_an_item_the_form_does_not_have_is_refused_at_its_path(app, post, response_of):
    resource = response_of(FORM_KEY, content())
    number, health = _section(resource, "health")
    health["item"].append({"linkId": "allergies", "answer": [{"valueString": "Penicillin"}]})
    errors = _refused(app, post(resource))
    assert errors == {f"item.{number}.item.1":
                      "The form has no item with linkId allergies here."}


@pytest.mark.parametrize("item", [
    {"linkId": "allergies", "answer": [{"valueString": "Penicillin"}]},
    {"linkId": "section:allergies", "item": [
        {"linkId": "health_notes", "answer": [{"valueString": "Penicillin"}]}]},
], ids=["field", "section"])
def test_an_unknown_item_at_the_top_is_refused(app, post, response_of, item):
    resource = response_of(FORM_KEY, content())
    resource["item"].append(item)
    errors = _refused(app, post(resource))
    assert list(errors) == [f"item.{len(resource['item']) - 1}"]
    assert item["linkId"] in errors[f"item.{len(resource['item']) - 1}"]


def test_a_second_answer_to_a_single_value_field_is_refused(app, post, response_of):
    resource = response_of(FORM_KEY, content())
    number, health = _section(resource, "health")
    health["item"][0]["answer"].append({"valueString": "Also asthma"})
    errors = _refused(app, post(resource))
    assert errors == {f"item.{number}.item.0.answer.1":
                      "The item health_notes takes only one answer."}


def test_a_field_answered_in_two_items_is_refused(app, post, response_of):
    resource = response_of(FORM_KEY, content())
    number, health = _section(resource, "health")
    health["item"].append({"linkId": "health_notes", "answer": [{"valueString": "Asthma"}]})
    errors = _refused(app, post(resource))
    assert errors == {f"item.{number}.item.1": "The item health_notes may appear only once."}


def test_an_unknown_item_in_a_repeating_groups_row_is_refused(app, post, response_of):
    resource = response_of(WARD_FORM, ward_content())
    number, health = _section(resource, "health")
    row = next(n for n, item in enumerate(health["item"]) if item["linkId"] == "medications")
    health["item"][row]["item"].append(
        {"linkId": "medications.dosage", "answer": [{"valueString": "50 mg"}]})
    path = f"item.{number}.item.{row}.item.{len(health['item'][row]['item']) - 1}"
    errors = _refused(app, post(resource, WARD_FORM))
    assert errors == {path: "The form has no item with linkId medications.dosage here."}


def test_items_nested_in_an_answer_are_refused(app, post, response_of):
    resource = response_of(FORM_KEY, content())
    number, health = _section(resource, "health")
    health["item"][0]["answer"][0]["item"] = [
        {"linkId": "allergies", "answer": [{"valueString": "Penicillin"}]}]
    errors = _refused(app, post(resource))
    assert list(errors) == [f"item.{number}.item.0.answer.0.item.0"]


def test_an_answer_of_a_type_no_field_reads_is_refused(app, post, response_of):
    resource = response_of(FORM_KEY, content())
    number, health = _section(resource, "health")
    health["item"][0]["answer"] = [{"valueTime": "10:00:00"}]
    errors = _refused(app, post(resource))
    assert list(errors) == [f"item.{number}.item.0.answer.0.valueTime"]


def test_a_repeating_groups_rows_are_all_kept(app, post, response_of):
    """A repeating group is one item per row (and a multiple choice takes every answer: the
    round trip of each built-in form in test_api_fhir shows both)."""
    rows = [{"medication_name": "Melatoniini", "medication_dose": "3 mg"},
            {"medication_name": "Sertraliini", "medication_dose": "50 mg"}]
    made = post(response_of(WARD_FORM, {**ward_content(), "medications": rows}), WARD_FORM)
    assert made.status_code == 201, made.json
    with app.app_context():
        from handover.services import drafts

        stored = drafts.content_of(db.session.get(Handover, made.json["id"]))
    assert [{key: row[key] for key in rows[0]} for row in stored["medications"]] == rows


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_refusal_is_in_the_language_asked_for(app, post, response_of, language):
    resource = copy.deepcopy(response_of(FORM_KEY, content()))
    number, health = _section(resource, "health")
    health["item"].append({"linkId": "allergies", "answer": [{"valueString": "Penicillin"}]})
    with app.test_request_context(), force_locale(language):
        cannot = gettext(CANNOT)
        expected = gettext("The form has no item with linkId %(link_id)s here.",
                           link_id="allergies")
    assert "allergies" in expected and not expected.startswith("The form")
    errors = _refused(app, post(resource, accept_language=language), cannot)
    assert errors == {f"item.{number}.item.1": expected}
