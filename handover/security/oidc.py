"""Signing in through the organisation's OpenID Connect provider (Entra ID, Keycloak, MPASSid).

authlib's Flask client does the protocol: the authorization code flow with PKCE (S256), a state
and a nonce kept in the signed session cookie, the code exchanged over the back channel, and
the ID token's signature checked against the provider's published keys (JWKS), its issuer
against the configured one, its audience against our client id, its expiry and its nonce.
What this module adds is Handover's policy on top: which claims identify the person (issuer,
subject and, for Entra ID, tenant: never the e-mail), whether the provider must say that
multi-factor authentication was used (``amr``/``acr``), and a refusal with a reason for each
way a sign-in can fail. Matching the identity to an account is `services.sso_accounts`.

Configuration (``HANDOVER_OIDC_*``): ISSUER, CLIENT_ID, CLIENT_SECRET, SCOPES, EMAIL_CLAIM,
NAME_CLAIM, TENANT_CLAIM, REQUIRE_MFA, MFA_AMR (accepted ``amr`` values, comma-separated),
MFA_ACR (accepted ``acr`` values), PROVISION, LABEL.
"""

import secrets
import time
from urllib.parse import urlencode

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app, session
from requests.exceptions import RequestException

from handover.security.redirects import safe_next
from handover.security.sessions import credentials_stamp
from handover.security.throttle import PENDING_KEY, mark_failed, normalise_email

CLIENT = "organisation"
_EXTENSION = "handover_oidc"
#: Kept in the session from start to callback: where to land afterwards.
NEXT_KEY = "sso_next"
#: Set in the session of a user signed in through the provider: logout ends its session too.
SIGNED_IN_KEY = "sso_signed_in"
#: In the pending login state (`begin_code_step`): its first step was the provider's sign-in.
VIA_PROVIDER = "sso"
#: ``amr`` values that mean more than one factor (RFC 8176), unless HANDOVER_OIDC_MFA_AMR says.
DEFAULT_MFA_AMR = ("mfa", "otp", "hwk", "swk", "sms", "tel", "fpt", "face", "iris", "sc")
#: Seconds of clock difference allowed when checking the ID token's times.
LEEWAY = 60


class SsoRefused(Exception):
    """A sign-in through the provider was refused; ``reason`` goes to the audit log, the page
    shows the message for it."""

    def __init__(self, reason, detail=""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def enabled(app=None):
    app = app or current_app
    return bool(app.config.get("OIDC_ISSUER") and app.config.get("OIDC_CLIENT_ID"))


def init_app(app):
    """Register the provider's client when HANDOVER_OIDC_ISSUER and _CLIENT_ID are set."""
    if not enabled(app):
        return
    # The issuer stays exactly as configured: the ID token's ``iss`` must equal it character
    # for character (OpenID Connect Core 3.1.3.7), and some providers' issuers end in "/"
    # (Entra ID v1 ``https://sts.windows.net/{tenant}/``, Auth0). Only the discovery URL,
    # which is the issuer with the well-known path appended, drops a trailing "/".
    issuer = app.config["OIDC_ISSUER"].strip()
    app.config["OIDC_ISSUER"] = issuer
    oauth = app.extensions[_EXTENSION] = OAuth(app)  # one per app: its own provider, its cache
    oauth.register(
        CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "timeout": 10},
    )


def client():
    return current_app.extensions[_EXTENSION].create_client(CLIENT)


def start(redirect_uri, next_url):
    """The redirect to the provider's sign-in page; state, nonce and PKCE verifier are kept
    in the session by authlib."""
    session[NEXT_KEY] = safe_next(next_url)
    try:
        return client().authorize_redirect(redirect_uri, nonce=_random())
    except (AuthlibBaseError, RequestException, ValueError) as error:
        raise SsoRefused("provider_unreachable", type(error).__name__) from None


def verified_identity():
    """On the callback: the checked ID token's claims, or `SsoRefused` with the reason."""
    try:
        token = client().authorize_access_token(leeway=LEEWAY)
    except RequestException as error:
        raise SsoRefused("provider_unreachable", type(error).__name__) from None
    except Exception as error:  # noqa: BLE001 - authlib and joserfc raise many kinds
        raise SsoRefused(_reason_of(error), type(error).__name__) from None
    claims = token.get("userinfo")
    if not claims:
        raise SsoRefused("no_id_token")
    issuer = current_app.config["OIDC_ISSUER"]
    if claims.get("iss") != issuer:
        # authlib checks against the discovery document's issuer; it must be ours as well.
        raise SsoRefused("issuer")
    return dict(claims)


