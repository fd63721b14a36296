"""Filling a long form a section at a time: the task list of a draft and one page per section.

Each section page saves the draft on every submit ("Save and continue"), without JavaScript,
and goes on to the next section; a half-filled section can be left and resumed from the task
list. What was saved lies under what a section's page posts, so the other sections keep their
answers. The whole form on one page (``edit``) stays for those who prefer it.

Nothing typed on a section page is lost (see `keeping`): its script also saves in the
background while the user types, a file is attached from inside the section's form (the typing
is saved first), and a post that arrives after the session expired is kept for its writer and
given back on this page after they log in again.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from handover.i18n import gettext as _
from handover.services import definition_of, drafts, late_drafts, policy
from handover.services.sections import (
    next_section,
    ready_to_check,
    section_states,
    task_groups,
)
from handover.store.database import db
from handover.store.models import Unit
from handover.web import pages
from handover.web.csrf import csrf
from handover.web.handovers import attaching, bp, forms, keeping
from handover.web.handovers.section_checks import section_errors
from handover.web.ui import language


def _draft(handover_id, page):
    granted = policy.require(current_user, handover_id, "edit")
    handover = granted.handover
    definition = definition_of(handover)
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    draft = drafts.open_for_editing(granted, current_user, page=page)
    return handover, definition, sender_unit, draft


@bp.get("/<int:handover_id>/tasks")
@login_required
def tasks(handover_id):
    """The draft's sections with their state, the routing, the files, and the way on."""
    handover, definition, sender_unit, draft = _draft(handover_id, "edit")
    states = section_states(definition, draft.content, sender_unit.kind)
    return render_template(
        "handovers/tasks.html", handover=handover, definition=definition, states=states,
        sender_unit=sender_unit, units=policy.units_of(handover), attachments=draft.attachments,
        attachment_form=forms.AttachmentForm(), language=language(),
        completed=sum(state.state == "completed" for state in states),
        groups=task_groups(definition, states), ready=ready_to_check(states),
        send_by=late_drafts.send_by(handover))


@bp.route("/<int:handover_id>/sections/<section_key>", methods=["GET", "POST"])
@csrf.exempt   # checked by `keeping.check_post`, after an expired session's text is kept
def section(handover_id, section_key):
    if request.method == "POST":
        answer = keeping.check_post(handover_id, section_key)
        if answer is not None:
            return answer
    elif not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    handover, definition, sender_unit, draft = _draft(handover_id, "edit")
    states = section_states(definition, draft.content, sender_unit.kind)
    shown = next((state for state in states if state.section.key == section_key), None)
    if shown is None:
        raise policy.NotFound(section_key)
    restored = None if request.method == "POST" else keeping.restored_form(
        handover, definition, sender_unit.kind, draft.content, section_key)
    form = restored or forms.build_fill_form(definition, sender_unit.kind, draft.content)
    # The section's own fields: only those changed on this page are saved over what is stored
    # now (the same section open in another tab keeps its answers: `keeping.save_typed`).
    own = [f.key for f, _field in form.section_fields(shown.section)]
    if restored is not None:
        keeping.tell_also_changed(keeping.save_typed(handover, form, draft.content,
                                                     restored.kept_digests or ""))
    if request.method == "POST":
        also_changed = keeping.save_typed(handover, form, draft.content)
        if keeping.is_background():
            return keeping.background_saved(handover, form, own, also_changed)
        keeping.tell_also_changed(also_changed)
        if pages.SWITCH_LANGUAGE in request.form:   # the header's language buttons on this page
            pages.remember_language(request.form[pages.SWITCH_LANGUAGE])
            return redirect(_this_section(handover.id, section_key))
        if "back_to_tasks" in request.form:
            # The page's back control: what was typed is saved (as typed, when it is wrong),
            # and the user leaves; the task list shows the section in progress.
            return redirect(url_for(".tasks", handover_id=handover.id))
        if "attach" in request.form:
            return attaching.attach_file(
                handover.id, _this_section(handover.id, section_key, "attachments"),
                lambda refusal: (_section_page(handover, definition, form, shown, states,
                                               draft, own, refusal), 400))
        if attaching.REMOVE in request.form:
            return attaching.remove_file(handover.id, _this_section(
                handover.id, section_key, "attachments"))
        if not form.group_rows_changed and not section_errors(form, shown.section):
            following = next_section(
                section_states(definition, form.content(), sender_unit.kind), section_key)
            flash(_("Saved: %(section)s.", section=shown.section.title_in(language())),
                  "success")
            if also_changed:   # stays on the section, so that its answers can be checked
                return redirect(_this_section(handover.id, section_key))
            if "check" in request.args and "to_tasks" not in request.form:
                # Come from check answers (a problem's link, a "Change"): back there.
                return redirect(url_for(".preview", handover_id=handover.id))
            if following is None or "to_tasks" in request.form:
                return redirect(url_for(".tasks", handover_id=handover.id))
            return redirect(url_for(".section", handover_id=handover.id,
                                    section_key=following.key))
    elif "check" in request.args:
        section_errors(form, shown.section, with_required=True)
    return _section_page(handover, definition, form, shown, states, draft, own)


