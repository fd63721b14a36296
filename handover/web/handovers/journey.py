"""The child's journey on one handover's page: closing the thread, returning it to the sender
and routing it again. Registered on the handovers blueprint; the reading page includes the
templates in ``templates/journey/`` and asks `journey_panel` for what they show, so that the
reading view itself stays as it was. Each view asks the policy first, then one service."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.i18n import ngettext
from handover.services import (
    LifecycleError,
    closing,
    definition_of,
    disclosures,
    drafts,
    earlier_handovers,
    listing,
    policy,
    prefill,
    retention,
    returning,
    updates,
)
from handover.services.reader_view import open_for_reader
from handover.store.models.base import utcnow
from handover.web import formbuilder, posted_id
from handover.web.form_base import HandoverForm
from handover.web.handovers import bp
from handover.web.handovers.forms import (
    EmptyForm,
    IdentityCodeForm,
    choices,
    fresh_submission_token,
    posted_submission_token,
)
from handover.web.ui import language, status_label


class ReturnForm(HandoverForm):
    reason = RadioField(_l("Why do you return it?"), validators=[InputRequired()], choices=[])
    text = TextAreaField(_l("Explanation for the sender"),
                         validators=[Length(max=returning.TEXT_MAX_LENGTH)],
                         description=_l("Required when the reason is “Other reason”. Nothing "
                                        "about the child is needed here."))


class RerouteForm(HandoverForm):
    receiver = SelectField(_l("Route it to"), validators=[InputRequired()], choices=[])


def return_form():
    form = ReturnForm()
    form.reason.choices = choices((key, str(label)) for key, label in returning.REASONS.items())
    return form


def reroute_form(granted, units):
    """The choice of the new receiver among ``units``; a unit that gets a copy now says that
    it would become the receiver."""
    copies = returning.copy_unit_ids(granted.handover)
    form = RerouteForm()
    form.receiver.choices = choices(
        (str(unit.id), _("%(unit)s (gets a copy now: becomes the receiver)", unit=unit.name)
         if unit.id in copies else unit.name) for unit in units)
    return form


@bp.route("/<int:handover_id>/close", methods=["GET", "POST"])
@login_required
def close(handover_id):
    """Close the thread, after a page of its own says what closing does (no more replies, the
    content erased on a given day, no way back) and asks to confirm: the handover's page only
    leads here. The page shows no content, so only the closing itself is audited."""
    granted = policy.require(current_user, handover_id, "close")
    if request.method == "GET":
        handover = granted.handover
        now = utcnow()
        erase_after = retention.columns_after(handover, now, activity=False, closed_at=now,
                                              updated_at=now)["erase_after"]
        return render_template(
            "journey/close.html", handover=handover,
            title=definition_of(handover).title_in(language()), erase_after=erase_after)
    if not EmptyForm().validate_on_submit():
        return _back(handover_id, _("The form expired. Try again."), "error")
    try:
        closing.close(granted, current_user)
    except LifecycleError as error:
        return _back(handover_id, str(error), "error")
    return _back(handover_id, _("The handover was closed. Its content will be erased after "
                                "the period the form sets."), "success")


@bp.route("/<int:handover_id>/return", methods=["GET", "POST"])
@login_required
def give_back(handover_id):
    """Return to sender, on a page of its own: a reason, and what the sender should know. A
    choice left out shows the page again with what was typed."""
    granted = policy.require(current_user, handover_id, "return")
    form = return_form()
    if form.validate_on_submit():
        try:
            returning.give_back(granted, current_user, form.reason.data, form.text.data)
        except LifecycleError as error:
            form.text.errors = [str(error)]   # e.g. "other" without an explanation
        else:
            flash(_("The handover was returned to its sender. Your unit no longer has access "
                    "to it."), "success")
            return redirect(url_for("handovers.inbox"))
    if form.reason.errors:
        form.reason.errors = [_("Choose why you return the handover.")]
    return render_template("journey/return.html", handover=granted.handover, form=form)


@bp.route("/<int:handover_id>/reroute", methods=["GET", "POST"])
@login_required
def reroute(handover_id):
    """Route a returned handover to another unit the routing rules allow, on a page of its
    own (the choice lists every such unit, which the reading page need not carry)."""
    granted = policy.require(current_user, handover_id, "reroute")
    units = returning.reroute_choices(granted)
    form = reroute_form(granted, units)
    if form.validate_on_submit():
        receiver = {str(u.id): u for u in units}.get(form.receiver.data)
        try:
            returning.reroute(granted, current_user, receiver)
        except LifecycleError as error:
            form.receiver.errors = [str(error)]
        else:
            return _back(handover_id, _("The handover was sent to %(unit)s.",
                                        unit=receiver.name), "success")
    elif form.receiver.errors:
        form.receiver.errors = [_("Choose a unit this form may be sent to.")]
    copies = returning.copy_unit_ids(granted.handover)
    return render_template("journey/reroute.html", handover=granted.handover, form=form,
                           copy_choices=any(u.id in copies for u in units),
                           can_withdraw=granted.allows("withdraw"))


@bp.route("/<int:handover_id>/journey", methods=["GET", "POST"])
@login_required
def draft_journey(handover_id):
    """Starting a handover: the child's earlier handovers from the user's units (and, from
    them, answers to take over). The child is the one in the saved draft, or the one whose
    identity code is posted here (in the body, never the URL). Answers are offered for taking
    over only from a handover of the child whose code is saved in the draft (or, while the
    draft names no child, of the child looked up): a code looked up that is another child's
    lists that child's handovers, and offers none of them."""
    user = current_user._get_current_object()
    granted = policy.require(user, handover_id, "edit")
    code_form = IdentityCodeForm()
    draft_child = drafts_identity_hash(granted)
    identity_hash = None
    if request.method == "POST" and code_form.validate_on_submit():
        identity_hash = earlier_handovers.hash_of_code(code_form.identity_code.data)
    elif request.method == "GET":
        identity_hash = draft_child
    earlier = (earlier_handovers.look_up(user, identity_hash, language=language(),
                                         current=granted.handover)
               if identity_hash else None)
    same_child = identity_hash is not None and identity_hash == (draft_child or identity_hash)
    source = (earlier_handovers.latest_sent_by(user, identity_hash, granted.handover.id)
              if same_child else None)
    take_over_refused = prefill.OTHER_CHILD_ON_PAGE if earlier and not same_child else None
    return render_template("journey/draft.html", handover=granted.handover, earlier=earlier,
                           code_form=code_form, status_label=status_label,
                           language=language(), source=source,
                           take_over_refused=take_over_refused,
                           source_title=definition_of(source).title_in(language())
                           if source else "",
                           scopes=prefill.scopes(granted.handover, source))


