"""The JSON API at /api/v1: a thin layer over the same services and access policy as the pages.

Only bearer tokens of integration clients are accepted (`auth`): the browser's session cookie
is not even read here, so it alone gets 401, and CSRF protection (which guards cookie-borne
form posts) is off for this blueprint only. A token is looked up by Flask-Login's request
loader, which answers only for requests to this blueprint, so a token never opens a web page,
and `current_user` is the client (`integration_clients.ClientActor`) wherever a service or the
audit log asks for it. Each client's requests are counted by the app's one limiter, and
so are refused tokens (`token_refusals`), per client or per address.

The OpenAPI 3.1 document is served by APIFlask at /api/v1/openapi.json; /api/v1/reference
renders it as a page (no script, no CDN).
"""

from importlib import import_module

from apiflask import APIBlueprint
from flask import current_app, g, redirect, request, url_for

from handover import i18n
from handover.security.sessions import login_manager, look_up_nobody
from handover.web.api import auth
from handover.web.csrf import csrf

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Handover")
csrf.exempt(bp)

VIEW_MODULES = ("handover.web.api.errors", "handover.web.api.bodies",
                "handover.web.api.handovers",
                "handover.web.api.forms", "handover.web.api.fhir_views",
                "handover.web.api.audit_export",
                "handover.web.api.reference")


def is_api_request():
    return request.blueprint == bp.name or request.path.startswith("/api/")


@bp.record_once
def _load_client_for_api_requests(state):
    login_manager.request_loader(_client_of_request)
    # Every error answer of the API has one shape, and the document says so.
    from handover.web.api.schemas import PROBLEM_SCHEMA

    state.app.config["HTTP_ERROR_SCHEMA"] = PROBLEM_SCHEMA
    state.app.config["VALIDATION_ERROR_SCHEMA"] = PROBLEM_SCHEMA
    # A 401 comes before any client, and routing's 404 and 405 from no blueprint: these too
    # are in the language the request asks for, as an authenticated client's answers are.
    i18n.answer_in_accept_language(state.app, is_api_request)
    state.app.add_url_rule("/api", "api_root", _to_the_reference)
    state.app.spec_processor(_as_documented)


#: The media type of FHIR's JSON, which the FHIR import reads as well as JSON's.
FHIR_JSON = "application/fhir+json"


def _as_documented(spec):
    """The document as APIFlask makes it, through APIFlask's public hook for changing it."""
    return _fhir_bodies(_parameters_as_openapi_3_1(spec))


def _fhir_bodies(spec):
    """A body that is a FHIR resource (the `FhirResource` schema) is read as FHIR's JSON as
    well as JSON's, and the document lists both (APIFlask's ``input`` names only JSON's)."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(
                operation, dict) else {}
            schema = content.get("application/json", {}).get("schema", {})
            if str(schema.get("$ref", "")).endswith("/FhirResource"):
                operation["requestBody"]["content"] = {FHIR_JSON: schema, **content}
    return spec


def _parameters_as_openapi_3_1(spec):
    """APIFlask describes query and header parameters through apispec in OpenAPI 3.0 mode
    (``nullable``, which 3.1 dropped), while the rest of the document is 3.1. A parameter is
    either given or absent, never null on the wire: its schema loses ``nullable`` and the
    ``null`` default that only says "absent"."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()) if isinstance(
                    operation, dict) else ():
                schema = parameter.get("schema", {})
                schema.pop("nullable", None)
                if "default" in schema and schema["default"] is None:
                    del schema["default"]
    return spec


@bp.doc(hide=True)   # a way in for people, not an operation of the API
def _to_the_reference():
    """``/api`` (without its slash) is not under /api/, where every answer is JSON: it leads to
    the API's reference page instead of the web pages' HTML 404."""
    return redirect(url_for("api.reference"))


def _client_of_request(req):
    """Flask-Login's request loader: the client of a valid bearer token, on API requests only."""
    if req.blueprint != bp.name:
        return None
    return auth.client_of_request()


@bp.url_value_preprocessor
def _no_cookie_sessions(_endpoint, _values):
    """The cookie session is never read for an API request (`look_up_nobody`): the request
    acts as its token's client alone. A URL value preprocessor runs before every
    ``before_request`` function, the application's too; an application-wide one that asked
    for ``current_user`` first (the password-change check) had the browser's cookie load its
    person, and a token's request then acted as that person, in their units."""
    look_up_nobody()
    g.api_request = True


@bp.before_request
def _count_the_clients_request():
    """Each authenticated client's requests are counted against its limit."""
    return auth.count_request(current_app)


for _name in VIEW_MODULES:
    import_module(_name)
