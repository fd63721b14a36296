"""Managing units, users and memberships: the actions behind the admin pages, the unit lead's
page and the ``handover users`` / ``handover units`` commands.

Each action is one transaction together with its audit event, so a change never happens without
its record. Actions raise `AccountError` for anything the person asking can correct; views show
it next to the form, the CLI prints it as a one-line error.
"""

import functools
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError

from handover.i18n import gettext
from handover.plugins import manager as plugin_manager
from handover.security import sessions
from handover.security.passwords import hash_password, password_problems
from handover.store import audit
from handover.store.database import db
from handover.store.models import IntegrationClient, Membership, Unit, User
from handover.store.models.accounts import MEMBERSHIP_ROLES

#: Loose on purpose: the address is a login name and a notification target, and the only way
#: to know it works is to send to it. This refuses typos such as spaces or a missing domain.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: Unambiguous characters for temporary passwords that are read aloud or copied by hand.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: What a wrapped action returns.
T = TypeVar("T")


#: Administration and content access never meet in one account: an administrator could
#: otherwise add himself to a unit and read its handovers, and an auditor would read what he
#: audits. Refused wherever a membership is made (admin pages, unit lead page, CLI).
SYSTEM_ROLE_HAS_NO_UNITS = ("Administrators and auditors cannot be members of a unit. "
                            "Use a separate personal account for work in a unit.")
#: Nor do administration and auditing: an account holding both would change things and audit
#: its own changes, and read in the per-child report which child went where.
ADMIN_OR_AUDITOR = ("One person cannot be both an administrator and an auditor: the auditor "
                    "checks what administrators do. Choose one of the two roles.")
#: The account row an integration client acts under (`IntegrationClient.account_id`) is no
#: person's: no page or command lists it, and nobody can make it a login.
IS_CLIENT_ACCOUNT = exists().where(IntegrationClient.account_id == User.id)

#: Built once: the ids are one expanding parameter, so a request compiles nothing new.
_UNITS_BY_ID = select(Unit).where(Unit.id.in_(bindparam("ids", expanding=True)))


def units_by_id(ids: Iterable[int | None]) -> dict[int, Unit]:
    """{id: Unit} for the units among ``ids`` (None and repeats are ignored), in one query."""
    wanted = sorted({unit_id for unit_id in ids if unit_id})
    if not wanted:
        return {}
    return {unit.id: unit
            for unit in db.session.execute(_UNITS_BY_ID, {"ids": wanted}).scalars()}


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it here: the CLI has no locale,
    the web layer translates through `AccountError.translated`."""
    return message


class AccountError(ValueError):
    """Something the requester can fix. ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        self.message, self.field, self.params = message, field, params
        super().__init__(message % params if params else message)

    def translated(self) -> str:
        return gettext(self.message, **self.params)


def _one_transaction(action: Callable[..., T]) -> Callable[..., T]:
    """Roll the session back when an action fails, so no half-made change lingers for the
    next commit. A unique-constraint race (two admins at once) becomes a readable error."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return action(*args, **kwargs)
        except IntegrityError:
            db.session.rollback()
            raise AccountError(
                N_("This conflicts with an existing record; reload and check.")
            ) from None
        except Exception:
            db.session.rollback()
            raise

    return run


# --- lookups --------------------------------------------------------------------------------


def unit_kinds() -> tuple[str, ...]:
    """Core kinds, then the kinds plugins registered (`plugins.manager.unit_kinds`)."""
    return tuple(plugin_manager.unit_kinds())


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def find_user(email: str | None) -> User | None:
    """The person with this e-mail address; never an integration client's account."""
    return db.session.execute(
        select(User).where(User.email == normalise_email(email), ~IS_CLIENT_ACCOUNT)
    ).scalar_one_or_none()


def find_person(user_id: object) -> User | None:
    """The person with id ``user_id``; None for an unknown id and for an integration client's
    account (`IS_CLIENT_ACCOUNT`)."""
    if not isinstance(user_id, int):
        return None
    return db.session.execute(
        select(User).where(User.id == user_id, ~IS_CLIENT_ACCOUNT)
    ).scalar_one_or_none()


def is_client_account(user: User) -> bool:
    return bool(db.session.execute(
        select(IntegrationClient.id).where(IntegrationClient.account_id == user.id).limit(1)
    ).first())


def find_unit(name: str | None) -> Unit | None:
    return db.session.execute(
        select(Unit).where(Unit.name == (name or "").strip())
    ).scalar_one_or_none()


def search_users(query: str = "") -> list[User]:
    """People whose name or e-mail contains ``query`` (case-insensitive), by name; never an
    integration client's account."""
    statement = select(User).where(~IS_CLIENT_ACCOUNT).order_by(func.lower(User.name), User.id)
    query = (query or "").strip().lower()
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            func.lower(User.name).like(pattern, escape="\\")
            | func.lower(User.email).like(pattern, escape="\\")
        )
    return list(db.session.execute(statement).scalars())


def all_units() -> list[Unit]:
    return list(db.session.execute(select(Unit).order_by(func.lower(Unit.name))).scalars())


