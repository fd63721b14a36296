"""The FHIR export shows what the JSON API shows, and the FHIR import leaves nothing out unsaid
and makes a draft as the documentation says.

- The Bundle's Task carries the legal basis (``reasonCode``) to every reader and the
  acknowledgement note (``Task.note``) to exactly the readers the JSON API gives it to (not a
  copy unit); the Bundle still validates.
- A coding from a system other than the Questionnaire's, a top-level element the import does
  not read (``contained``, ``identifier``...) and an unknown query parameter are refused (422)
  at their path rather than dropped.
- An ``in-progress`` response makes a draft however incomplete; a ``completed`` one is checked
  in full, as JSON content is; the form's own messages point into the resource.
"""

from datetime import UTC, datetime

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from fhir.resources.R4B.bundle import Bundle
from lifecycle_support import FORM_KEY, send_handover

from handover.services.fhir import valuesets
from handover.services.fhir.bundle import LEGAL_BASIS_SYSTEM

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

SENT_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NOTE = "Received, room 12."


def _task(bundle):
    Bundle.model_validate(bundle)
    valuesets.check(bundle)
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")


@pytest.fixture
def acknowledged(app, client, world, api):
    with app.app_context():
        handover_id = send_handover(world, now=SENT_AT)
    answer = client.post(f"/api/v1/handovers/{handover_id}/acknowledge", json={"note": NOTE},
                         headers=bearer(api["receiving"]))
    assert answer.status_code == 200, answer.json
    return handover_id


@pytest.mark.parametrize("reader", ["receiving", "sending", "copy"])
def test_task_has_the_legal_basis_and_the_note_as_the_json_api_shows_them(
        client, world, api, acknowledged, reader):
    shown = client.get(f"/api/v1/handovers/{acknowledged}", headers=bearer(api[reader])).json
    task = _task(client.get(f"/api/v1/handovers/{acknowledged}/fhir",
                            headers=bearer(api[reader])).json)
    assert shown["legal_basis"] == "lsl_disclosure"
    (coding,) = task["reasonCode"]["coding"]
    assert coding["system"] == LEGAL_BASIS_SYSTEM and coding["code"] == shown["legal_basis"]
    assert task["reasonCode"]["text"]
    notes = [note["text"] for note in task.get("note", [])]
    assert notes == ([shown["acknowledgement_note"]] if shown["acknowledgement_note"] else [])
    assert notes == ([] if reader == "copy" else [NOTE])
    if reader != "copy":
        assert task["note"][0]["authorReference"]["reference"] == \
            f"Organization/unit-{world.units['receiving'].id}"


def test_no_note_without_one(app, client, world, api):
    with app.app_context():
        handover_id = send_handover(world, now=SENT_AT)
    client.post(f"/api/v1/handovers/{handover_id}/acknowledge", json={},
                headers=bearer(api["receiving"]))
    task = _task(client.get(f"/api/v1/handovers/{handover_id}/fhir",
                            headers=bearer(api["receiving"])).json)
    assert "note" not in task and task["reasonCode"]["coding"][0]["code"] == "lsl_disclosure"


# --- The import leaves nothing out unsaid ---------------------------------------------------

WARD_FORM = "psychiatric_ward_preinfo"


@pytest.fixture
def response_of(app):
    """The QuestionnaireResponse Handover itself makes of a form's ``filled`` content."""
    from handover.formdefs import content as content_rules
    from handover.plugins import manager as plugin_manager
    from handover.services.fhir.bundle import questionnaire_response

    def make(form_key, filled, status="completed"):
        with app.app_context():
            definition = plugin_manager.registry(app).get(form_key)
            resource = questionnaire_response(
                definition, content_rules.cleaned(definition, filled, None))
        resource["status"] = status
        return resource
    return make


@pytest.fixture
def post(client, world, api):
    """Posts a QuestionnaireResponse as the sending system, routed as ``form_key`` needs."""
    def send(resource, form_key=FORM_KEY, **extra_query):
        basis = "lsl_disclosure" if form_key == FORM_KEY else "child_welfare_necessary"
        return client.post("/api/v1/fhir/QuestionnaireResponse", json=resource,
                           query_string={"receiver_unit_id": world.units["receiving"].id,
                                         "legal_basis": basis, **extra_query},
                           headers=bearer(api["sending"]))
    return send


def _drafts(app):
    from handover.store.database import db
    from handover.store.models import Handover

    with app.app_context():
        return db.session.query(Handover).count()


def _errors(answer):
    assert answer.status_code == 422, (answer.status_code, answer.get_data(as_text=True)[:500])
    return {error["path"]: error["message"] for error in answer.json["errors"]}


def _place(resource, link_id):
    """The path in ``resource`` of the item ``link_id`` (in its section)."""
    for number, section in enumerate(resource["item"]):
        for inner, item in enumerate(section.get("item", [])):
            if item["linkId"] == link_id:
                return f"item.{number}.item.{inner}", item
    raise LookupError(link_id)


def _ward_content():
    from handover.cli.demo_handovers import ward_content

    return ward_content()


def test_a_coding_of_another_system_is_refused_at_its_item(app, post, response_of):
    resource = response_of(WARD_FORM, _ward_content())
    path, item = _place(resource, "service_language")
    assert item["answer"] == [{"valueCoding": {"code": "fi"}}]
    item["answer"] = [{"valueCoding": {"system": "http://other", "code": "fi"}}]
    errors = _errors(post(resource, WARD_FORM))
    assert list(errors) == [f"{path}.answer.0.valueCoding.system"]
    assert "service_language" in errors[f"{path}.answer.0.valueCoding.system"]
    assert _drafts(app) == 0
    item["answer"] = [{"valueCoding": {"display": "suomi"}}]   # a coding without its code
    assert list(_errors(post(resource, WARD_FORM))) == [f"{path}.answer.0.valueCoding.code"]
    item["answer"] = [{"valueCoding": {"code": "fi", "display": "suomi"}}]
    assert post(resource, WARD_FORM).status_code == 201


