"""The API answers in the language its request asks for (Accept-Language: fi, sv, en; Finnish
otherwise), also before any client is known: a missing or unknown token's 401, and routing's
own 404 and 405 under /api/, which belong to no blueprint. The web pages still ignore
Accept-Language (`i18n.select_locale`)."""

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from flask_babel import force_locale

from handover.i18n import gettext

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

TOKEN_REQUIRED = "A valid bearer token is required."
NOT_FOUND = "The page was not found, or you do not have access to it."
NOT_ALLOWED = "This action is not allowed here."


def _in(app, language, text):
    """``text`` as a reader of ``language`` sees it."""
    with app.test_request_context(), force_locale(language):
        return gettext(text)


def _asking_in(accept_language, token=None):
    headers = bearer(token) if token else {}
    headers.pop("Accept-Language", None)
    return {**headers, "Accept-Language": accept_language} if accept_language else headers


REFUSALS_BEFORE_ANY_CLIENT = [
    pytest.param("get", "/api/v1/inbox", None, 401, TOKEN_REQUIRED, id="no-token"),
    pytest.param("get", "/api/v1/inbox", "hov_unknown", 401, TOKEN_REQUIRED, id="unknown-token"),
    pytest.param("get", "/api/v1/handovers/not-a-number", "receiving", 404, NOT_FOUND,
                 id="routing-404"),
    pytest.param("get", "/api/v1/no-such-operation", None, 404, NOT_FOUND, id="unknown-path"),
    pytest.param("delete", "/api/v1/inbox", "receiving", 405, NOT_ALLOWED, id="routing-405"),
]


@pytest.mark.parametrize("accept_language, language", [
    ("en", "en"), ("sv-FI, sv;q=0.9", "sv"), ("fi", "fi"), ("de, en;q=0.5", "en"),
    ("de", "fi"), (None, "fi")])
@pytest.mark.parametrize("method, path, token, status, text", REFUSALS_BEFORE_ANY_CLIENT)
def test_refusal_before_any_client_is_in_the_language_asked_for(
        app, client, api, accept_language, language, method, path, token, status, text):
    token = api[token] if token in api else token   # a unit's token, or a made-up one
    answer = getattr(client, method)(path, headers=_asking_in(accept_language, token))
    assert answer.status_code == status
    assert answer.json["message"] == _in(app, language, text)


def test_the_languages_really_differ(app):
    """Otherwise the test above would pass with every answer in Finnish."""
    assert len({_in(app, language, TOKEN_REQUIRED) for language in ("fi", "sv", "en")}) == 3


@pytest.mark.parametrize("accept_language, language", [("en", "en"), ("sv", "sv"), ("de", "fi")])
def test_authenticated_client_is_answered_in_the_language_asked_for(
        app, client, api, accept_language, language):
    answer = client.get("/api/v1/handovers/999999",
                        headers=_asking_in(accept_language, api["receiving"]))
    assert answer.status_code == 404
    assert answer.json["message"] == _in(app, language, NOT_FOUND)


def test_routing_405_still_names_the_allowed_methods(client, api):
    answer = client.delete("/api/v1/inbox", headers=_asking_in("en", api["receiving"]))
    assert answer.status_code == 405
    assert "GET" in answer.headers["Allow"]


@pytest.mark.parametrize("path", ["/accessibility", "/no-such-page"])
def test_web_pages_ignore_accept_language(client, path):
    """A shared ward computer set to English must not switch a Finnish user's pages."""
    page = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fi">' in page
