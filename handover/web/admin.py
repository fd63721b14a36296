"""Administration: units, users, memberships and handover statistics.

Admins manage accounts; they never see handover content (statistics are counts only). Anyone
else gets 404 on every page here, so the pages are not confirmed to exist.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security.login import codes_locked
from handover.services import accounts, accounts_admins, client_confirmation, policy
from handover.services.statistics import handover_counts
from handover.store.database import db
from handover.store.models import Membership, Unit
from handover.web.admin_forms import (
    ActionForm,
    MembershipForm,
    ResetPasswordForm,
    SystemRolesForm,
    UnitForm,
    UserForm,
    apply_error,
    decide_posted,
)
from handover.web.ui import STATUS_LABELS, language

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def only_admins():
    policy.require_admin(current_user)


# --- units ----------------------------------------------------------------------------------


@bp.route("/units", methods=["GET", "POST"])
def units():
    form = UnitForm(prefix="unit")
    if form.validate_on_submit():
        try:
            unit = accounts.create_unit(form.name.data, form.kind.data, form.organisation.data,
                                        form.email.data)
        except accounts.AccountError as error:
            apply_error(form, error)
        else:
            flash(_("Unit %(name)s created.", name=unit.name), "success")
            return redirect(url_for(".units"))
    return render_template("admin/units.html", units=accounts.all_units(), form=form)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def unit(unit_id):
    unit = db.get_or_404(Unit, unit_id)
    form = UnitForm(prefix="unit", obj=unit)
    if form.validate_on_submit():
        try:
            accounts.update_unit(unit, form.name.data, form.kind.data, form.organisation.data,
                                 form.email.data)
        except accounts.AccountError as error:
            apply_error(form, error)
        else:
            flash(_("Unit saved."), "success")
            return redirect(url_for(".unit", unit_id=unit.id))
    members = accounts.memberships_of(unit)
    return render_template("admin/unit.html", unit=unit, form=form, members=members,
                           action_form=ActionForm())


@bp.route("/units/<int:unit_id>/active", methods=["GET", "POST"])
def unit_active(unit_id):
    """Deactivating asks first, on a page of its own (no JavaScript needed), saying how many
    handovers still await the unit's acknowledgement: its members lose access to them.
    Reactivating takes one click. Only the POST changes anything."""
    unit = db.get_or_404(Unit, unit_id)
    if request.method == "GET":
        if not unit.is_active:
            return redirect(url_for(".unit", unit_id=unit.id))
        return render_template("admin/deactivate_unit.html", unit=unit,
                               open_handovers=accounts.awaiting_acknowledgement(unit))
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        accounts.set_unit_active(unit, active)
        flash(_("Unit reactivated.") if active else _("Unit deactivated."), "success")
    return redirect(url_for(".unit", unit_id=unit.id))


# --- users ----------------------------------------------------------------------------------


@bp.get("/users")
def users():
    query = request.args.get("q", "")[:200]
    return render_template("admin/users.html", users=accounts.search_users(query), query=query)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user, temporary = accounts.create_user(form.email.data, form.name.data,
                                                   admin=form.admin.data,
                                                   auditor=form.auditor.data,
                                                   actor=current_user._get_current_object())
        except accounts.AccountError as error:
            apply_error(form, error)
        else:
            # Rendered into this response only, never stored: the password is shown once.
            return render_template("admin/temporary_password.html", user=user,
                                   password=temporary, created=True)
    return render_template("admin/new_user.html", form=form)


@bp.get("/users/<int:user_id>")
def user(user_id):
    user = policy.require_person(user_id)
    return render_template("admin/user.html", **_user_page(user))


@bp.post("/users/<int:user_id>/memberships")
def add_membership(user_id):
    user = policy.require_person(user_id)
    form = _membership_form()
    if form.validate_on_submit():
        try:
            accounts.add_membership(user, db.session.get(Unit, form.unit.data), form.role.data,
                                    actor=current_user._get_current_object())
        except accounts.AccountError as error:
            apply_error(form, error)
        else:
            flash(_("Membership added. It gives access once a lead of the unit or another "
                    "administrator confirms it."), "success")
            return redirect(url_for(".user", user_id=user.id))
    return render_template("admin/user.html", **_user_page(user, membership_form=form)), 400


@bp.post("/users/<int:user_id>/roles")
def system_roles(user_id):
    """Make someone an administrator or auditor, or no longer one. Refused while they hold
    memberships: the admin removes those first, seeing what the person loses."""
    user = policy.require_person(user_id)
    form = SystemRolesForm()
    if form.validate_on_submit():
        try:
            accounts.set_system_roles(user, form.admin.data, form.auditor.data,
                                      actor=current_user)
        except accounts.AccountError as error:
            apply_error(form, error)
            return render_template("admin/user.html", **_user_page(user, roles_form=form)), 400
        flash(_("System roles saved."), "success")
        if user.admin_awaiting_confirmation:
            flash(ADMIN_ROLE_AWAITS, "info")
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/memberships/<int:membership_id>/remove")
def remove_membership(user_id, membership_id):
    membership = policy.require_membership_of(policy.require_person(user_id), membership_id)
    if ActionForm().validate_on_submit():
        accounts.remove_membership(membership, actor=current_user)
        flash(_("Membership removed."), "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
def user_active(user_id):
    user = policy.require_person(user_id)
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            accounts.set_user_active(user, active, actor=current_user)
        except accounts.AccountError as error:
            flash(error.translated(), "error")
        else:
            flash(_("User reactivated.") if active else
                  _("User deactivated; their sessions have ended."), "success")
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/code-step")
def open_code_step(user_id):
    user = policy.require_person(user_id)
    if ActionForm().validate_on_submit():
        try:
            opened = accounts.open_code_step(user, actor=current_user._get_current_object())
        except accounts.AccountError as error:
            flash(error.translated(), "error")
        else:
            if opened:
                flash(_("The two-step login of %(name)s is unlocked.", name=user.name),
                      "success")
            else:
                flash(_("The two-step login of %(name)s is not locked.", name=user.name), "info")
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id):
    user = policy.require_person(user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return redirect(url_for(".user", user_id=user.id))
    try:
        accounts_admins.refuse_own_password_reset(user, current_user)
    except accounts.AccountError as error:
        flash(error.translated(), "error")
        return redirect(url_for(".user", user_id=user.id))
    temporary = accounts.reset_password(user, reset_two_factor=form.reset_two_factor.data,
                                        actor=current_user._get_current_object())
    return render_template("admin/temporary_password.html", user=user, password=temporary,
                           created=False, two_factor_reset=form.reset_two_factor.data,
                           suspended=len(user.all_memberships))


#: Shown wherever an administrator gives someone the administrator role on these pages.
ADMIN_ROLE_AWAITS = _l(
    "The administrator role takes effect once another administrator confirms it under "
    "“Awaiting confirmation”. You cannot confirm it yourself. If there is no other "
    "administrator, the operator gives the role on the server: handover users set-roles "
    "EMAIL --admin.")


# --- memberships awaiting confirmation (four eyes) ------------------------------------------


@bp.get("/memberships/awaiting")
def awaiting():
    """Every membership, administrator role and integration client awaiting confirmation;
    Confirm and Refuse for those this administrator neither gave nor suspended by a password
    reset."""
    admin = current_user._get_current_object()
    rows = [(membership, accounts.may_confirm(membership, admin, "admin"))
            for membership in accounts.awaiting_confirmation()]
    admin_rows = [(person, accounts.may_confirm_admin_role(person, admin))
                  for person in accounts.admin_roles_awaiting()]
    client_rows = [(client, client_confirmation.may_confirm(admin, client))
                   for client in client_confirmation.awaiting()]
    return render_template("admin/awaiting.html", rows=rows, admin_rows=admin_rows,
                           client_rows=client_rows, action_form=ActionForm())


@bp.post("/users/<int:user_id>/admin-role/confirm")
def confirm_admin_role(user_id):
    return _decide_admin_role(user_id, accounts.confirm_admin_role,
                              _("Administrator role confirmed."))


@bp.post("/users/<int:user_id>/admin-role/refuse")
def refuse_admin_role(user_id):
    return _decide_admin_role(user_id, accounts.refuse_admin_role,
                              _("Administrator role refused."))


def _decide_admin_role(user_id, decision, done):
    person = policy.require_person(user_id)
    return decide_posted(lambda: decision(person, current_user._get_current_object()), done,
                         url_for(".awaiting"))


@bp.post("/memberships/<int:membership_id>/confirm")
def confirm_membership(membership_id):
    return _decide(membership_id, accounts.confirm_membership, _("Membership confirmed."))


@bp.post("/memberships/<int:membership_id>/refuse")
def refuse_membership(membership_id):
    return _decide(membership_id, accounts.refuse_membership,
                   _("Membership refused and removed."))


def _decide(membership_id, decision, done):
    membership = db.get_or_404(Membership, membership_id)
    return decide_posted(
        lambda: decision(membership, current_user._get_current_object(), by="admin"), done,
        url_for(".awaiting"))


def _membership_form():
    form = MembershipForm()
    form.unit.choices = [SelectChoice(unit.id, unit.name)
                         for unit in accounts.all_units() if unit.is_active]
    return form


def _user_page(user, membership_form=None, roles_form=None):
    # Every membership with its state: one awaiting confirmation gives no access yet.
    memberships = sorted(user.all_memberships, key=lambda m: (m.unit.name.lower(), m.role))
    return {
        "user": user,
        "memberships": memberships,
        "awaiting": any(m.confirmed_at is None for m in memberships),
        "may_hold_memberships": accounts.may_hold_memberships(user),
        "membership_form": membership_form or _membership_form(),
        # A role awaiting confirmation stays ticked: saving the form unchanged keeps it.
        "roles_form": roles_form or SystemRolesForm(
            admin=user.is_admin or user.admin_awaiting_confirmation, auditor=user.is_auditor),
        "reset_form": ResetPasswordForm(),
        "action_form": ActionForm(),
        "codes_locked": codes_locked(user),
        # Another administrator unlocks an administrator's own code step (accounts).
        "own_account": user.id == current_user.id,
    }


# --- statistics -----------------------------------------------------------------------------


@bp.get("/statistics")
def statistics():
    """How many handovers there are per form and state: numbers only, never content."""
    counts = handover_counts(language())
    return render_template(
        "admin/statistics.html", table=counts.table, titles=counts.titles,
        statuses=counts.statuses,
        status_labels=STATUS_LABELS, total=counts.total, unit_count=counts.unit_count,
        user_count=counts.user_count,
    )
