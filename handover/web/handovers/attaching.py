"""Attaching a file from a fill page: the section page and the one-page form post the file
with the typed fields (saved just before), so adding a file never drops typing; removing one
goes the same way (its button is in the same form). A file's size reads in the page's
language (`file_size`)."""

from babel.units import format_unit
from flask import flash, redirect, request
from flask_login import current_user

from handover.i18n import gettext as _
from handover.services import attachments as attachment_service
from handover.services import policy
from handover.store.database import db
from handover.web import posted_id
from handover.web.handovers import bp
from handover.web.ui import language

#: The posted name of a fill page's "Remove" button; its value is the attachment's id.
REMOVE = "remove_attachment"


def attach_file(handover_id, back_to, show_refusal):
    """Attach the file posted with the section's form (its typing was saved just before) and
    return to the attachments on the same page. A file refused (none chosen, too large, of
    another type) is told as any field's error is: ``show_refusal(message)`` answers with the
    page again, the message at the file input and in the error summary."""
    granted = policy.require(current_user, handover_id, "attach")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return show_refusal(_("Choose a file to attach."))
    limit = attachment_service.max_bytes()
    data = upload.stream.read(limit + 1)
    try:
        attachment_service.add(granted, current_user, upload.filename, data)
    except attachment_service.AttachmentRejected:
        db.session.rollback()
        return show_refusal(_refusal(data, limit))
    flash(_("File attached."), "success")
    return redirect(back_to)


def _refusal(data, limit):
    """Why the service refused the file's ``data``, in words."""
    if len(data) > limit:
        return _("The file is too large: at most %(mb)s MB is allowed.",
                 mb=max(limit // (1024 * 1024), 1))
    if not data:
        return _("The file is empty.")
    return _("Only PDF, JPEG and PNG files can be attached.")


def told_on_the_page(back_to):
    """For a file posted without a fill page to show again (``upload``): the refusal is a
    notice on the page it returns to."""
    def show_refusal(message):
        flash(message, "error")
        return redirect(back_to)
    return show_refusal


def remove_file(handover_id, back_to):
    """Remove the attachment whose "Remove" button was pressed in a fill page's form (the
    typing around it was saved just before) and return to the attachments on the same page."""
    granted = policy.require(current_user, handover_id, "attach")
    chosen = posted_id(request.form.get(REMOVE))
    try:
        if chosen is None:
            raise LookupError("no such attachment")
        attachment_service.remove(granted, current_user, chosen)
    except (LookupError, ValueError):
        raise policy.NotFound(chosen) from None
    flash(_("File removed."), "success")
    return redirect(back_to)


@bp.app_template_global()
def file_size(size):
    """A file's size as people read it in the page's language: "9,8 Mt", "120 kt" in Finnish,
    "9,8 MB" in Swedish, "9.8 MB" in English (never "10240.0 kB")."""
    size = max(int(size or 0), 0)
    if size >= 1024 * 1024:
        value, unit = size / (1024 * 1024), "digital-megabyte"
    else:
        value, unit = max(size / 1024, 0.1), "digital-kilobyte"
    return format_unit(round(value, 1), unit, length="short", format="#,##0.#",
                       locale=language())
