"""Signing in with the organisation's account ("Kirjaudu organisaation tunnuksella").

`/login/organisation` sends the browser to the provider; `/login/organisation/callback`
checks what comes back (`security.oidc`), finds the account (`services.sso_accounts`) and
starts the session, or refuses with a message on the login page and an audit event. The
callback counts against the same per-address login limit as a password attempt. Logging out
of a session that began at the provider also ends the provider's session, where it publishes
an end-session endpoint (RP-initiated logout). An admin links organisation accounts to users
and turns password login off per account on the admin user page.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security import oidc, sessions, throttle
from handover.services import policy, sso_accounts
from handover.services.accounts import AccountError
from handover.store import audit
from handover.store.database import db
from handover.web.admin_forms import ActionForm, apply_error
from handover.web.auth import after_login
from handover.web.form_base import HandoverForm

bp = Blueprint("sso", __name__)


@bp.record_once
def _register_the_provider(state):
    oidc.init_app(state.app)

#: The callback is a GET (the provider redirects the browser), so it gets a limit of its own
#: in the password step's per-address bucket: refused callbacks and wrong passwords add up.
_per_address = throttle.limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    scope="login-address", key_func=throttle.address_key,
    deduct_when=lambda response: bool(g.get("login_attempt_failed")), methods=["GET"])

MESSAGES = {
    "unknown_account": _l("Your organisation account is not linked to a Handover account. "
                          "Ask your Handover administrator to link it."),
    "email_taken": _l("Your organisation account is not linked to a Handover account. "
                      "Ask your Handover administrator to link it."),
    "client_account": _l("Your organisation account is not linked to a Handover account. "
                         "Ask your Handover administrator to link it."),
    "inactive_account": _l("Your Handover account is not in use. Ask your Handover "
                           "administrator."),
    "mfa_missing": _l("Handover requires two-step verification at your organisation's sign-in, "
                      "and it was not used. Sign in again and use it."),
    "state": _l("The sign-in took too long or was started in another window. Start again."),
    "provider_unreachable": _l("Your organisation's sign-in service cannot be reached. Try "
                               "again in a moment."),
    "provider_error": _l("Your organisation's sign-in service did not sign you in. Try again."),
}
INVALID = _l("The answer from your organisation's sign-in service could not be verified, so "
             "you were not signed in. Try again; if it happens again, tell your administrator.")


@bp.app_context_processor
def _sso_in_templates():
    return {"sso_enabled": oidc.enabled(),
            "sso_label": current_app.config.get("OIDC_LABEL") or None,
            "sso_identities_of": sso_accounts.identities_of}


@bp.get("/login/organisation")
def start():
    if not oidc.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        return oidc.start(_public_url(".callback"), request.args.get("next"))
    except oidc.SsoRefused as refusal:
        return _refuse(refusal.reason, refusal.detail)


@bp.get("/login/organisation/callback")
@throttle.throttled
@_per_address
def callback():
    if not oidc.enabled():
        abort(404)
    try:
        claims = oidc.verified_identity()
        issuer, tenant, subject = oidc.identity_of(claims)
        mfa = oidc.multi_factor_used(claims)
        if oidc.require_mfa() and not mfa:
            raise oidc.SsoRefused("mfa_missing")
        email, name = oidc.profile_of(claims)
        user = sso_accounts.account_for(issuer, tenant, subject, email=email, name=name,
                                        provision=bool(current_app.config["OIDC_PROVISION"]))
    except oidc.SsoRefused as refusal:
        return _refuse(refusal.reason, refusal.detail)
    except sso_accounts.SsoAccountRefused as refusal:
        return _refuse(refusal.reason, user=refusal.user)
    if not mfa and (user.totp_secret or oidc.second_factor_required(user)):
        # The provider vouched for one factor only: the account's own code is the second,
        # set up now if an administrator's or auditor's account has none yet.
        db.session.commit()
        oidc.begin_code_step(user)
        return redirect(url_for("auth.totp"))
    next_url = oidc.take_next()
    audit.record("auth.login", actor=user, detail={"via": "sso", "mfa": mfa})
    sessions.start(user)  # commits, with the audit event, under a brand-new session id
    session[oidc.SIGNED_IN_KEY] = True
    return after_login(next_url)


def _public_url(endpoint):
    """The address the provider sends the browser back to: under BASE_URL, the instance's
    public address, which the provider has registered (not whatever Host a request named)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint)



