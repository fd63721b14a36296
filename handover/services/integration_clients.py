"""Integration clients: other systems that use the JSON API for one unit, with scopes.

An administrator creates a client (`create`), and its bearer token is returned once; only the
token's SHA-256 is stored. A token carries 256 random bits, so a fast hash is enough: there is
nothing to guess that a slow hash would protect (unlike a password). `authenticate` turns a
presented token into a `ClientActor`, None when it is unknown, or `TokenRefused` when it is
revoked or expired; the API counts refusals and audits them with `record_refusal`.

A `ClientActor` is what the services and the one access policy see as "the user": its
memberships are the client's unit with the roles its scopes imply (`roles_for`), so the policy
decides exactly as for a person of that unit with those roles, and the scopes narrow it further
at the API (a token with ``inbox:read`` alone lists, but does not open, handovers). Its id is
the client's own account row (handovers and replies name their author by user id) and its
e-mail, which the audit log records as the actor's label, is ``api:<client name>``. So client
names are unique regardless of capital letters ("Lifecare" beside "lifecare" would leave the
reader of the log guessing), compared on `IntegrationClient.name_key` under a unique index, as
unit names are: SQLite answers as PostgreSQL does, and of two admins creating the twins at once
the database refuses the second, which is told the same as if it had come later.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from handover.i18n import lazy_gettext as _l
from handover.security import login, totp
from handover.services.accounts import N_, AccountError
from handover.store import audit
from handover.store.database import db
from handover.store.models import IntegrationClient, Unit, User
from handover.store.models.base import utcnow
from handover.store.models.integration import client_name_key

#: Every scope, and what it lets a client do.
UNIT_SCOPES = {
    "inbox:read": _l("List the unit's inbox"),
    "handover:read": _l("Read a handover's content"),
    "handover:acknowledge": _l("Acknowledge a handover"),
    "handover:send": _l("Create drafts and send handovers"),
    "reply:send": _l("Send replies and reply forms"),
    "forms:read": _l("Read form definitions"),
}
AUDIT_SCOPE = "audit:read"
SCOPES = {**UNIT_SCOPES, AUDIT_SCOPE: _l("Export the audit log (auditors)")}
TOKEN_PREFIX = "hov_"  # noqa: S105  (a marker, not a secret)  # nosec B105
#: The longest validity an administrator may give a token.
MAX_VALID_DAYS = 730


def roles_for(scopes: frozenset) -> set[str]:
    """The membership roles a client's scopes stand for in its unit."""
    roles = set()
    if "handover:send" in scopes:
        roles.add("sender")
    if scopes & {"inbox:read", "handover:read", "handover:acknowledge", "reply:send"}:
        roles.add("receiver")
    return roles


@dataclass(frozen=True)
class ClientMembership:
    """A membership as the policy reads it (``unit_id``, ``role``, ``unit``), never stored."""

    unit_id: int
    role: str
    unit: Unit


@dataclass
class ClientActor:
    """An authenticated integration client, shaped as the user the services and policy expect."""

    client: IntegrationClient
    account_id: int
    unit: Unit | None
    language: str | None = None
    memberships: list[ClientMembership] = field(default_factory=list)
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    is_admin: bool = False
    must_change_password: bool = False
    current_session: Any = None

    @property
    def id(self) -> int:
        return self.account_id

    @property
    def email(self) -> str:
        return f"api:{self.client.name}"

    @property
    def name(self) -> str:
        return self.client.name

    @property
    def scopes(self) -> frozenset:
        return self.client.scope_set

    @property
    def is_auditor(self) -> bool:
        return AUDIT_SCOPE in self.scopes

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def roles_in(self, unit_id: int) -> set[str]:
        return {m.role for m in self.memberships if m.unit_id == unit_id}

    def get_id(self) -> None:
        return None   # never kept in a cookie: a token opens no web session


#: The client of a token and its unit, in one round trip (every API request asks).
_CLIENT_WITH_UNIT = (select(IntegrationClient, Unit)
                     .outerjoin(Unit, Unit.id == IntegrationClient.unit_id)
                     .where(IntegrationClient.token_hash == bindparam("token_hash")))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def all_clients() -> list[IntegrationClient]:
    return list(db.session.execute(
        select(IntegrationClient).order_by(IntegrationClient.name)).scalars())


def can_confirm(admin: Any) -> bool:
    """Whether ``admin`` has an authenticator app (a TOTP secret) to confirm a new client with.
    An account that signs in only through the organisation may have none: it cannot create a
    client, and the page says so instead of asking for a code nobody can give."""
    return bool(totp.is_enrolled(admin))


def confirm_code(admin: Any, code: str | None) -> bool:
    """The administrator's authenticator code, re-entered before a client is created: True
    when it is right and fresh (it is used up, even if the client is then refused). A wrong
    code, or an account without an authenticator app, is refused and audited
    (``integration_client.code_refused``): a stolen admin session guessing at the code to
    mint a token shows in the log. The web view counts a wrong code against the login
    throttle as well, and it counts towards the account's wrong codes in a row, which lock
    this step as they lock the login's code step (`security.login.check_code`). Commits."""
    if not can_confirm(admin):
        reason = "no_authenticator"
    elif login.codes_locked(admin):
        reason = "codes_locked"    # wrong codes in a row, here or at login: no code is taken
    elif totp.accept_code(admin, code or ""):
        admin.failed_codes = 0
        db.session.commit()
        return True
    else:
        reason = "wrong_code"
        login.count_wrong_code(admin)
    audit.record("integration_client.code_refused", actor=admin, outcome="denied",
                 detail=reason)
    db.session.commit()
    return False