@bp.post("/<int:handover_id>/prefill")
@login_required
def take_over(handover_id):
    """Take over the answers of the child's latest handover from the user's units: the child
    whose identity code is saved in the draft, never another (a draft naming no child yet
    takes the source's child with its answers)."""
    user = current_user._get_current_object()
    granted = policy.require(user, handover_id, "edit")
    if not EmptyForm().validate_on_submit():
        return _to_edit(handover_id, _("The form expired. Try again."), "error")
    source = earlier_handovers.source_to_take_over(user, granted.handover,
                                                   drafts_identity_hash(granted),
                                                   posted_id(request.form.get("source")))
    try:
        filled = prefill.take_over(granted, user, source, request.form.get("scope", ""))
    except LifecycleError as error:
        return _to_edit(handover_id, str(error), "error")
    if not filled:
        return _to_edit(handover_id, _("Nothing to take over: the form already has these "
                                       "answers."), "info")
    return _to_edit(handover_id, _("Answers were taken over. Check each marked section and "
                                   "confirm it."), "success")


@bp.post("/<int:handover_id>/prefill/confirm")
@login_required
def confirm_prefilled(handover_id):
    granted = policy.require(current_user, handover_id, "edit")
    if not EmptyForm().validate_on_submit():
        return _to_edit(handover_id, _("The form expired. Try again."), "error")
    try:
        prefill.confirm(granted, current_user, request.form.get("section", ""))
    except LifecycleError as error:
        return _to_edit(handover_id, str(error), "error")
    return _to_edit(handover_id, _("Section confirmed."), "success")


