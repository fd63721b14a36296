"""Every refusal under /api/ as JSON: ``{"status", "message", "errors": [{"path", "message"}]}``.

The same domain exceptions as the pages (`handover.web.errors`), mapped to API answers: what is
not the client's is 404 exactly like what does not exist; a state the action no longer fits
is 409 with the same message a person sees; content that fails the form's rules is 422 with
every problem and its field path, in the form's own words.
"""

from apiflask.exceptions import HTTPError
from flask import request
from werkzeug.exceptions import HTTPException

from handover.i18n import gettext as _
from handover.security import crypto
from handover.services import ContentErased, LifecycleError, policy, record_integrity_failure
from handover.services.accounts import AccountError
from handover.services.drafts import ValidationFailed
from handover.services.idempotency_keys import IdempotencyConflict, IdempotencyPending
from handover.services.listing import InvalidIdentityCode
from handover.services.routing import RouteRefused
from handover.web.api import bp
from handover.web.api.auth import client_of_request
from handover.web.api.problems import field_errors, problem, several_errors
from handover.web.errors import INTEGRITY_MESSAGE, MESSAGES


@bp.errorhandler(policy.NotFound)
def _not_found(error):
    return problem(404, MESSAGES[404]())


@bp.errorhandler(ValidationFailed)
def _invalid(error):
    return problem(422, _("The content does not pass the form's checks."),
                   field_errors(error.errors, "content."))


@bp.errorhandler(IdempotencyConflict)
def _key_reused(error):
    return problem(422, _("This Idempotency-Key was already used for a different request."),
                   [{"path": "Idempotency-Key", "message": _("Use a new key.")}])


@bp.errorhandler(IdempotencyPending)
def _key_in_use(error):
    return problem(409, _("A request with this Idempotency-Key is still being answered. "
                          "Try again in a moment."),
                   [{"path": "Idempotency-Key", "message": _("Try again in a moment.")}],
                   headers={"Retry-After": "1"})


@bp.errorhandler(InvalidIdentityCode)
def _bad_code(error):
    return problem(422, str(error), [{"path": "identity_code", "message": str(error)}])


@bp.errorhandler(RouteRefused)
def _route_refused(error):
    return problem(422, str(error), [{"path": "routing", "message": str(error)}])


@bp.errorhandler(ContentErased)
def _erased(error):
    return problem(410, MESSAGES[410]())


@bp.errorhandler(LifecycleError)
def _refused(error):
    return problem(409, str(error) or MESSAGES[409]())


@bp.errorhandler(AccountError)
def _account(error):
    return problem(400, error.translated())


@bp.errorhandler(crypto.TamperedRecord)
def _tampered(error):
    record_integrity_failure((request.view_args or {}).get("handover_id"),
                             actor=client_of_request())
    return problem(409, str(INTEGRITY_MESSAGE))


@bp.errorhandler(HTTPError)
def _request_invalid(error):
    """APIFlask's refusal of a body, query or header that does not fit the schema."""
    errors = []
    for location, fields in (error.detail or {}).items():
        # A header's own name is its path, as a refusal of the Idempotency-Key's use says it.
        bare = location in ("json", "headers")
        errors += _flatten(fields, "" if bare else f"{location}.", location)
    if error.status_code == 422:
        message = several_errors()
    else:
        message = MESSAGES.get(error.status_code, lambda: error.message)()
    return problem(error.status_code, message, errors, headers=error.headers)


@bp.errorhandler(HTTPException)
def _http(error):
    headers = {name: value for name, value in error.get_headers() if name == "Allow"}
    code = error.code or 500
    return problem(code, MESSAGES.get(code, lambda: error.description)(), headers=headers)


@bp.errorhandler(400)
def _bad_request(error):
    """A body that is not JSON (syntax, or not UTF-8) is said as the API says it, not with
    the web page's "go back and try again". Flask looks for a handler of the code (the app's,
    `handover.web.errors`) before this blueprint's handler of every `HTTPException`, hence
    one of its own. webargs' refusal keeps its messages on the exception's ``data``."""
    if "json" in (getattr(error, "data", None) or {}).get("messages", {}):
        return not_json()
    return _http(error)


def not_json():
    """The answer to a body that is not JSON (its syntax, or not UTF-8)."""
    return problem(400, _("The request body is not valid JSON: check its syntax and that "
                          "it is in UTF-8."))


@bp.errorhandler(413)
def _too_large(error):
    """An API request uploads no file: the web page's "the upload is too large" would send an
    integrator looking for one. Its own handler for the reason `_bad_request` has one. It
    says the limit, so that the client knows what to send instead."""
    limit = request.max_content_length
    if not limit:
        return problem(413, _("The request body is too large."))
    if limit % MEGABYTE == 0:
        return problem(413, _("The request body is too large: at most %(megabytes)s MB.",
                              megabytes=limit // MEGABYTE))
    return problem(413, _("The request body is too large: at most %(bytes)s bytes.",
                          bytes=limit))


MEGABYTE = 1024 * 1024


#: What a refusal of the whole body, query or headers (marshmallow's ``_schema``) is called.
WHOLE = {"json": "body"}


def _flatten(fields, prefix, location=""):
    found = []
    for key, value in fields.items():
        if key == "_schema":   # marshmallow's name for "the whole of it": the parent's path
            path = prefix.rstrip(".") or WHOLE.get(location, location)
            found += [{"path": path, "message": str(m)} for m in value]
        elif isinstance(value, dict):
            found += _flatten(value, f"{prefix}{key}.", location)
        else:
            found += [{"path": f"{prefix}{key}", "message": str(m)} for m in value]
    return found
