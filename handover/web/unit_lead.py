"""A unit lead manages the members of the units they lead, without an administrator.

A lead adds people who already have an active account (accounts are an admin's job) and removes
members; they cannot touch other units (404) nor give system roles such as admin. They also
confirm or refuse the memberships of their unit that await confirmation (four eyes: an
administrator added them or reset the person's password), never their own.
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from handover.i18n import gettext as _
from handover.services import accounts, late_drafts, policy
from handover.web.admin_forms import ActionForm, LeadMemberForm, apply_error, decide_posted
from handover.web.ui import language

bp = Blueprint("unit_lead", __name__, url_prefix="/lead")


@bp.before_request
@login_required
def only_leads():
    """Nobody but a lead of some unit learns that these pages exist."""
    if not policy.led_units(current_user):
        raise policy.NotFound("lead")


@bp.get("/units")
def units():
    return render_template("unit_lead/units.html", units=policy.led_units(current_user))


@bp.get("/units/<int:unit_id>")
def unit(unit_id):
    unit = policy.require_led_unit(current_user, unit_id)
    return render_template("unit_lead/unit.html", **_unit_page(unit))


@bp.post("/units/<int:unit_id>/members")
def add_member(unit_id):
    unit = policy.require_led_unit(current_user, unit_id)
    form = LeadMemberForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        try:
            if user is None or not user.active:
                raise accounts.AccountError(
                    accounts.N_("No active user has this e-mail address. Ask an administrator "
                                "to create the account."), field="email")
            accounts.add_membership(user, unit, form.role.data, actor=current_user,
                                    by="unit_lead")
        except accounts.AccountError as error:
            apply_error(form, error)
        else:
            flash(_("%(name)s added.", name=user.name), "success")
            return redirect(url_for(".unit", unit_id=unit.id))
    return render_template("unit_lead/unit.html", **_unit_page(unit, form)), 400


@bp.post("/units/<int:unit_id>/members/<int:membership_id>/remove")
def remove_member(unit_id, membership_id):
    unit = policy.require_led_unit(current_user, unit_id)
    membership = policy.require_membership_in(unit, membership_id)
    if ActionForm().validate_on_submit():
        try:
            accounts.remove_membership(membership, actor=current_user, by="unit_lead")
        except accounts.AccountError as error:
            flash(error.translated(), "error")
        else:
            flash(_("Member removed."), "success")
    return redirect(url_for(".unit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/members/<int:membership_id>/confirm")
def confirm_member(unit_id, membership_id):
    """Four eyes: a membership an administrator added (or suspended by resetting the person's
    password) gives access once a lead of the unit confirms it here."""
    return _decide(unit_id, membership_id, accounts.confirm_membership,
                   _("Membership confirmed."))


@bp.post("/units/<int:unit_id>/members/<int:membership_id>/refuse")
def refuse_member(unit_id, membership_id):
    return _decide(unit_id, membership_id, accounts.refuse_membership,
                   _("Membership refused and removed."))


def _decide(unit_id, membership_id, decision, done):
    unit = policy.require_led_unit(current_user, unit_id)
    membership = policy.require_membership_in(unit, membership_id)
    return decide_posted(
        lambda: decision(membership, current_user._get_current_object(), by="unit_lead"), done,
        url_for(".unit", unit_id=unit.id))


def _unit_page(unit, form=None):
    lead = current_user._get_current_object()
    held = accounts.memberships_of(unit)
    members = [m for m in held if m.confirmed_at is not None]
    awaiting = [(m, accounts.may_confirm(m, lead, "unit_lead"))
                for m in held if m.confirmed_at is None]
    return {"unit": unit, "members": members, "awaiting": awaiting,
            "form": form or LeadMemberForm(),
            "action_form": ActionForm(),
            # the late-draft notice leads here; a lead who is also a sender may open them
            "late_drafts": late_drafts.late_of_unit(unit.id, language()),
            "opens_drafts": unit.id in policy.draft_unit_ids(current_user)}