# --- units ----------------------------------------------------------------------------------


@_one_transaction
def create_unit(name: str, kind: str, organisation: str = "", email: str = "",
                actor: User | None = None) -> Unit:
    name = _unit_name(name)
    _check_kind(kind)
    unit = Unit(name=name, kind=kind, organisation=(organisation or "").strip(),
                email=_unit_email(email))
    db.session.add(unit)
    db.session.flush()
    audit.record("admin.unit_created", actor=actor, unit_id=unit.id, detail={"kind": kind})
    db.session.commit()
    return unit


@_one_transaction
def update_unit(unit: Unit, name: str, kind: str, organisation: str = "", email: str = "",
                actor: User | None = None) -> Unit:
    name = _unit_name(name, unit)
    _check_kind(kind)
    email = _unit_email(email)
    unit.name, unit.kind = name, kind
    unit.organisation, unit.email = (organisation or "").strip(), email
    audit.record("admin.unit_updated", actor=actor, unit_id=unit.id, detail={"kind": kind})
    db.session.commit()
    return unit


@_one_transaction
def set_unit_active(unit: Unit, active: bool, actor: User | None = None) -> Unit:
    """Deactivate (or reactivate) a unit. Members and history stay; routing later skips it."""
    unit.is_active = bool(active)
    action = "admin.unit_reactivated" if active else "admin.unit_deactivated"
    audit.record(action, actor=actor, unit_id=unit.id)
    db.session.commit()
    return unit


def _unit_name(name: str | None, unit: Unit | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise AccountError(N_("Give the unit a name."), field="name")
    if len(name) > 200:
        raise AccountError(N_("The name is too long."), field="name")
    existing = find_unit(name)
    if existing is not None and existing is not unit:
        raise AccountError(N_("A unit with this name already exists."), field="name")
    # Compared in Python: SQLite's lower() folds ASCII letters only, and units are few.
    for other_id, other_name in db.session.execute(select(Unit.id, Unit.name)).all():
        if other_name.casefold() == name.casefold() and (unit is None or other_id != unit.id):
            raise AccountError(N_("There is already a unit named %(name)s: names that differ "
                                  "only in capital letters are too easily mixed up."),
                               field="name", name=other_name)
    return name


def _unit_email(email: str | None) -> str:
    """The unit's shared address (optional): notifications are sent to it."""
    email = normalise_email(email)
    if email and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        raise AccountError(N_("Enter a valid e-mail address."), field="email")
    return email


def _check_kind(kind: str) -> None:
    if kind not in unit_kinds():
        raise AccountError(N_("Unknown unit kind: %(kind)s"), field="kind", kind=kind)


# --- users ----------------------------------------------------------------------------------


@_one_transaction
def create_user(email: str, name: str, password: str | None = None, admin: bool = False,
                auditor: bool = False, memberships: Sequence[tuple[Unit, str]] = (),
                actor: User | None = None) -> tuple[User, str | None]:
    """Create a user; returns ``(user, temporary_password)``.

    Without ``password`` a temporary one is generated, to be shown once to whoever created the
    account; the user must choose their own at first login. ``memberships`` is (unit, role).
    """
    email = _new_email(email)
    name = (name or "").strip()
    if not name:
        raise AccountError(N_("Give the person's name."), field="name")
    temporary = None
    if password is None:
        password = temporary = temporary_password()
    else:
        _check_password(password, email, name)
    if admin and auditor:
        raise AccountError(ADMIN_OR_AUDITOR, field="auditor")
    if memberships and (admin or auditor):
        raise AccountError(SYSTEM_ROLE_HAS_NO_UNITS, field="admin" if admin else "auditor")
    for unit, role in memberships:
        _check_membership(unit, role)
    user = User(email=email, name=name[:200], password_hash=_hash(password),
                is_admin=bool(admin), is_auditor=bool(auditor),
                must_change_password=temporary is not None)
    db.session.add(user)
    db.session.flush()
    audit.record("admin.user_created", actor=actor,
                 detail={"user_id": user.id, "admin": user.is_admin, "auditor": user.is_auditor})
    for unit, role in memberships:
        _add_membership(user, unit, role, actor, "admin.membership_added")
    db.session.commit()
    return user, temporary


@_one_transaction
def set_user_active(user: User, active: bool, actor: User | None = None) -> User:
    """Deactivating ends every session of the user at once; reactivating does not log in."""
    _refuse_client_account(user)
    if not active and actor is not None and actor.id == user.id:
        raise AccountError(N_("You cannot deactivate your own account."))
    if not active:
        _keep_an_administrator(user)
    user.active = bool(active)
    if not active:
        sessions.revoke_all(user.id)
    action = "admin.user_reactivated" if active else "admin.user_deactivated"
    audit.record(action, actor=actor, detail={"user_id": user.id})
    db.session.commit()
    return user


@_one_transaction
def reset_password(user: User, reset_two_factor: bool = False,
                   actor: User | None = None) -> str:
    """Give the user a temporary password (returned, to be shown once) that they must replace
    at next login, and end their sessions. The TOTP enrolment stays unless ``reset_two_factor``
    (a lost phone), in which case the user enrols again at next login."""
    _refuse_client_account(user)
    temporary = temporary_password()
    user.password_hash = _hash(temporary)
    user.must_change_password = True
    if reset_two_factor:
        user.totp_secret = None
        user.totp_last_step = 0
    sessions.revoke_all(user.id)
    audit.record("admin.password_reset", actor=actor,
                 detail={"user_id": user.id, "two_factor_reset": bool(reset_two_factor)})
    db.session.commit()
    return temporary


def temporary_password() -> str:
    """Twenty characters in groups of five: long enough for the password policy, easy to copy."""
    characters = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(20))
    return "-".join(characters[i:i + 5] for i in range(0, 20, 5))


