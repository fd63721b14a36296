"""Forms of the account-management pages (admin and unit lead). The rules themselves live in
`handover.services.accounts`; these forms only shape and label the input."""

from flask import flash, redirect
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from handover.i18n import lazy_gettext as _l
from handover.services import accounts
from handover.store.models.accounts import MEMBERSHIP_ROLES
from handover.web import ui
from handover.web.form_base import HandoverForm


def role_choices():
    return [SelectChoice(role, ui.ROLE_LABELS.get(role, role)) for role in MEMBERSHIP_ROLES]


class ActionForm(HandoverForm):
    """A button that changes something: carries only the CSRF token."""


def decide_posted(decision, done, back):
    """Answer a decision's button (confirm or refuse a membership, an administrator role, an
    integration client): run ``decision()`` when the post carries a valid CSRF token, flash
    ``done`` or the service's reason for refusing, and redirect to ``back``."""
    if ActionForm().validate_on_submit():
        try:
            decision()
        except accounts.AccountError as error:
            flash(error.translated(), "error")
        else:
            flash(done, "success")
    return redirect(back)


class UnitForm(HandoverForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    organisation = StringField(
        _l("Organisation"), validators=[Optional(), Length(max=200)],
        description=_l("For example the wellbeing services county or the municipality."),
    )
    email = StringField(
        _l("Unit e-mail address"), validators=[Optional(), Length(max=254)],
        description=_l("A shared address for notifications. Optional."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(kind, ui.unit_kind_label(kind))
                             for kind in accounts.unit_kinds()]


class UserForm(HandoverForm):
    email = StringField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    admin = BooleanField(
        _l("Administrator"),
        description=_l("Manages units, users and plugins. Cannot read handovers."),
    )
    auditor = BooleanField(_l("Auditor"), description=_l("Reads the audit log."))


class SystemRolesForm(HandoverForm):
    admin = BooleanField(
        _l("Administrator"),
        description=_l("Manages units, users and plugins. Cannot read handovers."),
    )
    auditor = BooleanField(_l("Auditor"), description=_l("Reads the audit log."))


class MembershipForm(HandoverForm):
    unit = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])


class LeadMemberForm(HandoverForm):
    email = StringField(
        _l("E-mail address"), validators=[DataRequired(), Length(max=254)],
        description=_l("The person must already have an active account."),
    )
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])


class ResetPasswordForm(HandoverForm):
    reset_two_factor = BooleanField(
        _l("Also reset two-factor authentication"),
        description=_l("Only when the person has lost their authenticator. They will enrol "
                       "again at their next login."),
    )


def apply_error(form, error):
    """Show an `accounts.AccountError` on the field it concerns (or the first field), so the
    error summary links to it."""
    field = getattr(form, error.field or "", None)
    if field is None:
        field = next(f for f in form if f.name != "csrf_token")
    field.errors = [*field.errors, error.translated()]
