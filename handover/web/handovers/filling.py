"""Writing a handover: choose a form, route it, fill it, preview and send it, attach files, or
discard the draft. Each page asks `policy.require` for its action, so a handover that has been
sent in the meantime leads to its own (audited) page instead of an editor."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from handover.formdefs.notices import warnings_of
from handover.i18n import gettext as _
from handover.services import (
    LifecycleError,
    definition_of,
    drafts,
    kept_typing,
    policy,
    routing,
    sending,
)
from handover.services import attachments as attachment_service
from handover.services.reader_view import open_for_reader
from handover.services.routing import RouteRefused
from handover.store.database import db
from handover.store.models import Unit
from handover.store.models.base import utcnow
from handover.web import formbuilder, pages, posted_id
from handover.web.csrf import csrf
from handover.web.handovers import attaching, bp, forms, keeping
from handover.web.handovers.section_checks import check_answers_problems
from handover.web.ui import language


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Step 1: which form, from which of the units the policy lets the user send from."""
    options = [(unit, definition) for unit in policy.sending_units(current_user)
               for definition in routing.sendable_forms(unit)]
    form = forms.ChooseFormForm()
    form.choice.choices = forms.choices(
        (f"{unit.id}:{definition.key}", f"{definition.title_in(language())} — {unit.name}")
        for unit, definition in options
    )
    if form.validate_on_submit():
        unit_id, form_key = form.choice.data.split(":", 1)
        return redirect(url_for(".start", unit_id=int(unit_id), form_key=form_key))
    return render_template("handovers/new.html", form=form, options=options)


def _routing_form(sender_unit, form_key, definition, handover=None):
    form = forms.RoutingForm(obj=None)
    receivers = routing.allowed_receivers(form_key, sender_unit)
    copy_units = routing.allowed_copy_units(form_key, sender_unit)
    form.receiver.choices = [forms.SelectChoice("", _("Choose…")),
                             *forms.unit_choices(receivers)]
    form.copies.choices = forms.unit_choices(copy_units, grouped=False)
    form.legal_basis.choices = forms.choices(
        (choice.value, choice.label_in(language())) for choice in definition.legal_bases)
    if handover is not None and request.method == "GET":
        form.receiver.data = str(handover.receiver_unit_id or "")
        form.copies.data = [str(copy.unit_id) for copy in handover.copies]
        form.legal_basis.data = handover.legal_basis or None
    return form


def _chosen_units(form):
    def unit(value):
        unit_id = posted_id(value)
        return db.session.get(Unit, unit_id) if unit_id is not None else None

    return unit(form.receiver.data), [u for u in map(unit, form.copies.data or []) if u]


def _choices_made(form, definition):
    """The routing page's required choices, checked as any page's are: each one not made gets
    its message beside it (and in the error summary), all at once, every choice kept. Whether
    a choice made is allowed is the services' answer (`drafts.check_routing`)."""
    required = [(form.receiver, drafts.CHOOSE_RECEIVER)]
    if definition.legal_bases:
        required.append((form.legal_basis, drafts.CHOOSE_LEGAL_BASIS))
    made = True
    for choice, message in required:
        if not choice.data:
            choice.errors = [*choice.errors, str(message)]
            made = False
    return made


def _show_refusal(form, refusal):
    """A route the services refuse is shown like any other form error: in the error summary
    and beside the choice it is about, every choice kept as it was posted."""
    choice = _refused_choice(form)
    choice.errors = [*choice.errors, str(refusal)]


def _refused_choice(form):
    """The services say why a route is refused, not which choice it is about; the choices
    offered tell. No receiving unit (or one not offered) is the receiver's problem, a legal
    basis not offered the legal basis's; else chosen copies are at fault (one chosen twice, or
    the receiver also as a copy), and with none chosen, the route to the receiver."""
    if form.receiver.data not in _offered(form.receiver):
        return form.receiver
    if form.legal_basis.data and form.legal_basis.data not in _offered(form.legal_basis):
        return form.legal_basis
    return form.copies if form.copies.data and form.copies.choices else form.receiver


def _offered(field):
    return {choice.value for choice in field.choices if choice.value}


def _routing_page(form, definition, sender_unit, handover, status=200):
    return render_template("handovers/routing.html", form=form, definition=definition,
                           sender_unit=sender_unit, handover=handover), status