@bp.route("/<int:handover_id>/update", methods=["GET", "POST"])
@login_required
def send_update(handover_id):
    """A short update of the placement, to every unit that received a handover of this child
    from the sending unit recently (`services.updates`)."""
    user = current_user._get_current_object()
    granted = policy.require(user, handover_id, "update", with_units=True)
    definition = definition_of(updates.FORM_KEY)
    original = open_for_reader(granted, user, language=language())
    start = {key: (original.content or {}).get(key)
             for key in ("child_name", "child_identity_code")}
    formdata = request.form if request.method == "POST" else None
    form = formbuilder.build_form(definition, language(), formdata=formdata, content=start)
    # One token per page: the same post arriving twice (a double click, a retry) sends once.
    token = (posted_submission_token() if request.method == "POST"
             else fresh_submission_token())
    if request.method == "POST" and not form.group_rows_changed and form.validate():
        try:
            sent = updates.send_update(granted, user, form.content(), language=language(),
                                       submission_token=token)
        except drafts.ValidationFailed as refused:
            form.add_errors(refused.errors)
        except LifecycleError as error:
            flash(str(error), "error")
        else:
            return _back(handover_id, ngettext("The update was sent to %(num)s unit.",
                                               "The update was sent to %(num)s units.",
                                               len(sent)), "success")
    status = 400 if request.method == "POST" else 200
    # Warned of on the rule the update's readers see it by: the flags, and which units get
    # the fields that could reveal where the child lives hidden.
    carries = updates.protection(granted.handover)
    recipients = updates.recipients(granted.handover)
    location_fields = [f.label_in(language()) for f in definition.fields()
                       if f.reveals_location or any(sub.reveals_location for sub in f.fields)]
    return render_template("journey/update.html", handover=granted.handover, form=form,
                           definition=definition, language=language(),
                           recipients=recipients, window=updates.window_days(),
                           submission_token=token, location_cases=carries.cases_in(language()),
                           location_fields=location_fields,
                           hidden_from=[unit for unit in recipients if location_fields
                                        and carries.hides_location_from(unit.id)]), status


def _to_edit(handover_id, message, category):
    flash(message, category)
    return redirect(url_for(".edit", handover_id=handover_id))


def drafts_identity_hash(granted):
    """The keyed hash of the identity code saved in the draft, if any."""
    definition = definition_of(granted.handover)
    field = definition.identity_code_field
    content = drafts.content_of(granted.handover) if field else {}
    return earlier_handovers.hash_of_code(content.get(field)) if field else None


def _back(handover_id, message, category, anchor=None):
    flash(message, category)
    return redirect(url_for(".view", handover_id=handover_id, _anchor=anchor))


@bp.app_context_processor
def journey_helpers():
    """`journey_panel(granted)` for the templates in ``journey/``: what the page shows of the
    journey, computed only when a page includes them."""
    return {"journey_panel": journey_panel, "reply_basis_choices": reply_basis_choices,
            "prefill_awaiting": prefill.awaiting, "reply_heading": reply_heading}


def reply_heading(handover):
    """What the reply-form page (``handovers/reply_form.html``) names above the reply form:
    the handover's form and, when this reader may see it, the child, read and audited as a
    list row shows them (``handover.listed``). Once per request, however often the page asks
    (its title and its heading)."""
    cached = g.setdefault("reply_headings", {})
    if handover.id not in cached:
        row = listing.rows_for(current_user._get_current_object(), [handover], language())[0]
        fields = definition_of(handover).summary_fields
        name = (row.summary or {}).get(fields[0]) if fields else None
        cached[handover.id] = {"form": row.title, "child": str(name) if name else None}
    return cached[handover.id]


def reply_basis_choices(handover, unit_id):
    return disclosures.reply_bases(handover, unit_id, language())


def journey_panel(granted, earlier):
    """What the journey templates show on one handover's page, for this reader; ``earlier``
    is the child's earlier handovers, read and logged with the page (`open_for_reader`)."""
    handover = granted.handover
    user = current_user._get_current_object()
    panel = {
        "earlier": earlier,
        "close_form": EmptyForm() if granted.allows("close") else None,
        "can_return": granted.allows("return"),
        "can_reroute": granted.allows("reroute"),
        "returns": [], "reasons": returning.REASONS,
    }
    if granted.relation == policy.SENDING:
        panel["returns"] = returning.returns_shown(handover)
    reader_units = set(policy.inbox_unit_ids(user)) | set(policy.outbox_unit_ids(user))
    panel["updates"] = [u for u in updates.updates_of(handover)
                        if u.receiver_unit_id in reader_units or u.sender_unit_id in reader_units]
    panel["can_update"] = granted.allows("update") and handover.form_key != updates.FORM_KEY
    panel["update_refused"] = (policy.IDENTITY_CODE_NEEDED
                               if handover.form_key != updates.FORM_KEY
                               and policy.update_needs_identity_code(granted) else None)
    return panel
