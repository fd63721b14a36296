"""Error pages: a clear message in the user's language, never a stack trace."""

from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFError

from handover.i18n import gettext as _

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: lambda: _("The request could not be understood. Go back and try again."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("The page was not found, or you do not have access to it."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The upload is too large."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on the server. Nothing you saved has been lost."),
    503: lambda: _("The service is temporarily unavailable. Try again in a moment."),
}


def _render(code, message=None):
    return render_template("errors/error.html", code=code,
                           message=message or MESSAGES[code]()), code


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return _render(400, _("The form expired or was sent from elsewhere. Reload the page and "
                          "send it again."))


for _code in MESSAGES:
    bp.app_errorhandler(_code)(lambda error, code=_code: _render(code))