@bp.route("/new/<int:unit_id>/<form_key>", methods=["GET", "POST"])
@login_required
def start(unit_id, form_key):
    """Step 2: receiving unit, copies and legal basis; creates the draft."""
    sender_unit = policy.require_start(current_user, unit_id)
    if form_key not in {d.key for d in routing.sendable_forms(sender_unit)}:
        raise policy.NotFound(form_key)
    definition = definition_of(form_key)
    form = _routing_form(sender_unit, form_key, definition)
    if request.method == "POST":
        if not _choices_made(form, definition):
            return _routing_page(form, definition, sender_unit, None, 400)
        # Validated by the services (routing re-checked), not only by the offered choices.
        receiver, copy_units = _chosen_units(form)
        try:
            handover = drafts.start(current_user, sender_unit, form_key, receiver, copy_units,
                                    form.legal_basis.data or "")
        except (RouteRefused, LifecycleError) as refusal:
            _show_refusal(form, refusal)
            return _routing_page(form, definition, sender_unit, None, 400)
        return redirect(url_for(".edit", handover_id=handover.id))
    return _routing_page(form, definition, sender_unit, None)


@bp.route("/<int:handover_id>/routing", methods=["GET", "POST"])
@login_required
def change_routing(handover_id):
    handover = policy.require(current_user, handover_id, "routing").handover
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    definition = definition_of(handover)
    form = _routing_form(sender_unit, handover.form_key, definition, handover)
    if request.method == "POST":
        if not _choices_made(form, definition):
            return _routing_page(form, definition, sender_unit, handover, 400)
        receiver, copy_units = _chosen_units(form)
        try:
            drafts.change_routing(current_user, handover, receiver, copy_units,
                                  form.legal_basis.data or "")
        except (RouteRefused, LifecycleError) as refusal:
            db.session.rollback()
            _show_refusal(form, refusal)
            return _routing_page(form, definition, sender_unit, handover, 400)
        if "check" in request.args:   # opened from a problem on check answers: back there
            return redirect(url_for(".preview", handover_id=handover.id))
        return redirect(url_for(".edit", handover_id=handover.id))
    return _routing_page(form, definition, sender_unit, handover)


@bp.route("/<int:handover_id>/edit", methods=["GET", "POST"])
@csrf.exempt   # checked by `keeping.guard`, after an expired session's text is kept
def edit(handover_id):
    """Fill the form. "Save draft" keeps anything typed; "Preview" validates first; the page's
    script saves in the background while the user types, as on a section page. A post that
    arrives after the session expired is kept for its writer and given back here."""
    answer = keeping.guard(handover_id, kept_typing.WHOLE_FORM)
    if answer is not None:
        return answer
    granted = policy.require(current_user, handover_id, "edit")
    handover = granted.handover
    definition = definition_of(handover)
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    # Also on POST: what was saved lies under what was typed (the fields a post leaves out).
    # Only what was changed on this page is saved over what is stored now (another tab's or a
    # colleague's answers stay: `keeping.save_typed`).
    draft = drafts.open_for_editing(granted, current_user, page="edit")
    form = _fill_form(handover, definition, sender_unit.kind, draft.content)
    shown = [f.key for f in form.definition_fields()]
    if request.method == "POST" and form.group_rows_changed:
        keeping.tell_also_changed(keeping.save_typed(handover, form, draft.content))
        return _edit_page(handover, definition, form, sender_unit, draft)
    if request.method == "POST":
        also_changed = keeping.save_typed(handover, form, draft.content)
        if keeping.is_background():
            return keeping.background_saved(handover, form, shown, also_changed)
        keeping.tell_also_changed(also_changed)
        if pages.SWITCH_LANGUAGE in request.form:   # the header's language buttons on this page
            pages.remember_language(request.form[pages.SWITCH_LANGUAGE])
            return redirect(url_for(".edit", handover_id=handover.id))
        if "attach" in request.form:
            return attaching.attach_file(
                handover.id, url_for(".edit", handover_id=handover.id,
                                     _anchor="attachments-title"),
                lambda refusal: (_edit_page(handover, definition, form, sender_unit, draft,
                                            attach_error=refusal), 400))
        if attaching.REMOVE in request.form:
            return attaching.remove_file(handover.id, url_for(
                ".edit", handover_id=handover.id, _anchor="attachments-title"))
        if "preview" in request.form:
            if form.validate():
                return redirect(url_for(".preview", handover_id=handover.id))
            flash(_("Check the highlighted answers."), "error")
            return _edit_page(handover, definition, form, sender_unit, draft), 400
        flash(_("Draft saved."), "success")
        return redirect(url_for(".edit", handover_id=handover.id))
    return _edit_page(handover, definition, form, sender_unit, draft)


