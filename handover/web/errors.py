"""Error pages: a clear message in the user's language, never a stack trace.

This is also the one place where the services' domain exceptions become HTTP answers: a
handover or page the user may not see (`policy.NotFound`) is 404; an action the handover's
status no longer allows (`policy.WrongState`) leads back to the handover's own page, which is
audited and shows what can be done now; any other refusal of the lifecycle is 409, erased
content 410, a damaged record 409 (audited), and an account rule 400. A handover whose form
is not loaded on this server now (`UnknownForm`: its plugin failed, or was removed) is 503: the
handover and the request are fine, the server cannot serve that form until the administrator
installs or fixes its plugin, and then the same address works again.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from handover.formdefs.registry import UnknownForm
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import ContentErased, LifecycleError, policy, record_integrity_failure
from handover.services.accounts import AccountError
from handover.services.reading import ChangedWhileOpening
from handover.store.database import db

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: lambda: _("The request could not be understood. Go back and try again."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("The page was not found, or you do not have access to it."),
    405: lambda: _("This action is not allowed here."),
    409: lambda: _("This is no longer possible for this handover."),
    410: lambda: _("The content was erased under the retention rule."),
    413: lambda: _("The upload is too large."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on the server. Nothing you saved has been lost."),
    503: lambda: _("The service is temporarily unavailable. Try again in a moment."),
}

#: The heading of each error page: what happened, in words (the code stays in the title).
HEADINGS = {
    400: lambda: _("The request could not be handled"),
    403: lambda: _("You cannot do this"),
    404: lambda: _("Page not found"),
    405: lambda: _("This action is not allowed here"),
    409: lambda: _("This can no longer be done"),
    410: lambda: _("The content has been erased"),
    413: lambda: _("The file is too large"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Something went wrong"),
    503: lambda: _("The service is temporarily unavailable"),
}


@bp.app_template_global()
def error_heading(code):
    """The heading of the error page of ``code``, for pages rendered outside this module."""
    return HEADINGS[code]() if code in HEADINGS else _("Error")


#: Lazy, with its text written here, so that the extraction finds it for the catalogues (a
#: variable given to ``_()`` is never extracted, and the page stayed English).
INTEGRITY_MESSAGE = _l("This record failed its integrity check and is not shown; "
                       "the event was logged.")


def _render(code, message=None, headers=None, back_to=None, details=(), heading=None):
    message = message or MESSAGES[code]()
    if request.path.startswith("/api/"):   # the JSON API answers JSON, even for routing's 404
        return {"status": code, "message": str(message), "errors": []}, code, headers or {}
    return render_template("errors/error.html", code=code, message=message, back_to=back_to,
                           details=details, heading=heading), code, headers or {}


#: The fill pages a file is posted from (endpoint: the page it leads back to).
FILL_PAGES = {"handovers.edit": "handovers.edit", "handovers.section": "handovers.section",
              "handovers.upload": "handovers.edit"}


def _fill_page():
    """The page a too large post came from, when it is a draft's fill page: built from the
    address the post went to (its own route and arguments), so never anywhere else."""
    page = FILL_PAGES.get(request.endpoint or "")
    arguments = request.view_args or {}
    if page is None or "handover_id" not in arguments:
        return None
    kept = {"handover_id": arguments["handover_id"]}
    if page == "handovers.section":
        if "section_key" not in arguments:
            return None
        kept["section_key"] = arguments["section_key"]
    return url_for(page, **kept, _anchor="attachments" if page == "handovers.section"
                   else "attachments-title")


@bp.app_errorhandler(413)
def too_large(error):
    """A post larger than the server takes at all (MAX_CONTENT_LENGTH): from a fill page, the
    page names the largest file that can be attached and leads back to the page."""
    back_to = _fill_page()
    if back_to is None:
        return _render(413)
    if (request.content_length or 0) <= (request.max_content_length or 0):
        # Not the body's size: one field over what a form field may hold (a text pasted in,
        # hundreds of pages long). No file was too large.
        most = max((current_app.config.get("MAX_FORM_MEMORY_SIZE") or 0) // 1024, 1)
        return _render(413, _("A text on the page is too long to be read: one field may hold "
                              "at most %(kb)s kB.", kb=most), back_to=back_to, details=[
            _("What was sent could not be read, so it was not saved. What was saved before "
              "(with a button, or automatically while you typed) is in the draft."),
            _("Go back to the page, shorten the long text and save again."),
        ], heading=_("The text is too long"))
    most = max(current_app.config.get("ATTACHMENT_MAX_BYTES", 0) // (1024 * 1024), 1)
    return _render(413, _("The file is too large: at most %(mb)s MB is allowed.", mb=most),
                   back_to=back_to, details=[
                       _("The file was not attached, and what was sent with it could not be "
                         "read, so it was not saved. What was saved before (with a button, or "
                         "automatically while you typed) is in the draft."),
                       _("Go back to the page, check your answers and choose a smaller file."),
                   ])


def _allow(error):
    """A 405 names the methods that are allowed (``Allow``), as HTTP asks."""
    return {"Allow": ", ".join(error.valid_methods)} if getattr(
        error, "valid_methods", None) else {}


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return _render(400, _("The form expired or was sent from elsewhere. Reload the page and "
                          "send it again."))


@bp.app_errorhandler(policy.NotFound)
def not_found(error):
    return _render(404)


@bp.app_errorhandler(policy.WrongState)
def wrong_state(error):
    flash(str(error), "error")
    return redirect(url_for("handovers.view", handover_id=error.handover_id), 303)


@bp.app_errorhandler(ContentErased)
def erased(error):
    return _render(410)


@bp.app_errorhandler(UnknownForm)
def form_not_loaded(error):
    """Not the user's doing and nothing for them to fix: say that nothing is lost, and who can
    bring the form back. The registry's message (a key and a version) is for the log."""
    current_app.logger.warning("form not loaded: %s", error)
    return _render(503, _("The form of this handover is not in use on this server now: its "
                          "plugin is not loaded."),
                   heading=_("This form is not in use now"), details=[
                       _("Nothing has been lost: the handover and everything saved in it are "
                         "kept, and they open again once the plugin is back in use."),
                       _("Ask the administrator of this service to install or fix the plugin."),
                   ])


@bp.app_errorhandler(LifecycleError)
def refused(error):
    return _render(409, str(error) or None)


@bp.app_errorhandler(ChangedWhileOpening)
def changed_while_opening(error):
    """The page read the handover just before a withdrawal, a return or an erasure: asked
    again, it shows the handover as it is now (or that it is no longer the reader's)."""
    if request.method == "GET":
        return redirect(request.script_root + request.full_path.rstrip("?"))
    return _render(409, str(error))


@bp.app_errorhandler(AccountError)
def account_refused(error):
    return _render(400, error.translated())


@bp.app_errorhandler(crypto.TamperedRecord)
def tampered(error):
    handover_id = (request.view_args or {}).get("handover_id")
    record_integrity_failure(handover_id, actor=current_user)
    return _render(409, str(INTEGRITY_MESSAGE), heading=_("The record failed its integrity check"))


@bp.app_errorhandler(500)
def server_error(error):
    """The request's transaction is rolled back first: after a failed statement PostgreSQL
    refuses every other one in it, the page's own (whose session warning reads the session's
    row) too, and the browser got Werkzeug's bare English page instead of this one."""
    db.session.rollback()
    return _render(500)


for _code in set(MESSAGES) - {413, 500}:   # these have their own handlers
    bp.app_errorhandler(_code)(lambda error, code=_code: _render(code, headers=_allow(error)))
