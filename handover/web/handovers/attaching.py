"""Attaching a file from a fill page: the section page and the one-page form post the file
with the typed fields (saved just before), so adding a file never drops typing."""

from flask import flash, redirect, request
from flask_login import current_user

from handover.i18n import gettext as _
from handover.services import attachments as attachment_service
from handover.services import policy
from handover.store.database import db


def attach_file(handover_id, back_to):
    """Attach the file posted with the section's form (its typing was saved just before) and
    return to the attachments on the same page."""
    granted = policy.require(current_user, handover_id, "attach")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to attach."), "error")
        return redirect(back_to)
    limit = attachment_service.max_bytes()
    data = upload.stream.read(limit + 1)
    try:
        attachment_service.add(granted, current_user, upload.filename, data)
    except attachment_service.AttachmentRejected:
        db.session.rollback()
        if len(data) > limit:
            message = _("The file is too large: at most %(mb)s MB is allowed.",
                        mb=max(limit // (1024 * 1024), 1))
        elif not data:
            message = _("The file is empty.")
        else:
            message = _("Only PDF, JPEG and PNG files can be attached.")
        flash(message, "error")
        return redirect(back_to)
    flash(_("File attached."), "success")
    return redirect(back_to)