def _new_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise AccountError(N_("Enter a valid e-mail address."), field="email")
    if find_user(email) is not None:
        raise AccountError(N_("A user with this e-mail address already exists."), field="email")
    return email


def _check_password(password: str, email: str, name: str) -> None:
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise AccountError(N_("The password is not acceptable: %(problems)s"), field="password",
                           problems=" ".join(str(problem) for problem in problems))


def _hash(password: str) -> str:
    return hash_password(password)


def _refuse_client_account(user: User) -> None:
    """An integration client's account is changed only with its client (the pages and
    commands never show it: `find_person`, `find_user`); refused here for any other caller."""
    if is_client_account(user):
        raise AccountError(N_("This account belongs to an integration client: manage it on "
                              "the integration clients page."))


def _keep_an_administrator(user: User) -> None:
    """Refuse taking away the last active administrator (their role, or the account): nobody
    could then manage units and users but from the server's command line."""
    if not (user.is_admin and user.active):
        return
    others = db.session.execute(select(User.id).where(
        User.is_admin, User.active, User.id != user.id).limit(1)).first()
    if others is None:
        raise AccountError(N_("%(name)s is the only active administrator: make someone else "
                              "an administrator first."), field="admin", name=user.name)


@_one_transaction
def set_system_roles(user: User, admin: bool, auditor: bool,
                     actor: User | None = None) -> User:
    """Make ``user`` an administrator or auditor (or no longer one).

    Refused while the person is a member of any unit: an administrator who also held a
    membership would read handover content, and silently dropping the memberships would take
    away someone's daily work without anyone deciding it. The admin removes them first (and
    so sees what the person loses), then gives the system role.
    """
    _refuse_client_account(user)
    if admin and auditor:
        raise AccountError(ADMIN_OR_AUDITOR, field="auditor")
    if actor is not None and actor.id == user.id and user.is_admin and not admin:
        raise AccountError(N_("You cannot remove your own administrator role."), field="admin")
    if not admin:
        _keep_an_administrator(user)
    if (admin or auditor) and user.memberships:
        raise AccountError(N_("Remove the person's unit memberships first: administrators "
                              "and auditors cannot be members of a unit."),
                           field="admin" if admin else "auditor")
    user.is_admin, user.is_auditor = bool(admin), bool(auditor)
    audit.record("admin.user_roles_changed", actor=actor,
                 detail={"user_id": user.id, "admin": user.is_admin, "auditor": user.is_auditor})
    db.session.commit()
    return user


# --- memberships ----------------------------------------------------------------------------


def may_hold_memberships(user: User) -> bool:
    """False for administrators and auditors (`SYSTEM_ROLE_HAS_NO_UNITS`)."""
    return not (user.is_admin or user.is_auditor)


@_one_transaction
def add_membership(user: User, unit: Unit, role: str, actor: User | None = None,
                   by: str = "admin") -> Membership:
    """Give ``user`` a ``role`` in ``unit``. ``by`` says in which capacity the actor acted
    ("admin" or "unit_lead"), which the audit log keeps apart."""
    membership = _add_membership(user, unit, role, actor, f"{by}.membership_added")
    db.session.commit()
    return membership


@_one_transaction
def remove_membership(membership: Membership, actor: User | None = None,
                      by: str = "admin") -> None:
    audit.record(f"{by}.membership_removed", actor=actor, unit_id=membership.unit_id,
                 detail={"user_id": membership.user_id, "role": membership.role})
    db.session.delete(membership)
    db.session.commit()


def _add_membership(user: User, unit: Unit, role: str, actor: User | None,
                    action: str) -> Membership:
    _refuse_client_account(user)
    if not may_hold_memberships(user):
        raise AccountError(SYSTEM_ROLE_HAS_NO_UNITS, field="user")
    _check_membership(unit, role)
    if role in user.roles_in(unit.id):
        raise AccountError(N_("The person already has this role in the unit."), field="role")
    membership = Membership(user=user, unit=unit, role=role)
    db.session.add(membership)
    db.session.flush()
    audit.record(action, actor=actor, unit_id=unit.id, detail={"user_id": user.id, "role": role})
    return membership


def _check_membership(unit: Unit, role: str) -> None:
    if role not in MEMBERSHIP_ROLES:
        raise AccountError(N_("Unknown role: %(role)s"), field="role", role=role)
    if not unit.is_active:
        raise AccountError(N_("The unit is not active."), field="unit")
