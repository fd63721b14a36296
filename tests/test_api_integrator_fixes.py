"""What an integration developer met trying the JSON API against the demo: a date error asking
for a format the API refuses, a reply's legal basis that could not be chosen, routing errors
reported one at a time at ``routing``, a documented reply form that does not exist, content
keys that collide silently, repeated JSON keys read as the last, and refusals (413, 400 for
nesting, 403, a repeated query value) that did not say what to do."""

import json
import re
from pathlib import Path

import api_support
import lifecycle_support
import pytest
from api_support import bearer, make_token
from flask_babel import force_locale
from lifecycle_support import FORM_KEY, content

from handover.cli.demo_handovers import ward_content
from handover.formdefs.required import unreadable_date
from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover, Reply

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

API_DOC = Path(__file__).parent.parent / "docs" / "api.md"
WARD_FORM = "psychiatric_ward_preinfo"


def _ward_draft_body(world, **overrides):
    return {"form_key": WARD_FORM, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "child_welfare_necessary",
            "content": {**ward_content(), **overrides}}


def _sent_ward_handover(client, world, api):
    made = client.post("/api/v1/drafts", json=_ward_draft_body(world),
                       headers=bearer(api["sending"]))
    assert made.status_code == 201, made.json
    sent = client.post(f"/api/v1/handovers/{made.json['id']}/send",
                       headers=bearer(api["sending"]))
    assert sent.status_code == 200, sent.json
    return made.json["id"]


def _receipt(**overrides):
    return {"received_on": "2026-01-02", "primary_nurse_name": "Hoitaja Helmi",
            "care_meeting_date": "2026-12-10", "acknowledged_by": "Helmi, sairaanhoitaja",
            **overrides}


def _errors(answer):
    return {error["path"]: error["message"] for error in answer.json["errors"]}


def _handover_count(app):
    with app.app_context():
        return db.session.query(Handover).count()


# 1. A content date's error asks for the ISO form the API takes

@pytest.mark.parametrize("language, expected", [
    ("en", "Enter date of arrival as year-month-day, for example 2026-12-10"),
    ("fi", "Anna tulopäivä muodossa vvvv-kk-pp, esimerkiksi 2026-12-10"),
    ("sv", "Ange ankomstdag i formen åååå-mm-dd, till exempel 2026-12-10"),
])
def test_a_draft_date_not_in_iso_form_asks_for_year_month_day(app, client, world, api,
                                                              language, expected):
    answer = client.post("/api/v1/drafts", json=_ward_draft_body(world, arrival_date="14.3.2012"),
                         headers={**bearer(api["sending"]), "Accept-Language": language})
    assert answer.status_code == 422, answer.json
    assert _errors(answer)["content.arrival_date"] == expected
    assert _handover_count(app) == 0
    iso = client.post("/api/v1/drafts", json=_ward_draft_body(world, arrival_date="2012-03-14"),
                      headers=bearer(api["sending"]))
    assert iso.status_code == 201, iso.json


def test_a_reply_forms_date_not_in_iso_form_asks_for_year_month_day(app, client, world, api):
    handover_id = _sent_ward_handover(client, world, api)
    answer = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/ward_receipt",
                         json={"content": _receipt(received_on="2.1.2026")},
                         headers=bearer(api["receiving"]))
    assert answer.status_code == 422, answer.json
    assert _errors(answer) == {
        "content.received_on": "Enter received on as year-month-day, for example 2026-12-10"}


def test_the_web_forms_date_message_is_unchanged(app):
    with app.app_context():
        field = next(f for f in drafts.definition_of(WARD_FORM).fields()
                     if f.key == "arrival_date")
    with app.test_request_context(), force_locale("en"):
        assert str(unreadable_date(field)) == (
            "Enter date of arrival as day.month.year, for example 14.3.2012")
    with app.test_request_context(), force_locale("fi"):
        assert str(unreadable_date(field)) == (
            "Anna tulopäivä muodossa p.k.vvvv, esimerkiksi 14.3.2012")


def test_the_document_says_which_form_content_dates_take():
    text = API_DOC.read_text(encoding="utf-8")
    assert "year-month-day" in text and "2026-12-10" in text


# 2. A reply's legal basis, chosen through the API

def test_a_reply_form_records_the_legal_basis_chosen(app, client, world, api):
    handover_id = _sent_ward_handover(client, world, api)
    made = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/ward_receipt",
                       json={"content": _receipt(), "legal_basis": "consent"},
                       headers=bearer(api["receiving"]))
    assert made.status_code == 201, made.json
    assert made.json["legal_basis"] == "consent"
    with app.app_context():
        assert db.session.get(Reply, made.json["id"]).legal_basis == "consent"
    thread = client.get(f"/api/v1/handovers/{handover_id}",
                        headers=bearer(api["receiving"])).json["thread"]
    assert [reply["legal_basis"] for reply in thread] == ["consent"]