@pytest.mark.parametrize("element, value", [
    ("contained", [{"resourceType": "Patient", "id": "p"}]),
    ("identifier", {"system": "urn:hospital", "value": "QR-1"}),
    ("extension", [{"url": "urn:x", "valueString": "y"}]),
    ("basedOn", [{"reference": "ServiceRequest/1"}]),
    ("_status", {"extension": [{"url": "urn:x", "valueString": "y"}]}),
])
def test_an_element_the_import_does_not_read_is_refused(app, post, response_of, element, value):
    resource = {**response_of(FORM_KEY, lifecycle_support.content()), element: value}
    errors = _errors(post(resource))
    assert list(errors) == [element] and element in errors[element]
    assert _drafts(app) == 0


def test_what_the_server_sets_itself_is_taken_as_its_own(app, post, response_of):
    """The resource's id, meta, narrative, child, author and time: the draft has its own (and
    Handover's own export, read back, has them)."""
    resource = {**response_of(FORM_KEY, lifecycle_support.content()), "id": "qr-1",
                "authored": "2026-03-02T09:30:00+02:00", "subject": {"reference": "Patient/1"},
                "author": {"reference": "Organization/1"}, "language": "fi",
                "_authored": {"extension": [{"url": "urn:x", "valueString": "y"}]}}
    assert post(resource).status_code == 201, post(resource).json


def test_an_unknown_query_parameter_is_refused(app, post, response_of):
    answer = post(response_of(FORM_KEY, lifecycle_support.content()), foo="bar")
    assert _errors(answer) == {"query.foo": "Leave out this unknown field."}
    assert _drafts(app) == 0


# --- In progress, completed, and where the form's messages point -----------------------------

def test_an_in_progress_response_makes_an_incomplete_draft(app, post, response_of):
    resource = response_of(WARD_FORM, {"child_name": "Veeti Esimerkki"}, "in-progress")
    made = post(resource, WARD_FORM)
    assert made.status_code == 201, made.json
    from handover.services import drafts
    from handover.store.database import db
    from handover.store.models import Handover

    with app.app_context():
        stored = drafts.content_of(db.session.get(Handover, made.json["id"]))
    assert stored["child_name"] == "Veeti Esimerkki"


def test_a_completed_response_is_checked_in_full_at_the_linkids(app, post, response_of):
    resource = response_of(WARD_FORM, {"child_name": "Veeti Esimerkki"})
    errors = _errors(post(resource, WARD_FORM))
    assert "child_birth_date" in errors and "arrival_reason" in errors
    assert not [path for path in errors if path.startswith("content.")]
    assert _drafts(app) == 0


def test_an_in_progress_responses_answers_must_fit_the_form(app, post, response_of):
    resource = response_of(WARD_FORM, {"child_name": "Veeti Esimerkki",
                                       "child_birth_date": "2099-01-01"}, "in-progress")
    path, _item = _place(resource, "child_birth_date")
    errors = _errors(post(resource, WARD_FORM))
    assert list(errors) == [path]
    assert _drafts(app) == 0


def test_the_forms_messages_point_into_the_resource(app, post, response_of):
    resource = response_of(WARD_FORM, {**_ward_content(), "child_birth_date": "2011-03-15"})
    path, _item = _place(resource, "child_birth_date")
    answer = post(resource, WARD_FORM)
    assert _errors(answer) == {
        path: "The date of birth does not match the personal identity code."}
    assert answer.json["message"] == "The content does not pass the form's checks."


def test_a_rows_message_points_at_its_item_in_the_row(app, post, response_of):
    content = _ward_content()
    content["guardians"] = [{**content["guardians"][0], "guardian_custody": "nobody"}]
    resource = response_of(WARD_FORM, content, "in-progress")
    row_path, row = _place(resource, "guardians")
    inner = next(n for n, item in enumerate(row["item"])
                 if item["linkId"] == "guardians.guardian_custody")
    assert list(_errors(post(resource, WARD_FORM))) == [f"{row_path}.item.{inner}"]


@pytest.mark.parametrize("status", ["completed", "in-progress"])
def test_a_row_without_its_required_answer(app, post, response_of, status):
    """Completed: refused at the row that lacks it. In progress: a draft to finish later."""
    content = _ward_content()
    content["guardians"] = [{key: value for key, value in content["guardians"][0].items()
                             if key != "guardian_name"}]
    resource = response_of(WARD_FORM, content, status)
    row_path, _row = _place(resource, "guardians")
    answer = post(resource, WARD_FORM)
    if status == "completed":
        assert list(_errors(answer)) == [row_path]
    else:
        assert answer.status_code == 201, answer.json


def test_routing_and_answers_are_refused_together_at_their_places(app, client, world, api,
                                                                  response_of):
    resource = response_of(WARD_FORM, {"child_name": "Veeti Esimerkki"})
    answer = client.post("/api/v1/fhir/QuestionnaireResponse", json=resource,
                         query_string={"receiver_unit_id": world.units["receiving"].id,
                                       "legal_basis": "nothing_such"},
                         headers=bearer(api["sending"]))
    errors = _errors(answer)
    assert "query.legal_basis" in errors and "child_birth_date" in errors
    assert _drafts(app) == 0
