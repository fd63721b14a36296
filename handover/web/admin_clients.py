"""Administration of integration clients: the systems that use the JSON API.

Creating a client hands out a bearer token that acts for a unit without a person at the
keyboard, so the administrator re-enters their TOTP code first; the token is shown once, in
that response only. A wrong code is audited and counts against the same per-account and
per-address limits as the login's code step (`throttle.login_attempt`): a stolen admin session
gets no more guesses here than at the login, and the sixth wrong code within a minute answers
429. An account without an authenticator app (one that signs in only through the organisation)
cannot give a code: the page says so instead of asking for one. Revoking, asked on a page of its
own first, takes effect on the client's next request. A new client's token works once another
administrator confirms the client here (`client_confirmation`). Anyone but an active
administrator gets 404 here, as on every admin page.
"""

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import TextInput

from handover.formdefs import content as content_rules
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security.throttle import login_attempt, mark_failed
from handover.services import accounts, client_confirmation, policy
from handover.services import integration_clients as clients
from handover.store.database import db
from handover.store.models import IntegrationClient, Unit
from handover.web.admin_forms import ActionForm, apply_error, decide_posted
from handover.web.definition_fields import DATE_FORMATS, MultiCheckboxField
from handover.web.form_base import HandoverForm

bp = Blueprint("admin_clients", __name__, url_prefix="/admin/clients")


#: Under a date typed as d.m.yyyy (the forms' dates say the same).
DATE_HINT = _l("Day, month and year, for example 14.3.2012")

#: The field each refusal of `integration_clients.create` is about, by its message, where the
#: service names none (it does for a name in use, also one differing only in capitals, also
#: when another admin took it a moment before): the error summary should lead to the field to
#: correct.
REFUSAL_FIELDS = {
    "Give the client a name of at most 200 characters.": "name",
    "Choose the unit the client acts for.": "unit",
    "Choose at least one scope.": "scopes",
    "An auditor's client has only the audit:read scope and no unit.": "scopes",
    "Choose an expiry date within two years.": "expires_on",
}


class ClientForm(HandoverForm):
    name = StringField(_l("Name of the system"), validators=[DataRequired(), Length(max=200)],
                       description=_l("For example the ward's patient-record system."))
    unit = SelectField(_l("Unit it acts for"), coerce=int)
    scopes = MultiCheckboxField(_l("What it may do"), validators=[DataRequired()],
                                invalid_choice_message=_l("Choose from the scopes listed."))
    # Typed as d.m.yyyy in every language, never in the browser's locale's date picker.
    # InputRequired: a date typed but not real (32.1.2027) is told so, not "required".
    expires_on = DateField(_l("Valid until"), validators=[InputRequired()],
                           format=DATE_FORMATS, widget=TextInput(), description=DATE_HINT,
                           invalid_value_message=content_rules.NOT_A_DATE)
    code = StringField(_l("Your authentication code"), validators=[DataRequired()],
                       description=_l("The six-digit code from your authenticator app."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice(0, _("None (auditor's client)"))] + [
            SelectChoice(unit.id, unit.name) for unit in accounts.all_units() if unit.is_active]
        self.scopes.choices = [SelectChoice(scope, f"{scope}: {label}")
                               for scope, label in clients.SCOPES.items()]
        if self.expires_on.data is None and not self.is_submitted():
            self.expires_on.data = content_rules.today() + timedelta(days=365)


@bp.before_request
@login_required
def only_admins():
    policy.require_admin(current_user)


#: Said instead of the code field to an administrator whose account has no authenticator app,
#: and to a form sent from such an account; followed by how the app is set up (`enrol_hint`).
NO_AUTHENTICATOR = _l("Your account has no authenticator app, so it cannot confirm a new "
                      "integration client. Ask another administrator to create the client.")
#: The app is set up only at a login with the password (auth.enrol), never from a session
#: opened through the organisation.
ENROL_BY_PASSWORD = _l("To set up the app, log out and log in with your e-mail address and "
                       "password: the login sets it up.")
ENROL_THROUGH_ADMIN = _l("To set up the app, ask another administrator to turn password login "
                         "on for your account and reset its password: the first login with "
                         "the temporary password sets it up.")
TOO_MANY_CODES = _l("Too many wrong codes. For the safety of your account, wait a minute and "
                    "try again.")


@bp.route("", methods=["GET", "POST"])
@login_attempt  # outermost: the limiter knows a throttled view by the function Flask holds
def index():
    can_confirm = clients.can_confirm(current_user)
    form = ClientForm()
    if form.is_submitted() and not can_confirm:
        clients.confirm_code(current_user, None)   # refused and audited; not a guess
        return _page(form, can_confirm), 403
    if form.validate_on_submit():
        if not clients.confirm_code(current_user, form.code.data):
            mark_failed()   # counted like a wrong code at the login
            form.code.errors = [*form.code.errors, _("The code is not valid. Enter the "
                                                     "current code from your app.")]
        else:   # the code is used up even if the client is refused
            # Valid through the whole day chosen, as the day ends in Finland.
            expires = datetime.combine(form.expires_on.data, time.max,
                                       tzinfo=content_rules.TIMEZONE).astimezone(UTC)
            unit = db.session.get(Unit, form.unit.data) if form.unit.data else None
            try:
                client, token = clients.create(current_user, form.name.data, unit,
                                               set(form.scopes.data), expires)
            except accounts.AccountError as error:
                apply_error(form, accounts.AccountError(
                    error.message, error.field or REFUSAL_FIELDS.get(error.message),
                    **error.params))
            else:
                # Rendered into this response only, never stored: the token is shown once.
                return render_template("admin_clients/token.html", client=client,
                                       token=token)
    return _page(form, can_confirm)


@bp.errorhandler(429)
def too_many_codes(error):
    return render_template("errors/error.html", code=429, message=TOO_MANY_CODES), 429


def _page(form, can_confirm):
    if can_confirm:
        form.code.data = ""
    enrol_hint = ENROL_BY_PASSWORD if current_user.password_login else ENROL_THROUGH_ADMIN
    return render_template("admin_clients/index.html", form=form, can_confirm=can_confirm,
                           no_authenticator=NO_AUTHENTICATOR, enrol_hint=enrol_hint,
                           clients=clients.all_clients(), units=_unit_names(),
                           may_confirm=client_confirmation.may_confirm,
                           action_form=ActionForm(), now=datetime.now(UTC))


@bp.post("/<int:client_id>/confirm")
def confirm(client_id):
    return _decide(client_id, client_confirmation.confirm,
                   _("Integration client confirmed: its token works now."))


@bp.post("/<int:client_id>/refuse")
def refuse(client_id):
    return _decide(client_id, client_confirmation.refuse,
                   _("Integration client refused: its token never works."))


def _decide(client_id, decision, done):
    client = db.get_or_404(IntegrationClient, client_id)
    return decide_posted(lambda: decision(current_user._get_current_object(), client), done,
                         url_for(".index"))


@bp.route("/<int:client_id>/revoke", methods=["GET", "POST"])
def revoke(client_id):
    """The list's Revoke leads to a page saying what revoking does, without JavaScript: it
    cannot be undone. Only the confirming POST revokes."""
    client = db.get_or_404(IntegrationClient, client_id)
    if request.method == "GET":
        if client.revoked_at is not None:
            return redirect(url_for(".index"))
        return render_template("admin_clients/revoke.html", client=client)
    if ActionForm().validate_on_submit():
        clients.revoke(current_user, client)
        flash(_("The client's token was revoked."), "success")
    return redirect(url_for(".index"))


def _unit_names():
    return {unit.id: unit.name for unit in accounts.all_units()}