def _refuse(reason, detail="", user=None):
    oidc.refused()
    db.session.rollback()
    audit.record("auth.sso_refused", actor=user, outcome="denied",
                 detail={"reason": reason, **({"error": detail} if detail else {})})
    db.session.commit()
    flash(str(MESSAGES.get(reason, INVALID)), "error")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def _remember_sso_before_logout():
    if request.endpoint == "auth.logout":
        g.sso_logout = bool(session.get(oidc.SIGNED_IN_KEY)) and oidc.enabled()


@bp.after_app_request
def _end_the_provider_session_too(response):
    """After Handover's own logout (`auth.logout`) of a session begun at the provider, send
    the browser on to the provider's end-session endpoint, which returns it to the login page."""
    if request.endpoint == "auth.logout" and g.get("sso_logout") and response.status_code in (
            302, 303):
        target = oidc.logout_url(_public_url("auth.login"))
        if target:
            response.headers["Location"] = target
    return response


# --- administration: linking accounts and the password-login switch -------------------------


class LinkForm(HandoverForm):
    issuer = StringField(_l("Issuer"), validators=[DataRequired(), Length(max=500)])
    subject = StringField(_l("Subject identifier"), validators=[DataRequired(), Length(max=255)],
                          description=_l("The provider's stable identifier of the person "
                                         "(the sub claim), not their e-mail address."))
    tenant = StringField(_l("Tenant"), validators=[Optional(), Length(max=100)],
                         description=_l("For Microsoft Entra ID: the organisation's tenant "
                                        "id. Leave empty for other providers."))


def _admin_user(user_id):
    """The person whose organisation accounts an admin manages: 404 for an integration
    client's account as for an unknown id, as on the other user pages (`policy.require_person`)."""
    policy.require_admin(current_user)
    return policy.require_person(user_id)


@bp.route("/admin/users/<int:user_id>/sso", methods=["GET", "POST"])
@login_required
def link(user_id):
    user = _admin_user(user_id)
    form = LinkForm(issuer=current_app.config.get("OIDC_ISSUER") or "")
    if form.validate_on_submit():
        try:
            suspended = len(user.memberships)
            sso_accounts.link(user, form.issuer.data, form.subject.data, form.tenant.data,
                              actor=current_user)
        except AccountError as error:
            apply_error(form, error)
        else:
            flash(_("Organisation account linked."), "success")
            if suspended:
                flash(_("The person's memberships now await confirmation by a lead of each unit "
                        "or another administrator. You cannot confirm them yourself."), "info")
            return redirect(url_for("admin.user", user_id=user.id))
    status = 400 if form.errors else 200
    return render_template("admin/sso_link.html", user=user, form=form), status


@bp.post("/admin/users/<int:user_id>/sso/<int:identity_id>/unlink")
@login_required
def unlink(user_id, identity_id):
    user = _admin_user(user_id)
    if ActionForm().validate_on_submit():
        try:
            sso_accounts.unlink(user, identity_id, actor=current_user)
        except AccountError as error:
            flash(error.translated(), "error")
        else:
            flash(_("Organisation account unlinked."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/password-login")
@login_required
def password_login(user_id):
    user = _admin_user(user_id)
    if ActionForm().validate_on_submit():
        allowed = request.form.get("allowed") == "1"
        try:
            sso_accounts.set_password_login(user, allowed, actor=current_user)
        except AccountError as error:
            flash(error.translated(), "error")
        else:
            if not allowed:
                flash(_("Password login turned off: this account signs in only with its "
                        "organisation account."), "success")
            elif sso_accounts.has_password(user):
                flash(_("Password login turned on."), "success")
            else:
                flash(_("Password login turned on. The account has no password yet: reset "
                        "the password to give it a temporary one."), "success")
    return redirect(url_for("admin.user", user_id=user.id))