def _reason_of(error):
    """A short reason for the audit log, from the kind of error authlib or joserfc raised."""
    name = type(error).__name__
    claim = getattr(error, "claim_name", None) or getattr(error, "claim", None)
    if name == "MismatchingStateError" or "state" in str(getattr(error, "description", "")):
        return "state"
    if name in ("ExpiredTokenError",) or claim == "exp":
        return "expired"
    if claim == "nonce":
        return "nonce"
    if claim == "iss":
        return "issuer"
    if claim in ("aud", "azp"):
        return "audience"
    if claim:
        return f"claim_{claim}"[:40]
    if name in ("BadSignatureError", "DecodeError", "InvalidKeyIdError",
                "UnsupportedAlgorithmError", "InvalidPayloadError", "MissingKeyError"):
        return "signature"
    if getattr(error, "error", None):
        return "provider_error"
    return "invalid_token"


def identity_of(claims):
    """``(issuer, tenant, subject)``: what identifies the person. The tenant comes from the
    claim HANDOVER_OIDC_TENANT_CLAIM names (``tid`` for Entra ID), "" when none is set."""
    subject = claims.get("sub")
    if not subject or not isinstance(subject, str):
        raise SsoRefused("no_subject")
    tenant_claim = current_app.config.get("OIDC_TENANT_CLAIM")
    tenant = ""
    if tenant_claim:
        tenant = claims.get(tenant_claim)
        if not tenant or not isinstance(tenant, str):
            raise SsoRefused("no_tenant")
    return current_app.config["OIDC_ISSUER"], tenant, subject


def profile_of(claims):
    """``(email, name)`` for a provisioned account: shown to people, never used to match."""
    config = current_app.config
    email = normalise_email(str(claims.get(config["OIDC_EMAIL_CLAIM"]) or ""))
    name = str(claims.get(config["OIDC_NAME_CLAIM"]) or "").strip()
    return email, name


def multi_factor_used(claims):
    """Did the provider say more than one factor was used? ``amr`` (a list) holding an
    accepted value, or ``acr`` being one of HANDOVER_OIDC_MFA_ACR."""
    config = current_app.config
    accepted_amr = _listed(config.get("OIDC_MFA_AMR")) or set(DEFAULT_MFA_AMR)
    amr = claims.get("amr")
    if isinstance(amr, list) and accepted_amr & {str(value) for value in amr}:
        return True
    accepted_acr = _listed(config.get("OIDC_MFA_ACR"))
    return bool(accepted_acr) and str(claims.get("acr") or "") in accepted_acr


def require_mfa():
    return bool(current_app.config.get("OIDC_REQUIRE_MFA"))


def second_factor_required(user):
    """Whether ``user`` must give a second factor even when the provider vouched for one only
    and the instance does not require the provider's MFA: administrators and auditors (and an
    account whose administrator role awaits confirmation). Staff follow the organisation's
    sign-in policy; the accounts that manage people, keys and tokens, or read who used a
    child's data, never sign in with one factor. Without a local code they set one up."""
    return bool(user.is_admin or user.is_auditor or user.admin_awaiting_confirmation)


def begin_code_step(user):
    """Without MFA from the provider, a user with a local TOTP secret gives its code next (the
    password step's pending state, with the provider standing in for the password). The state
    says so (``via``): the code step then records the login as one through the provider and
    marks the session, so that logging out ends the provider's session too (`login._finish`)."""
    session[PENDING_KEY] = {"user_id": user.id, "email": normalise_email(user.email),
                            "at": int(time.time()), "next": session.pop(NEXT_KEY, None),
                            "via": VIA_PROVIDER, "stamp": credentials_stamp(user)}


def take_next():
    return session.pop(NEXT_KEY, None)


def refused():
    """Count a refused callback against the address, like a wrong password."""
    mark_failed()


def logout_url(post_logout_redirect_uri):
    """The provider's end-session URL (RP-initiated logout), or None when it has none."""
    try:
        metadata = client().load_server_metadata()
    except (AuthlibBaseError, RequestException, ValueError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = urlencode({"client_id": current_app.config["OIDC_CLIENT_ID"],
                       "post_logout_redirect_uri": post_logout_redirect_uri})
    return endpoint + ("&" if "?" in endpoint else "?") + query


def _listed(value):
    if not value:
        return set()
    if isinstance(value, (list, tuple, set)):
        return {str(item).strip() for item in value if str(item).strip()}
    return {item.strip() for item in str(value).split(",") if item.strip()}


def _random():
    return secrets.token_urlsafe(24)