def create(admin: User, name: str, unit: Unit | None, scopes: set[str],
           expires_at: datetime, *, confirmed: bool = False) -> tuple[IntegrationClient, str]:
    """A new client and its token (shown once). Refuses (AccountError) a name in use, unknown
    scopes, audit:read mixed with unit scopes, unit scopes without a unit, and an expiry that
    is past or more than `MAX_VALID_DAYS` away.

    The token works once an administrator other than ``admin`` confirms the client
    (`confirm`): ``admin`` has seen it, and one administrator alone must not hold a token that
    reads a unit's handovers or the audit log. ``confirmed`` makes it work at once: for the
    operator on the server, and for tests and benchmarks standing in for one."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise AccountError(N_("Give the client a name of at most 200 characters."))
    _refuse_taken_name(name)
    if not scopes or not scopes <= SCOPES.keys():
        raise AccountError(N_("Choose at least one scope."))
    if AUDIT_SCOPE in scopes and (len(scopes) > 1 or unit is not None):
        raise AccountError(N_("An auditor's client has only the audit:read scope and no unit."))
    if AUDIT_SCOPE not in scopes and unit is None:
        raise AccountError(N_("Choose the unit the client acts for."))
    now = utcnow()
    if expires_at <= now or (expires_at - now).days > MAX_VALID_DAYS:
        raise AccountError(N_("Choose an expiry date within two years."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        client = _insert(admin, name, unit, scopes, expires_at, token, confirmed)
    except IntegrityError:
        # Another admin's client of this name was committed after the check above.
        db.session.rollback()
        _refuse_taken_name(name)
        raise AccountError(N_("This conflicts with an existing record; reload and check.")
                           ) from None
    return client, token


def _insert(admin: User, name: str, unit: Unit | None, scopes: set[str], expires_at: datetime,
            token: str, confirmed: bool) -> IntegrationClient:
    account = User(email=f"api-client-{secrets.token_hex(8)}@clients.invalid",
                   name=f"API: {name}", password_hash="!",  # noqa: S106  (no password)  # nosec B106
                   active=False,
                   is_auditor=AUDIT_SCOPE in scopes)
    db.session.add(account)
    db.session.flush()
    client = IntegrationClient(name=name, unit_id=unit.id if unit else None,
                               scopes=" ".join(sorted(scopes)), token_hash=hash_token(token),
                               token_prefix=token[:10], account_id=account.id,
                               created_by_id=admin.id, expires_at=expires_at,
                               confirmed_at=utcnow() if confirmed else None)
    db.session.add(client)
    db.session.flush()
    audit.record("integration_client.created", actor=admin,
                 unit_id=client.unit_id,
                 detail={"client": client.id, "scopes": client.scopes,
                         **({} if confirmed else {"awaiting_confirmation": True})})
    db.session.commit()
    return client


def _refuse_taken_name(name: str) -> None:
    """Refuse ``name`` when a client has it, also differing only in capital letters (or in
    how an ä is encoded): the existing client's name is the one to tell apart from."""
    existing = list(db.session.execute(
        select(IntegrationClient.name).where(
            (IntegrationClient.name_key == client_name_key(name))
            | (IntegrationClient.name == name))
        .order_by(IntegrationClient.id)).scalars())
    if not existing:
        return
    if name in existing:
        raise AccountError(N_("A client with this name already exists."), field="name")
    raise AccountError(N_("There is already a client named %(name)s: names that differ only "
                          "in capital letters are too easily mixed up."),
                       field="name", name=existing[0])


def revoke(admin: User, client: IntegrationClient) -> None:
    """Revoke the client's token at once (its next request gets 401)."""
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record("integration_client.revoked", actor=admin, unit_id=client.unit_id,
                     detail={"client": client.id})
        db.session.commit()


class TokenRefused(Exception):
    """A known token that may not be used now: its client is revoked or expired, or its unit
    is no longer active. Whoever answers the request decides whether to audit it
    (`record_refusal`): a client left running with a revoked token would otherwise write an
    event per request."""

    def __init__(self, client_id: int, unit_id: int | None, reason: str) -> None:
        super().__init__(reason)
        self.client_id, self.unit_id, self.reason = client_id, unit_id, reason


def authenticate(token: str | None, language: str | None = None) -> ClientActor | None:
    """The client a bearer token belongs to, if it is valid now; None for a missing or unknown
    token. Raises `TokenRefused` for a known token that is revoked or expired, or whose unit
    is inactive."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = db.session.execute(_CLIENT_WITH_UNIT, {"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    client, unit = found
    reason = ("revoked" if client.revoked_at is not None else
              "awaiting_confirmation" if client.confirmed_at is None else
              "expired" if client.expires_at <= utcnow() else
              "unit_inactive" if unit is not None and not unit.is_active else None)
    if reason:
        raise TokenRefused(client.id, client.unit_id, reason)
    actor = ClientActor(client=client, account_id=client.account_id, unit=unit,
                        language=language)
    if unit is not None:
        actor.memberships = [ClientMembership(unit.id, role, unit)
                             for role in sorted(roles_for(client.scope_set))]
    return actor


def record_refusal(refused: TokenRefused | None, detail: dict[str, Any]) -> None:
    """Audit refused requests (``api.token_refused``, in a transaction of its own): of a known
    client (``refused``), or of tokens no client has (None). ``detail`` says how many such
    refusals there were in the window they were counted in, never the token."""
    db.session.rollback()
    if refused is None:
        audit.record("api.token_refused", actor=None, outcome="denied",
                     detail={"reason": "unknown_token", **detail})
    else:
        audit.record("api.token_refused", actor=None, unit_id=refused.unit_id,
                     outcome="denied",
                     detail={"client": refused.client_id, "reason": refused.reason, **detail})
    db.session.commit()

