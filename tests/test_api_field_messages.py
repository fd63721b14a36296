"""A Finnish or Swedish integrator reads every refusal of a request's shape in its own language:
a field missing, of the wrong type, null, unknown, too long, not one of the choices or out of
range, in the JSON body, the query and the headers. Marshmallow's own messages are English
only; none of them may reach a client that asked for Finnish, whichever field kind it came
from."""

import re

import api_support
import lifecycle_support
import marshmallow
import pytest
from api_support import bearer, make_token
from flask_babel import force_locale
from lifecycle_support import FORM_KEY, send_handover
from marshmallow import validate

from handover.i18n import gettext
from handover.services.listing import LIST_STATUSES
from handover.web.api.schema_messages import InputSchema

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

LANGUAGES = [("fi", "fi"), ("sv-FI, sv;q=0.9", "sv"), ("en", "en")]
LARGEST_ID = 2**31 - 1

REQUIRED = "Give a value: this is required."
NOT_NULL = "Give a value, not null."
STRING = "Give a string."
WHOLE_NUMBER = "Give a whole number."
LIST = "Give a list."
OBJECT = "Give a JSON object."
TIME = "Give a time in ISO 8601, for example 2026-12-01T00:00:00+02:00."
UNKNOWN = "Leave out this unknown field."
AT_MOST = "Give at most {max} characters."
FROM_TO = "Give from {min} to {max} characters."
ONE_OF = "Choose one of: {labels}."
IN_RANGE = "Give a number from {min} to {max}."


@pytest.fixture
def ask(app, client, world, api):
    """Sends a request as the system that may make it (``who``: ``receiving``, ``sending`` or
    ``audit``), in the language ``accept_language`` asks for; ``{handover}`` in the path is a
    handover sent to the receiving unit. Returns the answer's ``{path: message}``."""
    with app.app_context():
        tokens = {**api, "audit": make_token(world, None, {"audit:read"}, name="archive")}
        handover_id = send_handover(world)

    def send(who, method, path, accept_language, **request):
        headers = {**bearer(tokens[who]), **request.pop("headers", {}),
                   "Accept-Language": accept_language}
        answer = getattr(client, method)(path.format(handover=handover_id), headers=headers,
                                         **request)
        assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
        return {error["path"]: error["message"] for error in answer.json["errors"]}

    return send


def _in(app, language, text, **variables):
    """``text`` as a reader of ``language`` sees it, its {placeholders} filled."""
    with app.test_request_context(), force_locale(language):
        return gettext(text).format(**variables)


def _draft(**fields):
    return {"form_key": FORM_KEY, "receiver_unit_id": 2, "copy_unit_ids": [],
            "legal_basis": "lsl_disclosure", "content": {}, **fields}


def _routing(**fields):
    return {"receiver_unit_id": 2, "legal_basis": "lsl_disclosure", **fields}


