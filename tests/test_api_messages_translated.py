"""The inbox's paging and time-filter refusals and the FHIR import's refusals are in the
language the request asks for (Accept-Language: fi, sv, en; Finnish otherwise), like the API's
other errors, rather than in English whatever the client asked."""

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from flask_babel import force_locale
from lifecycle_support import FORM_KEY

from handover.i18n import gettext
from handover.services.fhir.importing import REFERENCE_FORM

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

LANGUAGES = [("fi", "fi"), ("sv-FI, sv;q=0.9", "sv"), ("en", "en"), ("de", "fi")]


def _in(app, language, text, **variables):
    """``text`` as a reader of ``language`` sees it."""
    with app.test_request_context(), force_locale(language):
        return gettext(text, **variables)


def _asking_in(token, accept_language):
    return {**bearer(token), "Accept-Language": accept_language}


def _refused(answer):
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    return answer.json["message"], {e["path"]: e["message"] for e in answer.json["errors"]}


INBOX_REFUSALS = [
    pytest.param({"page": 0}, "query.page", "Give a number from {min} to {max}.",
                 id="page-too-small"),
    pytest.param({"page": 1001}, "query.page", "Give a number from {min} to {max}.",
                 id="page-too-large"),
    pytest.param({"sent_from": "2026-12-01T00:00:00"}, "query.sent_from",
                 "Give the time with its offset from UTC, for example "
                 "2026-12-01T00:00:00+02:00.", id="time-without-offset"),
    pytest.param({"cursor": "not-ours"}, "query.cursor",
                 "This cursor was not given by this server, or it was changed. Start again "
                 "from the first page.", id="cursor-not-ours"),
]


@pytest.mark.parametrize("accept_language, language", LANGUAGES)
@pytest.mark.parametrize("query, path, text", INBOX_REFUSALS)
def test_inbox_paging_refusals_follow_accept_language(app, client, api, accept_language,
                                                      language, query, path, text):
    answer = client.get("/api/v1/inbox", query_string=query,
                        headers=_asking_in(api["receiving"], accept_language))
    _message, errors = _refused(answer)
    expected = _in(app, language, text)
    assert errors[path] == expected.format(min=1, max=1000)


def _import(client, token, accept_language, resource):
    routing = {"receiver_unit_id": 2, "legal_basis": "lsl_disclosure"}
    return client.post("/api/v1/fhir/QuestionnaireResponse", query_string=routing,
                       json=resource, headers=_asking_in(token, accept_language))


def _response(reference, **fields):
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": reference, **fields}


FHIR_REFUSALS = [
    pytest.param(_response("http://elsewhere.example/Questionnaire/1"), "questionnaire",
                 "Expected a Questionnaire of this server (%(reference)s).", id="not-ours"),
    pytest.param(_response(f"urn:handover:questionnaire:{FORM_KEY}|one"), "questionnaire",
                 "Expected a whole number as the version (%(reference)s).", id="version"),
    pytest.param({**_response(f"urn:handover:questionnaire:{FORM_KEY}"),
                  "resourceType": "Questionnaire"}, "resourceType",
                 "Expected a QuestionnaireResponse.", id="not-a-response"),
    pytest.param(_response("urn:handover:questionnaire:no_such_form"), "questionnaire",
                 "This server has no such form.", id="unknown-form"),
]


@pytest.mark.parametrize("accept_language, language", LANGUAGES)
@pytest.mark.parametrize("resource, path, text", FHIR_REFUSALS)
def test_fhir_import_refusals_follow_accept_language(app, client, api, accept_language,
                                                     language, resource, path, text):
    message, errors = _refused(_import(client, api["sending"], accept_language, resource))
    assert message == _in(app, language, "The resource cannot be made into a draft.")
    assert errors[path] == _in(app, language, text, reference=REFERENCE_FORM)


@pytest.mark.parametrize("accept_language, language", LANGUAGES)
def test_a_resource_fhir_refuses_is_explained_in_the_language_asked_for(
        app, client, api, accept_language, language):
    """The FHIR validator's own words are English only; the sentence around them is not."""
    resource = _response(f"urn:handover:questionnaire:{FORM_KEY}", authored="yesterday")
    message, errors = _refused(_import(client, api["sending"], accept_language, resource))
    assert message == _in(app, language, "The resource cannot be made into a draft.")
    prefix = _in(app, language, "Not valid in FHIR R4: %(problem)s", problem="")
    assert errors["authored"].startswith(prefix) and len(errors["authored"]) > len(prefix)


@pytest.mark.parametrize("text", [
    "Give a number from {min} to {max}.", "The resource cannot be made into a draft.",
    "This cursor was not given by this server, or it was changed. Start again from the "
    "first page."])
def test_the_languages_really_differ(app, text):
    """Otherwise the tests above would pass with every answer in English."""
    assert len({_in(app, language, text) for language in ("fi", "sv", "en")}) == 3
