"""Bearer tokens of integration clients, scopes, and the per-client request limit.

A scope the client lacks is 403; a missing, unknown, expired or revoked token is 401, with
``WWW-Authenticate: Bearer`` (429 when such refusals go on: `token_refusals`). The scopes are
APIFlask "roles", so the OpenAPI document names the one each operation needs.
"""

import re
import time

from apiflask import HTTPTokenAuth
from flask import current_app, g, request
from limits import parse

from handover.i18n import gettext as _
from handover.security.throttle import limiter
from handover.services import integration_clients
from handover.web.api import token_refusals
from handover.web.api.problems import problem

auth = HTTPTokenAuth(scheme="Bearer", description=(
    "The integration client's token, created by an administrator and shown once."))

#: Requests one client may make per minute unless the configuration says otherwise.
DEFAULT_LIMIT = "600/minute"


def client_of_request():
    """The `ClientActor` of this request's bearer token (looked up once per request). A known
    token refused is kept on `g` for the answer (`token_refusals`)."""
    if "api_client" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        g.api_client = g.api_token_refused = None
        if scheme.lower() == "bearer":
            try:
                g.api_client = integration_clients.authenticate(
                    token.strip(), language=_language())
            except integration_clients.TokenRefused as refused:
                g.api_token_refused = refused
    return g.api_client


def _language():
    languages = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


@auth.verify_token
def _verify(token):
    return client_of_request()


@auth.get_user_roles
def _scopes(client):
    return list(client.scopes)


@auth.error_processor
def _refused(error):
    if error.status_code == 403:
        needed = _scopes_of_view()
        if needed:
            return problem(403, _("This client's token does not have the scope for this: it "
                                  "needs %(scopes)s.", scopes=", ".join(needed)))
        return problem(403, _("This client's token does not have the scope for this."))
    return token_refusals.answer()


#: A rule's variable (``<int:handover_id>``) as the OpenAPI document writes it (``{handover_id}``).
_RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def _scopes_of_view():
    """The scopes the operation being answered needs, as the OpenAPI document lists them
    under its ``security`` (APIFlask's public record of the ``roles`` it was given)."""
    rule = request.url_rule
    if rule is None:
        return []
    return _scopes_by_operation(current_app).get(
        (_RULE_VARIABLE.sub(r"{\1}", rule.rule), request.method.lower()), [])


def _scopes_by_operation(app):
    """{(path, method): scopes} of every operation, read once per app from its OpenAPI
    document (``app.spec`` builds the whole document on every call)."""
    found = app.extensions.get(_SCOPES)
    if found is None:
        found = app.extensions[_SCOPES] = {
            (path, method): [str(scope) for requirement in operation.get("security", ())
                             for scopes in requirement.values() for scope in scopes]
            for path, item in app.spec.get("paths", {}).items()
            for method, operation in item.items() if isinstance(operation, dict)}
    return found


#: Where an app keeps `_scopes_by_operation`.
_SCOPES = "handover_api_scopes"


def count_request(app):
    """Count this request against its client's limit (`API_RATE_LIMIT`); over it, 429."""
    client = client_of_request()
    if client is None or not app.config.get("RATELIMIT_ENABLED", True):
        return None
    limit = parse(app.config.get("API_RATE_LIMIT") or DEFAULT_LIMIT)
    if not limiter.limiter.hit(limit, "api-client", str(client.client.id)):
        reset, _remaining = limiter.limiter.get_window_stats(
            limit, "api-client", str(client.client.id))
        wait = max(int(reset - time.time()), 1)
        return problem(429, _("Too many requests. Wait a minute and try again."),
                       headers={"Retry-After": str(wait)})
    return None
