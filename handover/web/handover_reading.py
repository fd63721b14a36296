"""Views on one sent handover: read, print, acknowledge, reply, withdraw, correct, attachments.

Registered on the `handovers` blueprint. A record that fails its integrity check is never shown:
the blueprint's error handler audits it and answers 409 with a plain explanation.
"""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from handover.i18n import gettext as _
from handover.security import crypto
from handover.services import (
    AlreadyAcknowledged,
    ContentErased,
    LifecycleError,
    definition_of,
    reading,
    record_integrity_failure,
    replies,
    withdrawal,
)
from handover.services import attachments as attachment_service
from handover.services import policy as access
from handover.services.notifications import is_overdue
from handover.store.database import db
from handover.store.models import Handover, User
from handover.store.models.base import utcnow
from handover.web import handover_forms as forms
from handover.web.handover_views import build_reply_form, language, status_label
from handover.web.handovers import bp

INTEGRITY_MESSAGE = ("This record failed its integrity check and is not shown; "
                     "the event was logged.")


@bp.errorhandler(crypto.TamperedRecord)
def tampered(error):
    handover_id = (request.view_args or {}).get("handover_id")
    record_integrity_failure(handover_id, actor=current_user)
    return render_template("errors/error.html", code=409, message=_(INTEGRITY_MESSAGE)), 409


def _reader_context(granted):
    """Everything the view and print pages show, decrypted for this reader."""
    handover = granted.handover
    definition = definition_of(handover)
    units = access.units_of(handover)
    context = {
        "handover": handover, "granted": granted, "definition": definition, "units": units,
        "language": language(), "content": None, "sections": None, "hide_location": False,
        "location_warning": False, "thread": [], "attachments": [], "note": None,
        "status_label": status_label, "overdue": is_overdue(handover),
        "legal_basis": _legal_basis_label(definition, handover.legal_basis),
        "replaced_by": db.session.execute(
            select(Handover.id).where(Handover.replaces_id == handover.id,
                                      Handover.status != "draft")).scalars().all()
        if handover.correction_count else [],
    }
    reading.skip_empty_lists(handover)
    if handover.erased_at is not None or handover.status == "withdrawn" and \
            granted.relation != access.SENDING:
        return context
    content = reading.content_for_reader(granted)
    if granted.relation == access.SENDING:
        sections = definition.sections
    else:
        reader_kind = units[granted.unit_id].kind
        sections = definition.visible_sections(reader_kind, granted.as_copy)
    location = definition.location_hidden(content)
    context.update(
        content=content, sections=sections, location_warning=location,
        hide_location=location and granted.as_copy,
        # Copies get the minimum: the form's visible sections, not the thread or the files.
        thread=replies.thread(handover) if not granted.as_copy else [],
        attachments=[] if granted.as_copy else [
            (a, attachment_service.name_of(handover, a)) for a in handover.attachments],
        note=reading.acknowledgement_note(handover),
        authors={user.id: user for user in db.session.execute(
            select(User).where(User.id.in_([r.author_id for r in handover.replies]))
        ).scalars()} if handover.replies else {},
    )
    return context


def _legal_basis_label(definition, key):
    for choice in definition.legal_bases:
        if choice.value == key:
            return choice.label_in(language())
    return key


@bp.get("/<int:handover_id>")
@login_required
def view(handover_id):
    user = current_user._get_current_object()  # one look-up instead of one per touch
    granted = access.require(user, handover_id, "read", with_units=True, with_counts=True)
    if granted.handover.status == "draft":
        return redirect(url_for(".edit", handover_id=handover_id))
    # Everything the page shows is read (and checked) first, then the view is logged and
    # committed, then the page is rendered from what was read: one transaction, and the
    # audit chain's lock is held only for the write at its end.
    context = _reader_context(granted)
    reading.record_view(granted, user)
    # Shown, not submitted here: the page writes the CSRF token into each form itself, and the
    # views the forms post to check it (a form's own token field costs 15 µs to build).
    return render_template(
        "handovers/view.html", **context,
        acknowledge_form=forms.AcknowledgeForm(meta=forms.SHOWN_ONLY),
        message_form=forms.MessageForm(meta=forms.SHOWN_ONLY),
        reply_forms=replies.reply_forms(granted.handover)
        if granted.relation == access.RECEIVING else [],
    )


@bp.get("/<int:handover_id>/print")
@login_required
def print_view(handover_id):
    granted = access.require(current_user, handover_id, "read", with_units=True, with_counts=True)
    if granted.handover.status == "draft":
        abort(404)
    context = _reader_context(granted)
    reading.record_view(granted, current_user, action="handover.printed")
    return render_template("handovers/print.html", **context, printed_at=utcnow(),
                           reader=current_user)