def test_a_reply_without_a_basis_keeps_the_first_of_the_list(app, client, world, api):
    handover_id = _sent_ward_handover(client, world, api)
    made = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/ward_receipt",
                       json={"content": _receipt()}, headers=bearer(api["receiving"]))
    assert made.status_code == 201, made.json
    assert made.json["legal_basis"] == "patient_data_necessary"
    message = client.post(f"/api/v1/handovers/{handover_id}/replies",
                          json={"message": "Hoitokokous maanantaina."},
                          headers=bearer(api["receiving"]))
    assert message.status_code == 201, message.json
    assert message.json["legal_basis"] == "patient_data_necessary"


def test_a_message_reply_records_the_legal_basis_chosen(app, client, world, api):
    handover_id = _sent_ward_handover(client, world, api)
    made = client.post(f"/api/v1/handovers/{handover_id}/replies",
                       json={"message": "Hoitokokous maanantaina.", "legal_basis": "consent"},
                       headers=bearer(api["receiving"]))
    assert made.status_code == 201, made.json
    assert made.json["legal_basis"] == "consent"
    sender = client.post(f"/api/v1/handovers/{handover_id}/replies",
                         json={"message": "Kiitos.", "legal_basis": "guardian_consent"},
                         headers=bearer(make_sender_reader(app, world)))
    assert sender.status_code == 201, sender.json
    assert sender.json["legal_basis"] == "guardian_consent"


def make_sender_reader(app, world):
    with app.app_context():
        return make_token(world, "sending", {"handover:send", "handover:read", "reply:send"},
                          name="sender-reply")


def test_a_basis_not_allowed_is_refused_at_its_path_naming_those_allowed(app, client, world,
                                                                          api):
    handover_id = _sent_ward_handover(client, world, api)
    message = client.post(f"/api/v1/handovers/{handover_id}/replies",
                          json={"message": "Hei.", "legal_basis": "child_welfare_necessary"},
                          headers=bearer(api["receiving"]))
    assert message.status_code == 422, message.json
    assert _errors(message) == {
        "legal_basis": "Choose one of: patient_data_necessary, consent."}
    form = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/ward_receipt",
                       json={"content": _receipt(primary_nurse_name=""), "legal_basis": "x"},
                       headers=bearer(api["receiving"]))
    assert form.status_code == 422, form.json
    assert _errors(form) == {
        "legal_basis": "Choose one of: patient_data_necessary, consent.",
        "content.primary_nurse_name": "Enter the name of the primary nurse"}
    with app.app_context():
        assert not db.session.get(Handover, handover_id).replies


def test_the_openapi_document_describes_the_reply_basis(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name in ("ReplyIn", "ReplyFormIn", "ReplyCreated", "ReplyOut"):
        assert "legal_basis" in schemas[name]["properties"], name


# 3. Every routing problem at its own path, beside the content's

def test_every_routing_problem_is_reported_at_its_path_with_the_contents(app, client, world,
                                                                         api):
    body = {"form_key": FORM_KEY, "receiver_unit_id": 2_000_000,
            "copy_unit_ids": [world.units["copy"].id, world.units["other"].id],
            "legal_basis": "bogus", "content": content(child_name="")}
    answer = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert answer.status_code == 422, answer.json
    assert _errors(answer) == {
        "receiver_unit_id": "No unit has this id.",
        "copy_unit_ids.1": "A copy of this form may not be sent to that unit.",
        "legal_basis": "Choose one of: lsl_disclosure, guardian_consent.",
        "content.child_name": "Enter child's name",
    }
    assert answer.json["message"] == "The request has errors; each is listed with its field."
    assert _handover_count(app) == 0


def test_a_receiver_of_a_kind_not_allowed_and_a_copy_twice(app, client, world, api):
    body = {**api_support.draft_body(world), "receiver_unit_id": world.units["copy"].id,
            "copy_unit_ids": [world.units["copy"].id]}
    answer = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert _errors(answer) == {
        "receiver_unit_id": "This form may not be sent to that unit.",
        "copy_unit_ids.0": "A copy of this form may not be sent to that unit."}
    twice = {**api_support.draft_body(world),
             "copy_unit_ids": [world.units["copy"].id, world.units["copy"].id]}
    answer = client.post("/api/v1/drafts", json=twice, headers=bearer(api["sending"]))
    assert _errors(answer) == {
        "copy_unit_ids.1": "The same unit was chosen twice for a copy."}
    assert answer.json["message"] == "The same unit was chosen twice for a copy."


def test_a_form_the_unit_may_not_send_is_refused_at_form_key(app, client, world, api):
    with app.app_context():
        ward = make_token(world, "receiving", {"handover:send"}, name="ward-sender")
    answer = client.post("/api/v1/drafts", json=api_support.draft_body(world),
                         headers=bearer(ward))
    assert answer.status_code == 422
    assert list(_errors(answer)) == ["form_key"]


# 4. The documented reply form works; an unknown one says which ones there are

def test_an_unknown_reply_form_names_the_handovers_reply_forms(app, client, world, api):
    handover_id = _sent_ward_handover(client, world, api)
    answer = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/ward_reply",
                         json={"content": {}}, headers=bearer(api["receiving"]))
    assert answer.status_code == 404
    assert answer.json["message"] == ("This reply form does not exist for this handover. Its "
                                      "reply forms: ward_receipt, ward_discharge.")
    assert answer.json["errors"][0]["path"] == "form_key"


