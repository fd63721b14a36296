"""Which Handover account an organisation account (OpenID Connect identity) signs in as.

Matching is by the provider's issuer, tenant and subject only: an e-mail address is shown to
people but never trusted to match, because providers let users edit it and a reused address
would hand someone else's account over. An admin links an identity to an existing account, or
the instance lets a first sign-in create an account (HANDOVER_OIDC_PROVISION, off by default)
with no unit memberships: those stay Handover's to grant. An admin can also turn password
login off for an account, so that it signs in only through the provider.

Each change is one transaction with its audit event; refusals raise `SsoAccountRefused` with a
reason for the audit log, or `AccountError` for what an admin can correct.
"""

import secrets

from flask import current_app
from sqlalchemy import func, select

from handover.security import sessions
from handover.services.accounts import (
    N_,
    AccountError,
    is_client_account,
    normalise_email,
    one_transaction,
    refuse_client_account,
)
from handover.services.accounts_admins import suspend_admin_role
from handover.services.accounts_memberships import suspend_memberships
from handover.store import audit
from handover.store.database import db
from handover.store.models import OidcIdentity, User
from handover.store.models.base import utcnow

#: A password hash no password matches (argon2 hashes start with "$argon2").
NO_HASH = "!sso-only"


class SsoAccountRefused(Exception):
    """The identity signs in as nobody: unknown, deactivated, its e-mail taken, or linked to
    an integration client's account."""

    def __init__(self, reason: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason, self.user = reason, user


def find_identity(issuer: str, tenant: str, subject: str) -> OidcIdentity | None:
    """The identity linked for this issuer, tenant and subject. The issuer matches with or
    without a trailing "/" (the exact form first): Handover signs in through one configured
    provider, and a link made before its issuer was kept as configured (the admin form offered
    it with the "/" cut off) may name it either way. `link` asks the same question, so that it
    never makes a second link a sign-in would find."""
    found = db.session.scalars(
        select(OidcIdentity).where(OidcIdentity.issuer.in_(_issuer_forms(issuer)),
                                   OidcIdentity.tenant == tenant,
                                   OidcIdentity.subject == subject)
        .order_by(OidcIdentity.id)).all()
    exact = [identity for identity in found if identity.issuer == issuer]
    return (exact or found)[0] if found else None


def _issuer_forms(issuer: str) -> list[str]:
    """``issuer`` with and without its trailing "/"."""
    bare = issuer.rstrip("/")
    return [bare, bare + "/"] if bare else [issuer]


def configured_issuer() -> str | None:
    """The issuer of the organisation's provider (HANDOVER_OIDC_ISSUER) exactly as a sign-in
    presents it, or None when sign-in through a provider is not configured."""
    issuer = (current_app.config.get("OIDC_ISSUER") or "").strip()
    return issuer or None


def has_password(user: User) -> bool:
    """Has the account a password at all? One provisioned at its first sign-in has none, nor
    one whose temporary password was dropped when password login was turned off."""
    return user.password_hash != NO_HASH


def account_for(issuer: str, tenant: str, subject: str, *, email: str = "", name: str = "",
                provision: bool = False) -> User:
    """The active account this identity signs in as; provisions one when allowed."""
    identity = find_identity(issuer, tenant, subject)
    if identity is not None:
        user = identity.user
        if is_client_account(user):
            # No longer linkable (`link`), but a link made before that was refused must not
            # sign anyone in as the account an API client acts under.
            raise SsoAccountRefused("client_account")
        if not user.active:
            raise SsoAccountRefused("inactive_account", user)
        identity.last_sign_in_at = utcnow()
        return user
    if not provision:
        raise SsoAccountRefused("unknown_account")
    return _provision(issuer, tenant, subject, email, name)


def _provision(issuer: str, tenant: str, subject: str, email: str, name: str) -> User:
    """A new account with no memberships and no password, linked to the identity."""
    email = normalise_email(email)
    if "@" not in email:
        email = f"sso-{secrets.token_hex(6)}@sso.invalid"
    # Stored addresses are lower-cased by Python (`normalise_email`), so equality is the same
    # test on SQLite and PostgreSQL, where SQL lower() would differ for ä, ö and å.
    taken = db.session.scalar(select(func.count(User.id)).where(User.email == email))
    if taken:
        # Never join an existing account by its address: an admin links it explicitly.
        raise SsoAccountRefused("email_taken")
    user = User(email=email[:254], name=(name or email.split("@")[0])[:200],
                password_hash=NO_HASH, password_login=False)
    db.session.add(user)
    db.session.flush()
    db.session.add(OidcIdentity(user_id=user.id, issuer=issuer, tenant=tenant, subject=subject,
                                last_sign_in_at=utcnow()))
    audit.record("account.sso_provisioned", actor=user, detail={"user_id": user.id})
    db.session.flush()
    return user


def identities_of(user: User) -> list[OidcIdentity]:
    return list(db.session.scalars(select(OidcIdentity).where(OidcIdentity.user_id == user.id)
                                   .order_by(OidcIdentity.id)))


@one_transaction
def link(user: User, issuer: str, subject: str, tenant: str = "",
         actor: User | None = None) -> OidcIdentity:
    """Link an organisation account to ``user``: it signs in as them from now on. Never to an
    integration client's account, which is no person's and no login.

    Linked by an administrator (an ``actor``), every membership of ``user`` returns to awaiting
    confirmation (`suspend_memberships`), as after a password reset, and so does an
    administrator role (`suspend_admin_role`): the administrator could link an organisation
    account of their own and sign in as the person."""
    refuse_client_account(user)
    issuer, subject, tenant = (issuer or "").strip(), (subject or "").strip(), \
        (tenant or "").strip()
    if not issuer:
        raise AccountError(N_("Give the provider's issuer."), field="issuer")
    issuer = _as_configured(issuer)
    if not subject:
        raise AccountError(N_("Give the subject identifier the provider uses for the person."),
                           field="subject")
    existing = find_identity(issuer, tenant, subject)
    if existing is not None:
        raise AccountError(N_("This organisation account is already linked to an account."),
                           field="subject")
    identity = OidcIdentity(user_id=user.id, issuer=issuer[:500], tenant=tenant[:100],
                            subject=subject[:255])
    db.session.add(identity)
    db.session.flush()
    suspended = suspend_memberships(user, actor) if actor is not None else 0
    admin_suspended = suspend_admin_role(user, actor) if actor is not None else False
    audit.record("admin.sso_linked", actor=actor,
                 detail={"user_id": user.id, "identity_id": identity.id,
                         "memberships_suspended": suspended,
                         **({"admin_role_suspended": True} if admin_suspended else {})})
    db.session.commit()
    return identity


def _as_configured(issuer: str) -> str:
    """The issuer to store for a link: the configured one, exactly as a sign-in presents it,
    when ``issuer`` is that one with or without a trailing "/". Handover signs in through one
    provider, so any other issuer is refused: a link to it would never sign anyone in. Without
    a configured provider (links made ahead of configuring it) the issuer is kept as given."""
    configured = configured_issuer()
    if configured is None:
        return issuer
    if issuer.rstrip("/") != configured.rstrip("/"):
        raise AccountError(N_("Handover signs in only through the organisation's sign-in "
                              "service whose issuer is %(issuer)s. Give that issuer."),
                           field="issuer", issuer=configured)
    return configured


@one_transaction
def unlink(user: User, identity_id: int, actor: User | None = None) -> None:
    refuse_client_account(user)
    identity = db.session.get(OidcIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise AccountError(N_("That organisation account is not linked to this account."))
    if not user.password_login and len(identities_of(user)) == 1:
        raise AccountError(N_("Turn password login on first: otherwise nobody can sign in as "
                              "this account."))
    db.session.delete(identity)
    # The sessions it opened end with it: a link is undone because it was wrong, or the
    # organisation account is no longer the person's (and a session records no identity).
    sessions.revoke_all(user.id)
    audit.record("admin.sso_unlinked", actor=actor,
                 detail={"user_id": user.id, "identity_id": identity_id})
    db.session.commit()


@one_transaction
def set_password_login(user: User, allowed: bool, actor: User | None = None) -> User:
    """Turn password (and TOTP) login on or off for ``user``; off needs a linked identity.

    Off also ends a forced password change: the account has no password it could use, and the
    change would shut it out of every page. A temporary password not yet replaced (the one an
    admin read out at creation or reset) is dropped with it, so that turning password login
    on again never lets a password the admin knows sign in without being changed; the admin
    then resets the password to give the person one.
    """
    refuse_client_account(user)
    if not allowed and not identities_of(user):
        raise AccountError(N_("Link an organisation account first: otherwise nobody can sign "
                              "in as this account."))
    if not allowed and user.must_change_password:
        user.password_hash = NO_HASH
        user.must_change_password = False
    if not allowed:
        sessions.revoke_all(user.id)   # those signed in with the password end too
    user.password_login = bool(allowed)
    action = "admin.password_login_on" if allowed else "admin.password_login_off"
    audit.record(action, actor=actor, detail={"user_id": user.id})
    db.session.commit()
    return user