@bp.post("/<int:handover_id>/acknowledge")
@login_required
def acknowledge(handover_id):
    granted = access.require(current_user, handover_id, "acknowledge")
    form = forms.AcknowledgeForm()
    if not form.validate_on_submit():
        return _back_to_view(handover_id, _("The note is too long."), "error")
    try:
        reading.acknowledge(granted, current_user, form.note.data)
    except AlreadyAcknowledged:
        return _back_to_view(handover_id, _("This handover has already been acknowledged."), "info")
    except LifecycleError:
        return _back_to_view(handover_id, _("This handover can no longer be acknowledged."),
                             "error")
    return _back_to_view(handover_id, _("Receipt acknowledged."), "success")


@bp.post("/<int:handover_id>/reply")
@login_required
def reply(handover_id):
    granted = access.require(current_user, handover_id, "reply")
    form = forms.MessageForm()
    if not form.validate_on_submit():
        return _back_to_view(handover_id, _("Write a message of at most 5000 characters."), "error")
    try:
        replies.add_message(granted, current_user, form.message.data)
    except (LifecycleError, ContentErased):
        return _back_to_view(handover_id, _("This handover cannot be replied to."), "error")
    return _back_to_view(handover_id, _("Reply sent."), "success", anchor="thread")


@bp.route("/<int:handover_id>/reply/<form_key>", methods=["GET", "POST"])
@login_required
def reply_form(handover_id, form_key):
    granted = access.require(current_user, handover_id, "reply")
    definition = replies.reply_form(granted.handover, form_key)
    if definition is None or granted.relation != access.RECEIVING:
        access.deny(current_user, handover_id, "reply_form")
    form = build_reply_form(definition)
    if request.method == "POST" and not form.add_row_requested and form.validate():
        try:
            replies.add_form_reply(granted, current_user, form_key, form.content())
        except (LifecycleError, ContentErased):
            return _back_to_view(handover_id, _("This handover cannot be replied to."), "error")
        return _back_to_view(handover_id, _("Reply sent."), "success", anchor="thread")
    status = 400 if request.method == "POST" else 200
    return render_template("handovers/reply_form.html", handover=granted.handover,
                           definition=definition, form=form, language=language()), status


@bp.post("/<int:handover_id>/withdraw")
@login_required
def withdraw(handover_id):
    granted = access.require(current_user, handover_id, "withdraw")
    try:
        withdrawal.withdraw(granted, current_user)
    except LifecycleError:
        return _back_to_view(
            handover_id, _("This handover can no longer be withdrawn: it has been opened."),
            "error")
    return _back_to_view(handover_id, _("The handover was withdrawn."), "success")


@bp.post("/<int:handover_id>/correct")
@login_required
def correct(handover_id):
    granted = access.require(current_user, handover_id, "correct")
    try:
        new = withdrawal.correct(granted, current_user)
    except (LifecycleError, ContentErased):
        return _back_to_view(handover_id, _("This handover cannot be corrected."), "error")
    flash(_("A correction was started. Change what is needed and send it."), "success")
    return redirect(url_for(".edit", handover_id=new.id))


@bp.post("/<int:handover_id>/attachments")
@login_required
def upload(handover_id):
    granted = access.require(current_user, handover_id, "attach")
    form = forms.AttachmentForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to attach."), "error")
        return redirect(url_for(".edit", handover_id=handover_id))
    upload = form.file.data
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
        return redirect(url_for(".edit", handover_id=handover_id))
    flash(_("File attached."), "success")
    return redirect(url_for(".edit", handover_id=handover_id))


@bp.get("/<int:handover_id>/attachments/<int:attachment_id>")
@login_required
def download(handover_id, attachment_id):
    granted = access.require(current_user, handover_id, "read")
    handover = granted.handover
    if granted.relation == access.COPY or (
            handover.status == "withdrawn" and granted.relation != access.SENDING):
        # Attachments are not part of the minimum a copy receives.
        access.deny(current_user, handover_id, "attachment")
    try:
        name, media_type, data = attachment_service.download(granted, current_user,
                                                             attachment_id)
    except LookupError:
        abort(404)
    except ContentErased:
        abort(410)
    response = make_response(data)
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = _disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _disposition(name):
    from urllib.parse import quote

    return f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(name or 'file')}"


@bp.post("/<int:handover_id>/attachments/<int:attachment_id>/delete")
@login_required
def delete_attachment(handover_id, attachment_id):
    granted = access.require(current_user, handover_id, "attach")
    try:
        attachment_service.remove(granted, current_user, attachment_id)
    except LookupError:
        abort(404)
    except attachment_service.AttachmentRejected:
        abort(409)
    flash(_("File removed."), "success")
    return redirect(url_for(".edit", handover_id=handover_id))


def _back_to_view(handover_id, message, category, anchor=None):
    """Every action on a handover ends on its page with one message saying what happened."""
    flash(message, category)
    return redirect(url_for(".view", handover_id=handover_id, _anchor=anchor))
