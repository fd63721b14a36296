"""Views on one sent handover: read, print, acknowledge, reply, withdraw, correct, download an
attachment. What the reader sees, and the audit of it, come from
`handover.services.reader_view`; what they may do now from `handover.services.policy`. A record
that fails its integrity check is never shown (`handover.web.errors` answers 409)."""

from urllib.parse import quote

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from handover.i18n import gettext as _
from handover.services import (
    AlreadyAcknowledged,
    LifecycleError,
    policy,
    reading,
    replies,
    withdrawal,
)
from handover.services import attachments as attachment_service
from handover.services.reader_view import open_for_reader
from handover.store.models.base import utcnow
from handover.web.handovers import bp, forms
from handover.web.ui import language, status_label


@bp.get("/<int:handover_id>")
@login_required
def view(handover_id):
    return _handover_page(handover_id)


def _handover_page(handover_id, *, acknowledge_form=None, message_form=None):
    """The handover's page as GET shows it. A post whose form was refused passes that form, to
    show the page again (400) with what was typed and its errors instead of losing the text
    behind a redirect. Either way the page is one audited read of the client's data: a page
    shown again after a refused post shows that data again, so it is logged like any view
    (and in place of the view that the redirect's GET logged before)."""
    user = current_user._get_current_object()  # one look-up instead of one per touch
    granted = policy.require(user, handover_id, "view", with_units=True, with_counts=True)
    if granted.handover.status == "draft":
        return redirect(url_for(".edit", handover_id=handover_id))
    shown = open_for_reader(granted, user, language=language())
    refused = acknowledge_form is not None or message_form is not None
    return render_template(
        "handovers/view.html", **shown.as_dict(), language=language(),
        status_label=status_label,
        # formdata=None: the form the post did not come from starts empty, not from the post.
        acknowledge_form=acknowledge_form or forms.AcknowledgeForm(formdata=None),
        message_form=message_form or forms.MessageForm(formdata=None),
        reply_forms=replies.reply_forms(granted.handover)
        if granted.allows("reply_form") else [],
    ), 400 if refused else 200


@bp.get("/<int:handover_id>/print")
@login_required
def print_view(handover_id):
    user = current_user._get_current_object()
    granted = policy.require(user, handover_id, "print", with_units=True, with_counts=True)
    shown = open_for_reader(granted, user, language=language(), action="handover.printed")
    return render_template("handovers/print.html", **shown.as_dict(), language=language(),
                           status_label=status_label, printed_at=utcnow(), reader=user)


@bp.post("/<int:handover_id>/acknowledge")
@login_required
def acknowledge(handover_id):
    granted = policy.require(current_user, handover_id, "acknowledge")
    form = forms.AcknowledgeForm()
    if not form.validate_on_submit():
        return _handover_page(handover_id, acknowledge_form=form)
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
    granted = policy.require(current_user, handover_id, "reply")
    form = forms.MessageForm()
    if not form.validate_on_submit():
        return _handover_page(handover_id, message_form=form)
    try:
        replies.add_message(granted, current_user, form.message.data,
                            request.form.get("legal_basis"))
    except LifecycleError:
        return _back_to_view(handover_id, _("This handover cannot be replied to."), "error")
    return _back_to_view(handover_id, _("Reply sent."), "success", anchor="thread")


@bp.route("/<int:handover_id>/reply/<form_key>", methods=["GET", "POST"])
@login_required
def reply_form(handover_id, form_key):
    granted = policy.require(current_user, handover_id, "reply_form")
    definition = replies.reply_form(granted.handover, form_key)
    if definition is None:
        raise policy.NotFound(form_key)
    form = forms.build_reply_form(definition, replies.prefilled(definition, current_user))
    acknowledges = definition.acknowledges and granted.allows("acknowledge")
    if request.method == "POST" and not form.add_row_requested and form.validate():
        try:
            replies.add_form_reply(granted, current_user, form_key, form.content(),
                                   request.form.get("legal_basis"))
        except LifecycleError:
            return _back_to_view(handover_id, _("This handover cannot be replied to."), "error")
        sent = _("Reply sent and receipt acknowledged.") if acknowledges else _("Reply sent.")
        return _back_to_view(handover_id, sent, "success", anchor="thread")
    status = 400 if request.method == "POST" else 200
    return render_template("handovers/reply_form.html", handover=granted.handover,
                           definition=definition, form=form, language=language(),
                           acknowledges=acknowledges), status


@bp.post("/<int:handover_id>/withdraw")
@login_required
def withdraw(handover_id):
    granted = policy.require(current_user, handover_id, "withdraw")
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
    granted = policy.require(current_user, handover_id, "correct")
    try:
        new = withdrawal.correct(granted, current_user)
    except LifecycleError:
        return _back_to_view(handover_id, _("This handover cannot be corrected."), "error")
    flash(_("A correction was started. Change what is needed and send it."), "success")
    return redirect(url_for(".edit", handover_id=new.id))


@bp.get("/<int:handover_id>/attachments/<int:attachment_id>")
@login_required
def download(handover_id, attachment_id):
    granted = policy.require(current_user, handover_id, "download")
    try:
        name, media_type, data = attachment_service.download(granted, current_user,
                                                             attachment_id)
    except LookupError:
        raise policy.NotFound(attachment_id) from None
    response = make_response(data)
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(name or 'file')}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_to_view(handover_id, message, category, anchor=None):
    """Every action on a handover ends on its page with one message saying what happened."""
    flash(message, category)
    return redirect(url_for(".view", handover_id=handover_id, _anchor=anchor))