def _this_section(handover_id, section_key, anchor=None):
    """The section page's own address again, still marked as opened from check answers when
    it was (``check``: saving leads back there), after a language switch or a file."""
    return url_for(".section", handover_id=handover_id, section_key=section_key,
                   check=1 if "check" in request.args else None, _anchor=anchor)


def _section_page(handover, definition, form, shown, states, draft, own, attach_error=None):
    """A section's page; ``attach_error``: a file refused, told at the file input and in the
    error summary as any field's error."""
    position = [state.section.key for state in states].index(shown.section.key) + 1
    return render_template(
        "handovers/section.html", handover=handover, definition=definition, form=form,
        section=shown.section, position=position, count=len(states), language=language(),
        attachments=draft.attachments, attach_error=attach_error,
        page_has_errors=bool(attach_error), fill_form_id="section-form",
        fill_enter=("continue", _("Save and continue")),
        keep_token=keeping.token_for(handover.id, shown.section.key),
        loaded_digests=keeping.loaded_digests(handover, form, own),
        from_check="check" in request.args)


@bp.get("/<int:handover_id>/discard")
@login_required
def confirm_discard(handover_id):
    """Deleting a draft asks first, naming what would be lost; the button posts to
    ``discard``. A draft already deleted (the page reached again with Back) says so."""
    try:
        granted = policy.require(current_user, handover_id, "discard")
    except policy.DraftDiscarded:
        flash(_("This draft has already been deleted."), "info")
        return redirect(url_for(".outbox"), 303)
    handover = granted.handover
    definition = definition_of(handover)
    content = drafts.open_for_editing(granted, current_user, page="discard").content
    child = content.get(definition.summary_fields[0]) if definition.summary_fields else None
    return render_template("handovers/discard.html", handover=handover, definition=definition,
                           child=child, discard_form=forms.EmptyForm(), language=language())


@bp.get("/<int:handover_id>/withdraw")
@login_required
def confirm_withdraw(handover_id):
    """Withdrawing cannot be undone, so it asks first (WCAG 3.3.4), naming the handover by its
    form, number, units and time, which reads no content; the button posts to ``withdraw``.
    One already withdrawn (the page reached again with Back) says so on the handover's page."""
    try:
        granted = policy.require(current_user, handover_id, "withdraw", with_units=True)
    except policy.WrongState as refused:
        if not refused.done:
            raise
        flash(str(refused), "info")
        return redirect(url_for(".view", handover_id=handover_id), 303)
    return withdraw_page(granted, forms.WithdrawForm(formdata=None))


def withdraw_page(granted, form):
    """The question before withdrawing, with ``form`` (its errors when the post was refused)."""
    handover = granted.handover
    return render_template("handovers/withdraw.html", handover=handover, form=form,
                           definition=definition_of(handover),
                           units=policy.units_of(handover), language=language())


@bp.get("/<int:handover_id>/sent")
@login_required
def sent(handover_id):
    """After sending: the reference, who must acknowledge it by when, until when it can be
    withdrawn, and what happens next. Shows no content, so it reads none."""
    granted = policy.require(current_user, handover_id, "view", with_units=True)
    handover = granted.handover
    if handover.status == "draft":
        return redirect(url_for(".tasks", handover_id=handover_id))
    if granted.relation != policy.SENDING:   # a receiver given this address reads the handover
        return redirect(url_for(".view", handover_id=handover_id))
    definition = definition_of(handover)
    legal_basis = next((basis.label_in(language()) for basis in definition.legal_bases
                        if basis.value == handover.legal_basis), handover.legal_basis)
    return render_template("handovers/sent.html", handover=handover, definition=definition,
                           units=policy.units_of(handover), legal_basis=legal_basis,
                           granted=granted, language=language())
