"""The one shape of every refusal under /api/ (``{"status", "message", "errors"}``), made
here for the error handlers (`errors`) and for the views and checks that answer one
themselves. A leaf: it imports nothing of the API's, so that any of its modules can use it."""

from flask import jsonify

from handover.i18n import gettext as _


def problem(status, message, errors=None, headers=None):
    body = {"status": status, "message": str(message), "errors": errors or []}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def several_errors():
    """The message of a 422 that lists errors of more than one kind, each at its field."""
    return _("The request has errors; each is listed with its field.")


def field_errors(found, prefix=""):
    """``{path: [messages]}`` as a list of ``{"path", "message"}``, one per message."""
    return [{"path": f"{prefix}{path}", "message": str(message)}
            for path, messages in found.items() for message in messages]
