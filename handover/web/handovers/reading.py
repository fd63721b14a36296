"""Views on one sent handover: read, print, acknowledge, reply, withdraw, correct, download an
attachment. What the reader sees, and the audit of it, come from
`handover.services.reader_view`; what they may do now from `handover.services.policy`. A record
that fails its integrity check is never shown (`handover.web.errors` answers 409).

What a receiver or sender types here (the note on receipt, a reply, a reply form) and posts after
their session expired is kept for them and given back on the page after they log in again
(`keeping`), only while they may still acknowledge or reply; nothing is sent with it."""

from urllib.parse import quote

from flask import (
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from handover.i18n import gettext as _
from handover.services import (
    AlreadyAcknowledged,
    ContentErased,
    LifecycleError,
    kept_typing,
    policy,
    reading,
    replies,
    withdrawal,
)
from handover.services import attachments as attachment_service
from handover.services.accounts import find_person
from handover.services.reader_view import open_for_reader
from handover.store.models.base import utcnow
from handover.web import formbuilder
from handover.web.csrf import csrf
from handover.web.handovers import bp, forms, keeping, sections
from handover.web.ui import language, status_label

#: The category of a flashed message about the thread (a reply sent): the page shows it in
#: the thread, where the redirect after a reply lands (#thread), not at the top.
THREAD_NEWS = "thread"


@bp.get("/<int:handover_id>")
@login_required
def view(handover_id):
    return _handover_page(handover_id)


def _handover_page(handover_id, *, acknowledge_form=None, message_form=None,
                   reply_refused=None, status=None):
    """The handover's page as GET shows it. A post whose form was refused passes that form, to
    show the page again (400) with what was typed and its errors instead of losing the text
    behind a redirect; a reply the service refused passes why (``reply_refused``) and its
    ``status`` (400, or 409 when the handover takes no more replies: the page then shows
    the unsent text to copy). Either way the page is one audited read of the client's data: a
    page shown again after a refused post shows that data again, so it is logged like any view
    (and in place of the view that the redirect's GET logged before)."""
    user = current_user._get_current_object()  # one look-up instead of one per touch
    granted = policy.require(user, handover_id, "view", with_units=True, with_counts=True)
    if granted.handover.status == "draft":
        return redirect(url_for(".edit", handover_id=handover_id))
    refused = acknowledge_form is not None or message_form is not None
    kept_note, kept_message, kept_basis = (None, None, None) if refused else _given_back(
        granted, user)
    shown = open_for_reader(granted, user, language=language(), shows_thread=True)
    return render_template(
        "handovers/view.html", **shown.as_dict(), language=language(),
        status_label=status_label,
        # formdata=None: the form the post did not come from starts empty, not from the post.
        acknowledge_form=acknowledge_form or kept_note or forms.AcknowledgeForm(formdata=None),
        message_form=message_form or kept_message or forms.MessageForm(formdata=None),
        kept_basis=kept_basis,
        keep_token=_keep_token(granted),
        reply_forms=replies.reply_forms(granted.handover)
        if granted.allows("reply_form") else [],
        acknowledged_by=_acknowledged_by(granted),
        reply_refused=reply_refused,
        thread_news=_thread_news() if not refused else [],
        # Printed with the browser's own command, every page says who opened it and when.
        reader=user, opened_at=utcnow(),
    ), status or (400 if refused else 200)


def _acknowledged_by(granted):
    """The name of the person who acknowledged receipt, for the sending and the receiving
    unit; None for a copy unit (which is told no more than that it was received), for an
    integration client's account and while nobody has acknowledged."""
    person_id = granted.handover.acknowledged_by_id
    if person_id is None or granted.as_copy:
        return None
    person = find_person(person_id)
    return person.name if person is not None else None


def _thread_news():
    """The flashed messages about the thread (`THREAD_NEWS`), for the thread section to show
    where the user lands; the page's top (base.html) leaves out the ones shown here."""
    return get_flashed_messages(category_filter=[THREAD_NEWS])


def _given_back(granted, user):
    """(note form, reply form, reply's basis of disclosure): what the user typed on this page
    before their session ended, back in its form (or None), and only while they may still
    acknowledge or reply. No query unless typing was waiting when they logged in."""
    handover, note, message, basis = granted.handover, None, None, None
    if not keeping.typing_may_wait() or not (granted.allows("acknowledge")
                                             or granted.allows("reply")):
        return note, message, basis
    waiting = kept_typing.waiting(user, handover.id)
    if kept_typing.ACKNOWLEDGE_NOTE in waiting and granted.allows("acknowledge"):
        kept = keeping.given_back(handover, kept_typing.ACKNOWLEDGE_NOTE, _(
            "Your session had ended before receipt was acknowledged. The note you typed was "
            "kept and is back in its field. Receipt has not been acknowledged: press "
            "“Acknowledge receipt” when you are ready."), granted.unit_id)
        if kept is not None:
            note = forms.AcknowledgeForm(formdata=kept)
    if kept_typing.REPLY_MESSAGE in waiting and granted.allows("reply"):
        kept = keeping.given_back(handover, kept_typing.REPLY_MESSAGE, _(
            "Your session had ended before your reply was sent. What you typed was kept and is "
            "back in the reply box under “Replies”. It has not been sent: check it and press "
            "“Send reply”."), granted.unit_id)
        if kept is not None:
            message, basis = forms.MessageForm(formdata=kept), kept.get("legal_basis")
    return note, message, basis


def _keep_token(granted):
    """The page's keep token, for both forms where the user types (the note on receipt, the
    reply), when they may use either now."""
    if granted.allows("acknowledge") or granted.allows("reply"):
        return keeping.token_for(granted.handover.id, kept_typing.HANDOVER_PAGE)
    return None


@bp.get("/<int:handover_id>/print")
@login_required
def print_view(handover_id):
    user = current_user._get_current_object()
    granted = policy.require(user, handover_id, "print", with_units=True, with_counts=True)
    shown = open_for_reader(granted, user, language=language(), action="handover.printed",
                            shows_thread=True)
    return render_template("handovers/print.html", **shown.as_dict(), language=language(),
                           status_label=status_label, printed_at=utcnow(), reader=user,
                           acknowledged_by=_acknowledged_by(granted))


@bp.post("/<int:handover_id>/acknowledge")
@csrf.exempt   # checked by `keeping.check_post`, after an expired session's note is kept
def acknowledge(handover_id):
    answer = keeping.check_post(handover_id, kept_typing.ACKNOWLEDGE_NOTE,
                                url_for(".view", handover_id=handover_id))
    if answer is not None:
        return answer
    granted = policy.require(current_user, handover_id, "acknowledge")
    form = forms.AcknowledgeForm(formdata=keeping.posted())
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
@csrf.exempt   # checked by `keeping.check_post`, after an expired session's reply is kept
def reply(handover_id):
    answer = keeping.check_post(handover_id, kept_typing.REPLY_MESSAGE,
                                url_for(".view", handover_id=handover_id))
    if answer is not None:
        return answer
    form = forms.MessageForm(formdata=keeping.posted())
    try:
        granted = policy.require(current_user, handover_id, "reply")
    except policy.WrongState as refused:
        # The other side closed the handover (or it was withdrawn) while the reply was being
        # written: the page says so and shows the text, to copy, instead of dropping it.
        return _handover_page(handover_id, message_form=form, reply_refused=str(refused),
                              status=409)
    if not form.validate_on_submit():
        return _handover_page(handover_id, message_form=form)
    try:
        replies.add_message(granted, current_user, form.message.data,
                            request.form.get("legal_basis"),
                            submission_token=form.submission_token.data)
    except ContentErased:
        raise
    except policy.WrongState as refused:   # closed meanwhile (`policy.hold`): as above
        return _handover_page(handover_id, message_form=form, reply_refused=str(refused),
                              status=409)
    except LifecycleError as refused:
        # The service's own reason (e.g. the basis of disclosure), with the text kept.
        return _handover_page(handover_id, message_form=form, reply_refused=str(refused),
                              status=400)
    return _back_to_view(handover_id, _("Reply sent."), THREAD_NEWS, anchor="thread")


@bp.route("/<int:handover_id>/reply/<form_key>", methods=["GET", "POST"])
@csrf.exempt   # checked by `keeping.guard`, after an expired session's text is kept
def reply_form(handover_id, form_key):
    place = kept_typing.reply_form_place(form_key)
    answer = keeping.guard(handover_id, place)
    if answer is not None:
        return answer
    try:
        granted = policy.require(current_user, handover_id, "reply_form")
    except policy.WrongState as refused:
        if request.method != "POST":
            raise
        return _reply_form_refused(handover_id, form_key, refused)
    definition = replies.reply_form(granted.handover, form_key)
    if definition is None:
        raise policy.NotFound(form_key)
    form, kept_basis = _reply_form(granted, definition, place)
    acknowledges = definition.acknowledges and granted.allows("acknowledge")
    token = (forms.posted_submission_token() if request.method == "POST"
             else forms.fresh_submission_token())
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and not form.group_rows_changed and form.validate():
        try:
            replies.add_form_reply(granted, current_user, form_key, form.content(),
                                   request.form.get("legal_basis"), submission_token=token)
        except ContentErased:
            raise
        except LifecycleError as refused:
            # The service's own reason, with the form as it was filled: nothing typed is lost.
            flash(_("Your reply was not sent: %(reason)s", reason=str(refused)), "error")
        else:
            sent = (_("Reply sent and receipt acknowledged.") if acknowledges
                    else _("Reply sent."))
            return _back_to_view(handover_id, sent, THREAD_NEWS, anchor="thread")
    return render_template("handovers/reply_form.html", handover=granted.handover,
                           definition=definition, form=form, language=language(),
                           acknowledges=acknowledges, kept_basis=kept_basis,
                           submission_token=token,
                           keep_token=keeping.token_for(granted.handover.id, place)), status


def _reply_form_refused(handover_id, form_key, refused):
    """A reply form posted after the handover stopped taking replies (the other side closed
    it meanwhile): the form again (409), as it was filled, with why it was not sent, so that
    nothing typed is lost; the reader's page decides nothing more (a `view` of it)."""
    granted = policy.require(current_user, handover_id, "view")
    definition = replies.reply_form(granted.handover, form_key)
    if definition is None:
        raise refused
    form = formbuilder.build_form(definition, language(), formdata=keeping.posted(),
                                  content=replies.prefilled(definition, current_user))
    flash(_("Your reply was not sent: %(reason)s", reason=str(refused)), "error")
    flash(_("What you typed is still in the form below, so that you can copy it."), "info")
    return render_template("handovers/reply_form.html", handover=granted.handover,
                           definition=definition, form=form, language=language(),
                           acknowledges=False, kept_basis=None,
                           submission_token=forms.posted_submission_token(),
                           keep_token=None), 409


def _reply_form(granted, definition, place):
    """(form, kept basis of disclosure): the reply form as posted; else holding what was kept
    when the session expired under it, with the basis then chosen; else only what the server
    fills in."""
    prefilled = replies.prefilled(definition, current_user)
    if request.method == "POST":
        return formbuilder.build_form(definition, language(), formdata=keeping.posted(),
                                      content=prefilled), None
    kept = keeping.given_back(granted.handover, place, _(
        "Your session had ended before your reply was sent. What you typed was kept and is "
        "back in the form below. It has not been sent: check it and send it with the button "
        "at the end of the form."), granted.unit_id)
    if kept is None:
        return forms.build_reply_form(definition, prefilled), None
    return formbuilder.build_form(definition, language(), formdata=kept,
                                  content=prefilled), kept.get("legal_basis")


@bp.post("/<int:handover_id>/withdraw")
@login_required
def withdraw(handover_id):
    """A repeat of a withdrawal that took effect (a double click, a retry) says so as news."""
    try:
        granted = policy.require(current_user, handover_id, "withdraw", with_units=True)
        form = forms.WithdrawForm()
        if not form.validate():
            return sections.withdraw_page(granted, form), 400
        withdrawal.withdraw(granted, current_user, reason=form.reason.data)
    except policy.WrongState as refused:
        if not refused.done:
            raise
        return _back_to_view(handover_id, str(refused), "info", code=303)
    except withdrawal.AlreadyWithdrawn:
        return _back_to_view(handover_id, _("This handover has already been withdrawn."),
                             "info", code=303)
    except LifecycleError:
        return _back_to_view(
            handover_id, _("This handover can no longer be withdrawn: it has been opened."),
            "error")
    return _back_to_view(handover_id, _("The handover was withdrawn."), "success")


@bp.post("/<int:handover_id>/correct")
@login_required
def correct(handover_id):
    """A handover that a sent correction replaced leads to its newest version, which is the
    one to correct."""
    try:
        granted = policy.require(current_user, handover_id, "correct")
        new = withdrawal.correct(granted, current_user)
    except (policy.WrongState, withdrawal.AlreadyCorrected) as refused:
        newer = getattr(refused, "newer_id", None)
        if newer is None:
            raise
        return _back_to_view(newer, _("Handover #%(old)s has already been corrected. This is "
                                      "its newest version, #%(new)s: correct this one if "
                                      "something still needs changing.",
                                      old=handover_id, new=newer), "info", code=303)
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


def _back_to_view(handover_id, message, category, anchor=None, code=302):
    """Every action on a handover ends on its page with one message saying what happened."""
    flash(message, category)
    return redirect(url_for(".view", handover_id=handover_id, _anchor=anchor), code)