def _fill_form(handover, definition, sender_kind, content):
    """The whole form: as posted; else holding what was kept when the session expired under
    it (saved in the draft at once, as on a section page); else the saved draft."""
    if request.method == "POST":
        return formbuilder.build_form(definition, language(), sender_kind=sender_kind,
                                      formdata=keeping.posted(), content=content)
    restored = keeping.restored_form(handover, definition, sender_kind, content,
                                     kept_typing.WHOLE_FORM)
    if restored is None:
        return forms.build_fill_form(definition, sender_kind, content)
    keeping.tell_also_changed(keeping.save_typed(handover, restored, content,
                                                 restored.kept_digests or ""))
    return restored


def _edit_page(handover, definition, form, sender_unit, draft, attach_error=None):
    """The whole form; ``attach_error``: a file refused, told at the file input and in the
    error summary as any field's error."""
    return render_template(
        "handovers/edit.html", handover=handover, definition=definition, form=form,
        sender_unit=sender_unit, units=policy.units_of(handover), attachments=draft.attachments,
        discard_form=forms.EmptyForm(), attach_error=attach_error,
        page_has_errors=bool(attach_error), fill_form_id="fill-form",
        fill_enter=("save", _("Save draft")),
        language=language(), keep_token=keeping.token_for(handover.id, kept_typing.WHOLE_FORM),
        loaded_digests=keeping.loaded_digests(
            handover, form, [f.key for f in form.definition_fields()]),
    )


@bp.get("/<int:handover_id>/preview")
@login_required
def preview(handover_id):
    """The draft as the receiver would see it, checked exactly as sending will check it: when
    the checks refuse it, the page lists the problems instead of offering to send."""
    granted = policy.require(current_user, handover_id, "preview", with_units=True)
    handover = granted.handover
    definition = definition_of(handover)
    units = policy.units_of(handover)
    # The draft with its files, read (and logged) as the preview's look at it.
    draft = open_for_reader(granted, current_user, language=language(), draft_page="preview")
    content = draft.content
    problems = drafts.validate_content(definition, content, units[handover.sender_unit_id].kind,
                                       language())
    shown = check_answers_problems(handover, definition, problems, units)
    return render_template(
        "handovers/preview.html", handover=handover, definition=definition, content=content,
        units=units, attachments=draft.attachments,
        send_form=forms.SendForm(submission_token=forms.fresh_submission_token()),
        problems=shown, page_has_errors=bool(shown),
        language=language(),
        warnings=warnings_of(definition, content, language()),
        # Printed, every page names the draft, its child and who printed it when.
        child_name=draft.child_name, reader=current_user, opened_at=utcnow(),
    )


@bp.post("/<int:handover_id>/send")
@login_required
def send(handover_id):
    user = current_user._get_current_object()  # one look-up instead of one per touch
    form = forms.SendForm()
    token = form.submission_token.data if form.validate_on_submit() else None
    try:
        handover = policy.require(user, handover_id, "send", with_units=True).handover
    except policy.WrongState:
        # Already sent: a repeat of the request that sent it (double click, retry) lands on
        # the handover like the first did.
        return redirect(url_for(".sent", handover_id=handover_id))
    try:
        sent = sending.send(user, handover, token, language=language())
    except drafts.ValidationFailed:
        flash(_("Check the highlighted answers."), "error")
        return redirect(url_for(".edit", handover_id=handover.id))
    except (RouteRefused, LifecycleError) as refusal:
        db.session.rollback()
        flash(str(refusal) or _("The handover could not be sent."), "error")
        return redirect(url_for(".preview", handover_id=handover.id))
    flash(_("The handover was sent."), "success")
    return redirect(url_for(".sent", handover_id=sent.id))


@bp.post("/<int:handover_id>/discard")
@login_required
def discard(handover_id):
    """A repeat of the deletion (a double click, Back and post again) says it is done."""
    try:
        granted = policy.require(current_user, handover_id, "discard")
    except policy.DraftDiscarded:
        flash(_("This draft has already been deleted."), "info")
        return redirect(url_for(".outbox"), 303)
    drafts.discard(current_user, granted.handover)
    flash(_("The draft was deleted."), "success")
    return redirect(url_for(".outbox"))


@bp.post("/<int:handover_id>/attachments")
@login_required
def upload(handover_id):
    """A file posted on its own (a client without the fill page's form)."""
    back_to = url_for(".edit", handover_id=handover_id, _anchor="attachments-title")
    return attaching.attach_file(handover_id, back_to, attaching.told_on_the_page(back_to))


@bp.post("/<int:handover_id>/attachments/<int:attachment_id>/delete")
@login_required
def delete_attachment(handover_id, attachment_id):
    granted = policy.require(current_user, handover_id, "attach")
    try:
        attachment_service.remove(granted, current_user, attachment_id)
    except LookupError:
        raise policy.NotFound(attachment_id) from None
    flash(_("File removed."), "success")
    return redirect(url_for(".edit", handover_id=handover_id))
