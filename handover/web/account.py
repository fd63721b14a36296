"""The logged-in user's own account: interface language and password.

A password set by an administrator (or a reset) is temporary: until the user chooses their own,
every page except this one, logging out and the public pages sends them here. Not while the
account's password login is off: it signs in only through the organisation's provider and has
no password it could use.
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_required
from wtforms import PasswordField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo

from handover.i18n import LANGUAGE_NAMES
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security import login as login_steps
from handover.security.passwords import password_problems, verify_password
from handover.security.throttle import login_attempt, mark_failed
from handover.store.database import db
from handover.web.form_base import HandoverForm

bp = Blueprint("account", __name__)

#: Endpoints a user with a forced password change may still reach.
ALLOWED_BEFORE_PASSWORD_CHANGE = {
    "account.change_password",
    "auth.logout",
    "pages.set_language",
    "pages.accessibility",
    "pages.privacy",
    "health.healthz",
    "static",
}


class LanguageForm(HandoverForm):
    language = RadioField(
        _l("Interface language"),
        choices=[SelectChoice(code, name, render_kw={"lang": code})
                 for code, name in LANGUAGE_NAMES.items()],
        validators=[DataRequired()],
    )


class ChangePasswordForm(HandoverForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words make a good password."),
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )
    repeat_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


@bp.before_app_request
def require_own_password():
    if request.endpoint in ALLOWED_BEFORE_PASSWORD_CHANGE or request.endpoint is None:
        return None
    if current_user.is_authenticated and login_steps.password_change_due(current_user):
        return redirect(url_for("account.change_password"))
    return None


@bp.route("/account", methods=["GET", "POST"], endpoint="settings")
@login_required
def settings():
    form = LanguageForm(language=current_user.language or str(get_locale()))
    if form.validate_on_submit():
        current_user.language = form.language.data
        session["language"] = form.language.data
        db.session.commit()
        with force_locale(form.language.data):   # said in the language just chosen
            flash(_("Your language has been saved."), "success")
        return redirect(url_for("account.settings"))
    return render_template("account/settings.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_attempt  # outermost: the limiter knows a throttled view by the function Flask holds
@login_required
def change_password():
    user = current_user._get_current_object()
    if not user.password_login:
        # An organisation-only account has no password to change: the page would ask for a
        # current password the person never had.
        flash(_("You sign in with your organisation's account: Handover keeps no password "
                "for you."), "info")
        return redirect(url_for("account.settings"))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current_password.data):
            mark_failed()
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            problems = password_problems(form.new_password.data, email=user.email,
                                         name=user.name)
            if verify_password(user.password_hash, form.new_password.data):
                problems.append(_("Choose a password different from the current one."))
            if not problems:
                try:
                    login_steps.change_password(user, form.new_password.data)
                except login_steps.PasswordChangedMeanwhile:
                    flash(_("Your password was not changed: an administrator reset it a "
                            "moment ago. Log in with the temporary password you were given."),
                          "error")
                    return redirect(url_for("auth.login"))
                flash(_("Your password has been changed. Other sessions were logged out."),
                      "success")
                return redirect(url_for("home.index"))
            form.new_password.errors.extend(problems)
    return render_template("account/password.html", form=form,
                           forced=login_steps.password_change_due(user))