def test_the_documented_reply_form_example_works(app, client, world, api):
    text = API_DOC.read_text(encoding="utf-8")
    found = re.search(r"/reply-forms/(\w+) -d '(\{.*?\})'", text, re.S)
    assert found, "the document shows a reply form"
    key, body = found.group(1), json.loads(found.group(2))
    handover_id = _sent_ward_handover(client, world, api)
    answer = client.post(f"/api/v1/handovers/{handover_id}/reply-forms/{key}", json=body,
                         headers=bearer(api["receiving"]))
    assert answer.status_code == 201, answer.json


def test_the_documented_draft_example_names_the_demo_units():
    """The demo's sending institution is unit 1, its ward 5, the ward form's copy units 3 and
    6 (`handover demo` on an empty instance makes them in that order)."""
    from handover.cli.demo import UNITS

    ids = {name: number for number, (name, _kind, _organisation) in enumerate(UNITS, 1)}
    kinds = {number: kind for number, (_name, kind, _organisation) in enumerate(UNITS, 1)}
    text = API_DOC.read_text(encoding="utf-8")
    draft = re.search(r'"form_key": "psychiatric_ward_preinfo", "receiver_unit_id": (\d+),\s*'
                      r'"copy_unit_ids": \[(\d+)\]', text)
    assert draft, "the document shows a ward draft"
    assert kinds[int(draft.group(1))] == "psychiatric_ward"
    assert kinds[int(draft.group(2))] in ("child_welfare_social_work", "outpatient_psychiatry")
    assert ids["Demo: Lastensuojelulaitos Majakka"] == 1


# 5. Keys that collide, and keys given twice

def test_content_keys_that_collide_without_control_characters_are_refused(app, client, world,
                                                                          api):
    body = api_support.draft_body(world)
    raw = json.dumps(body)[:-2] + ', "child_name\\u0007": "x"}}'
    answer = client.post("/api/v1/drafts", data=raw, headers={
        **bearer(api["sending"]), "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.json
    assert list(_errors(answer)) == ["content.child_name"]
    assert _handover_count(app) == 0


@pytest.mark.parametrize("raw, path", [
    ('{"message": "a", "message": "b"}', "message"),
    ('{"message": "a", "legal_basis": "consent", "legal_basis": "x"}', "legal_basis"),
])
def test_a_key_given_twice_in_one_object_is_refused_naming_it(app, client, world, api, raw,
                                                               path):
    handover_id = _sent_ward_handover(client, world, api)
    answer = client.post(f"/api/v1/handovers/{handover_id}/replies", data=raw, headers={
        **bearer(api["receiving"]), "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.json
    assert f'"{path}"' in answer.json["message"]
    assert list(_errors(answer)) == [path]
    with app.app_context():
        assert not db.session.get(Handover, handover_id).replies


def test_a_content_key_given_twice_is_refused_at_its_path(app, client, world, api):
    raw = json.dumps(api_support.draft_body(world))[:-2] + ', "child_name": "Toinen"}}'
    answer = client.post("/api/v1/drafts", data=raw, headers={
        **bearer(api["sending"]), "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.json
    assert list(_errors(answer)) == ["content.child_name"]
    assert _handover_count(app) == 0


# 6. Refusals that say what to do

def test_a_body_too_large_says_the_limit(app, client, world, api):
    headers = {**bearer(api["sending"]), "Content-Type": "application/json"}
    answer = client.post("/api/v1/drafts", data=b"{" + b" " * (13 * 1024 * 1024) + b"}",
                         headers=headers)
    assert answer.status_code == 413
    assert answer.json["message"] == "The request body is too large: at most 12 MB."
    app.config["MAX_CONTENT_LENGTH"] = 1000
    answer = client.post("/api/v1/drafts", data=b"{" + b" " * 2000 + b"}", headers=headers)
    assert answer.json["message"] == "The request body is too large: at most 1000 bytes."


def test_json_nested_too_deeply_says_so(client, world, api):
    answer = client.post("/api/v1/drafts", data="[" * 100 + "]" * 100, headers={
        **bearer(api["sending"]), "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "nested too deeply" in answer.json["message"]
    assert "not valid JSON" not in answer.json["message"]


def test_a_missing_scope_is_named(app, client, world, api):
    with app.app_context():
        list_only = make_token(world, "receiving", {"inbox:read"}, name="lister")
    answer = client.get("/api/v1/handovers/1", headers=bearer(list_only))
    assert answer.status_code == 403
    assert answer.json["message"] == ("This client's token does not have the scope for this: "
                                      "it needs handover:read.")


def test_a_query_value_given_twice_is_refused(client, world, api):
    answer = client.get("/api/v1/inbox?status=sent&status=opened",
                        headers=bearer(api["receiving"]))
    assert answer.status_code == 422
    assert _errors(answer) == {"query.status": "Give this only once: it takes one value."}
    assert client.get("/api/v1/inbox?status=sent",
                      headers=bearer(api["receiving"])).status_code == 200
