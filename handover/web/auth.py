"""Logging in (password, then a one-time code; enrolment on first login) and out.

The views only move between pages; what each step means lives in `handover.security.login`.
"""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from limits.errors import StorageError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.i18n import ngettext
from handover.security import login as login_steps
from handover.security import sessions, totp
from handover.security.passwords import MAX_LENGTH
from handover.security.redirects import safe_next
from handover.security.throttle import login_attempt
from handover.web.form_base import HandoverForm
from handover.web.handovers import keeping

bp = Blueprint("auth", __name__)


class LoginForm(HandoverForm):
    email = StringField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(HandoverForm):
    code = StringField(
        _l("Code"),
        description=_l("The six-digit code your authenticator app shows now."),
        validators=[DataRequired(), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


@bp.route("/login", methods=["GET", "POST"])
@login_attempt
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = login_steps.check_password(form.email.data, form.password.data,
                                          request.args.get("next"))
        if user is not None:
            step = "auth.totp" if user.totp_secret else "auth.enrol"
            return redirect(url_for(step))
        form.password.errors.append(_("The e-mail address or password is wrong."))
    return render_template("auth/login.html", form=form)


def _expired():
    flash(_("Your login took too long. Log in again."), "info")
    return redirect(url_for("auth.login"))


def after_login(next_url):
    """Where a user goes once logged in (with a password, a code or the organisation's
    account): a new password first if one is due (never while password login is off: the
    account has no password to change), else where they were going, else the page where
    typing kept from an expired session waits, else the front page."""
    kept_page = _kept_typing_page()   # asked in any case: the session remembers the answer
    if login_steps.password_change_due(current_user):
        flash(_("Choose a new password before you continue."), "info")
        return redirect(url_for("account.change_password"))
    return redirect(next_url or kept_page or url_for("home.index"))


def _kept_typing_page():
    """The page where typing kept from an expired session waits, if any: a user who logs in
    afresh (not through the link the page led to) lands there too."""
    waiting = keeping.typing_waiting_at_login()
    if waiting is None:
        return None
    handover_id, place = waiting
    return keeping.page_for(handover_id, place)


@bp.post("/session/refresh")
def stay_signed_in():
    """"Stay signed in" in the warning before the idle timeout: the session counts as used
    now. The page's script asks for JSON (and learns how long the session now lasts); a plain
    form post goes back to the page it came from."""
    wants_json = request.accept_mimetypes.best == "application/json"
    if not current_user.is_authenticated:
        if wants_json:
            return jsonify(signed_out=True), 401
        return redirect(url_for("auth.login"))
    expires_in = sessions.refresh(current_user)
    if wants_json:
        return jsonify(expires_in=expires_in)
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))


@bp.route("/login/totp", methods=["GET", "POST"], endpoint="totp")
@login_attempt
def totp_step():
    user = login_steps.pending_user()
    if user is None:
        return _expired()
    if not user.totp_secret:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        next_url = login_steps.pending_next()
        try:
            if login_steps.check_code(user, form.code.data):
                return after_login(next_url)
        except login_steps.CodesLocked:
            return _codes_locked()
        form.code.errors.append(_("The code is wrong or has already been used. Wait for the "
                                  "next code and try again."))
        left = login_steps.codes_left(user)
        if left <= 2:
            form.code.errors.append(ngettext(
                "One more wrong code locks the two-step login of this account.",
                "%(num)s more wrong codes lock the two-step login of this account.", left))
    elif login_steps.codes_locked(user):
        return _codes_locked()
    return render_template("auth/totp.html", form=form)


def _codes_locked():
    message = _("Too many wrong codes in a row: the two-step login of this account is locked. "
                "Ask your administrator to unlock it; until then no code is accepted.")
    return render_template("errors/error.html", code=403, message=message,
                           heading=_("Two-step login locked")), 403


@bp.route("/login/enrol", methods=["GET", "POST"])
@login_attempt
def enrol():
    user = login_steps.pending_user()
    if user is None:
        return _expired()
    if user.totp_secret:
        return redirect(url_for("auth.totp"))
    form = CodeForm()
    if form.validate_on_submit():
        next_url = login_steps.pending_next()
        if login_steps.confirm_enrolment(user, form.code.data):
            flash(_("Two-step login is now set up for your account."), "success")
            return after_login(next_url)
        form.code.errors.append(_("The code did not match. Check that the app shows a code for "
                                  "Handover and try the newest code."))
    secret = login_steps.enrolment_secret(user)
    uri = totp.provisioning_uri(secret, user.email)
    return render_template(
        "auth/enrol.html",
        form=form,
        qr_code=totp.qr_code_svg(uri, _("QR code for your authenticator app")),
        secret=secret,
    )


@bp.post("/logout")
@login_required
def logout():
    login_steps.logout(current_user._get_current_object())
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.errorhandler(429)
def too_many_attempts(error):
    message = _("Too many login attempts. For the safety of the account, wait a minute and "
                "try again.")
    return render_template("errors/error.html", code=429, message=message), 429


@bp.app_errorhandler(StorageError)
def throttle_storage_down(error):
    """The attempt counter cannot be reached: refuse rather than let guesses through uncounted."""
    if request.blueprint == "auth":
        message = _("Logging in is temporarily unavailable. Try again in a few minutes.")
    else:
        message = _("The service is temporarily unavailable. Try again in a moment.")
    return render_template("errors/error.html", code=503, message=message), 503