RESPONSE = {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": f"urn:handover:questionnaire:{FORM_KEY}"}

#: (who, method, path, request, the field's path, its message, the message's values)
REFUSALS = [
    # The JSON body.
    pytest.param("receiving", "post", "/api/v1/handovers/{handover}/replies", {"json": {}},
                 "message", REQUIRED, {}, id="json-missing"),
    pytest.param("sending", "post", "/api/v1/drafts",
                 {"json": _draft(receiver_unit_id="four")}, "receiver_unit_id", WHOLE_NUMBER,
                 {}, id="json-not-a-number"),
    pytest.param("sending", "post", "/api/v1/drafts", {"json": _draft(form_key=7)},
                 "form_key", STRING, {}, id="json-not-a-string"),
    pytest.param("sending", "post", "/api/v1/drafts", {"json": _draft(copy_unit_ids=3)},
                 "copy_unit_ids", LIST, {}, id="json-not-a-list"),
    pytest.param("sending", "post", "/api/v1/drafts", {"json": _draft(copy_unit_ids=["x"])},
                 "copy_unit_ids.0", WHOLE_NUMBER, {}, id="json-list-item-not-a-number"),
    pytest.param("sending", "post", "/api/v1/drafts", {"json": _draft(content=["x"])},
                 "content", OBJECT, {}, id="json-not-an-object"),
    pytest.param("receiving", "post", "/api/v1/handovers/{handover}/acknowledge",
                 {"json": ["a note"]}, "body", OBJECT, {}, id="json-body-not-an-object"),
    pytest.param("receiving", "post", "/api/v1/handovers/{handover}/acknowledge",
                 {"json": {"note": None}}, "note", NOT_NULL, {}, id="json-null"),
    pytest.param("receiving", "post", "/api/v1/handovers/{handover}/acknowledge",
                 {"json": {"notes": "ok"}}, "notes", UNKNOWN, {}, id="json-unknown-field"),
    pytest.param("receiving", "post", "/api/v1/handovers/{handover}/acknowledge",
                 {"json": {"note": "x" * 2001}}, "note", AT_MOST, {"max": 2000},
                 id="json-too-long"),
    pytest.param("sending", "post", "/api/v1/drafts", {"json": _draft(legal_basis="")},
                 "legal_basis", FROM_TO, {"min": 1, "max": 100}, id="json-too-short"),
    pytest.param("sending", "post", "/api/v1/drafts", {"json": _draft(receiver_unit_id=0)},
                 "receiver_unit_id", IN_RANGE, {"min": 1, "max": LARGEST_ID},
                 id="json-out-of-range"),
    # The query (unknown names in it are ignored, and a query has no null).
    pytest.param("sending", "post", "/api/v1/fhir/QuestionnaireResponse",
                 {"json": RESPONSE, "query_string": {"legal_basis": "lsl_disclosure"}},
                 "query.receiver_unit_id", REQUIRED, {}, id="query-missing"),
    pytest.param("receiving", "get", "/api/v1/inbox", {"query_string": {"page": "two"}},
                 "query.page", WHOLE_NUMBER, {}, id="query-not-a-number"),
    pytest.param("sending", "post", "/api/v1/fhir/QuestionnaireResponse",
                 {"json": RESPONSE, "query_string": _routing(copy_unit_ids="x")},
                 "query.copy_unit_ids.0", WHOLE_NUMBER, {}, id="query-list-item-not-a-number"),
    pytest.param("audit", "get", "/api/v1/audit/events", {"query_string": {"since": "today"}},
                 "query.since", TIME, {}, id="query-not-a-time"),
    pytest.param("receiving", "get", "/api/v1/inbox", {"query_string": {"form": "x" * 101}},
                 "query.form", AT_MOST, {"max": 100}, id="query-too-long"),
    pytest.param("receiving", "get", "/api/v1/inbox", {"query_string": {"status": "lost"}},
                 "query.status", ONE_OF, {"labels": ", ".join(['""', *LIST_STATUSES])},
                 id="query-not-one-of"),
    pytest.param("audit", "get", "/api/v1/audit/events", {"query_string": {"limit": 0}},
                 "query.limit", IN_RANGE, {"min": 1, "max": 1000}, id="query-out-of-range"),
    # The headers (the only one read is optional text).
    pytest.param("sending", "post", "/api/v1/drafts",
                 {"json": _draft(), "headers": {"Idempotency-Key": "k" * 201}},
                 "Idempotency-Key", FROM_TO, {"min": 1, "max": 200},
                 id="header-too-long"),
    pytest.param("sending", "post", "/api/v1/fhir/QuestionnaireResponse",
                 {"json": RESPONSE, "query_string": _routing(),
                  "headers": {"Idempotency-Key": "k" * 201}},
                 "Idempotency-Key", FROM_TO, {"min": 1, "max": 200},
                 id="fhir-header-too-long"),
]


@pytest.mark.parametrize("accept_language, language", LANGUAGES)
@pytest.mark.parametrize("who, method, path, request_, field, text, values", REFUSALS)
def test_field_refusal_is_in_the_language_asked_for(app, ask, accept_language, language, who,
                                                    method, path, request_, field, text,
                                                    values):
    errors = ask(who, method, path, accept_language, **request_)
    assert errors[field] == _in(app, language, text, **values), errors


@pytest.mark.parametrize("text", [REQUIRED, NOT_NULL, STRING, WHOLE_NUMBER, LIST, OBJECT, TIME,
                                  UNKNOWN, AT_MOST, FROM_TO, ONE_OF, IN_RANGE,
                                  "Give a number.", "Give a smaller number.",
                                  "Give a valid value.", "Give text in UTF-8.",
                                  "Give true or false."])
def test_the_languages_really_differ(app, text):
    """Otherwise the test above would pass with a text missing from the catalogues."""
    assert len({_in(app, language, text, min=1, max=2, labels="a")
                for language in ("fi", "sv", "en")}) == 3


def _marshmallow_defaults():
    """Every English default message of marshmallow's fields, schemas and validators, and
    webargs' one, as the fixed fragments between their {placeholders}."""
    texts = {"Invalid JSON body."}
    for kind in vars(marshmallow.fields).values():
        if isinstance(kind, type) and issubclass(kind, marshmallow.fields.Field):
            texts.update(kind.default_error_messages.values())
    texts.update(marshmallow.Schema().error_messages.values())
    for kind in vars(validate).values():
        if isinstance(kind, type) and issubclass(kind, validate.Validator):
            texts.update(value for name, value in vars(kind).items()
                         if name.startswith(("message", "default_message"))
                         and isinstance(value, str))
    fragments = {part.strip(' ."') for text in texts for part in re.split(r"\{[^}]*\}", text)}
    return {fragment for fragment in fragments if len(fragment) > 3}


def test_defaults_are_found_where_they_are_used():
    """The search below would find nothing if it looked for the wrong texts."""
    defaults = _marshmallow_defaults()
    assert {"Not a valid integer", "Unknown field", "Longer than maximum length",
            "Must be one of:", "Missing data for required field"} <= defaults


def test_no_finnish_answer_carries_marshmallow_english(app, ask):
    """Every refusal above, and a body with every field wrong at once, asked in Finnish."""
    defaults = _marshmallow_defaults()
    requests = [param.values[:4] for param in REFUSALS] + [
        ("sending", "post", "/api/v1/drafts", {"json": {
            "form_key": None, "receiver_unit_id": "x", "copy_unit_ids": [None, "y", 2**70],
            "legal_basis": 3, "content": "text", "extra": 1},
            "headers": {"Idempotency-Key": ""}}),
        ("receiving", "post", "/api/v1/handovers/{handover}/reply-forms/ward_reply",
         {"json": {"content": None}}),
        ("sending", "post", "/api/v1/fhir/QuestionnaireResponse",
         {"json": {"status": "completed"}, "query_string": _routing()}),
        ("audit", "get", "/api/v1/audit/events", {"query_string": {
            "after_id": -1, "unit_id": "u", "until": "2026-01-01T00:00:00",
            "action": "a" * 65, "child_hash": "c" * 65}}),
    ]
    seen = 0
    for who, method, path, request_ in requests:
        finnish = ask(who, method, path, "fi", **dict(request_))
        english = ask(who, method, path, "en", **dict(request_))
        for field, message in finnish.items():
            seen += 1
            assert not [text for text in defaults if text in message], (field, message)
            assert message != english[field], (path, field, message)
    assert seen >= len(REFUSALS) + 15


def _all_input_schemas(kind=InputSchema):
    for schema in kind.__subclasses__():
        yield schema
        yield from _all_input_schemas(schema)


def _fields_in(field):
    yield field
    for inner in (getattr(field, "inner", None), getattr(field, "key_field", None),
                  getattr(field, "value_field", None)):
        if inner is not None:
            yield from _fields_in(inner)


@pytest.mark.parametrize("schema", list(_all_input_schemas()), ids=lambda kind: kind.__name__)
def test_every_message_an_input_schema_has_is_translated(schema):
    """A field kind with no texts of its own would answer in English: caught here, before any
    request finds it. (``format`` is used only when writing a value out.)"""
    bound = schema()
    assert all(not isinstance(message, str) for message in bound.error_messages.values())
    for name, declared in bound.fields.items():
        for field in _fields_in(declared):
            english = {key: message for key, message in field.error_messages.items()
                       if key != "format" and isinstance(message, str)}
            assert not english, (schema.__name__, name, type(field).__name__, english)
            for check in field.validators:
                if isinstance(check, validate.Validator):
                    assert check.error is not None, (schema.__name__, name, check)


def test_a_body_that_is_not_json_is_refused_without_marshmallow_english(client, api):
    answer = client.post("/api/v1/drafts", data="{not json", content_type="application/json",
                         headers={**bearer(api["sending"]), "Accept-Language": "fi"})
    assert answer.status_code == 400
    said = " ".join([answer.json["message"], *(e["message"] for e in answer.json["errors"])])
    assert not [text for text in _marshmallow_defaults() if text in said], answer.json
