"""Creating people's accounts, their passwords and their system roles: the admin's user pages
and `handover users`.

Two rules hold wherever an account changes: one person is never both administrator and auditor
(`ADMIN_OR_AUDITOR`), and the last active administrator stays one (`keep_an_administrator`).
An integration client's account is refused for every action (`refuse_client_account`).
"""

import secrets
from collections.abc import Sequence

from handover.security import login, sessions
from handover.security.passwords import hash_password, password_problems
from handover.services.accounts_admins import (
    OWN_CODE_STEP,
    clear_admin_request,
    keep_an_administrator,
    request_admin_role,
    suspend_admin_role,
)
from handover.services.accounts_base import N_, AccountError, hold_person, one_transaction
from handover.services.accounts_lookup import (
    EMAIL_PATTERN,
    find_user,
    normalise_email,
    refuse_client_account,
)
from handover.services.accounts_memberships import (
    SYSTEM_ROLE_HAS_NO_UNITS,
    check_membership,
    record_membership,
    suspend_memberships,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import Unit, User

#: Unambiguous characters for temporary passwords that are read aloud or copied by hand.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Nor do administration and auditing: an account holding both would change things and audit
#: its own changes, and read in the per-child report which child went where.
ADMIN_OR_AUDITOR = ("One person cannot be both an administrator and an auditor: the auditor "
                    "checks what administrators do. Choose one of the two roles.")


@one_transaction
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
        check_membership(unit, role)
    user = User(email=email, name=name[:200], password_hash=_hash(password),
                is_admin=bool(admin), is_auditor=bool(auditor),
                must_change_password=temporary is not None)
    db.session.add(user)
    db.session.flush()
    if admin and actor is not None:
        request_admin_role(user, actor)   # made on the admin pages: another admin confirms
    audit.record("admin.user_created", actor=actor,
                 detail={"user_id": user.id, "admin": user.is_admin, "auditor": user.is_auditor,
                         **_awaiting(user)})
    for unit, role in memberships:
        record_membership(user, unit, role, actor, "admin.membership_added")
    db.session.commit()
    return user, temporary


@one_transaction
def set_user_active(user: User, active: bool, actor: User | None = None) -> User:
    """Deactivating ends every session of the user at once; reactivating does not log in."""
    refuse_client_account(user)
    if not active and actor is not None and actor.id == user.id:
        raise AccountError(N_("You cannot deactivate your own account."))
    if not active:
        keep_an_administrator(user)
    user.active = bool(active)
    if not active:
        sessions.revoke_all(user.id)
    action = "admin.user_reactivated" if active else "admin.user_deactivated"
    audit.record(action, actor=actor, detail={"user_id": user.id})
    db.session.commit()
    return user


@one_transaction
def open_code_step(user: User, actor: User | None = None) -> bool:
    """Let ``user``'s code step take codes again after it locked on wrong codes in a row
    (`security.login.check_code`); False (nothing done, nothing logged) when it is not locked
    (a second click, another tab). For an account that signs in only through the organisation
    (no password to reset) this is the way back; the administrator decides it after reaching
    the person, since the wrong codes may have been someone who knows the password. Never
    their own (`AccountError`): a stolen administrator session would otherwise guess at the
    code, unlock, and guess again without end (the operator's `handover users
    reset-password` unlocks any account)."""
    refuse_client_account(user)
    if actor is not None and actor.id == user.id:
        raise AccountError(OWN_CODE_STEP)
    if not login.codes_locked(user):
        db.session.rollback()
        return False
    user.failed_codes = 0
    audit.record("admin.code_step_opened", actor=actor, detail={"user_id": user.id})
    db.session.commit()
    return True


@one_transaction
def reset_password(user: User, reset_two_factor: bool = False,
                   actor: User | None = None) -> str:
    """Give the user a temporary password (returned, to be shown once) that they must replace
    at next login, and end their sessions. The TOTP enrolment stays unless ``reset_two_factor``
    (a lost phone), in which case the user enrols again at next login.

    Refused for an account whose password login is off (it signs in only through the
    organisation's provider): it could not use the password, and the forced change would shut
    it out of every page. The admin turns password login on first, if the person is to have
    one.

    Reset by an administrator (an ``actor``: the admin pages), every membership of the user
    returns to awaiting confirmation (`suspend_memberships`): the administrator, who has just
    seen the temporary password, could otherwise sign in as the person and read their units'
    handovers; an administrator's role awaits another administrator's confirmation again
    (`suspend_admin_role`)."""
    refuse_client_account(user)
    if not user.password_login:
        raise AccountError(N_("%(name)s signs in only with their organisation account, so "
                              "there is no password to reset. To give them one, turn password "
                              "login on first."), name=user.name)
    temporary = temporary_password()
    user.password_hash = _hash(temporary)
    user.must_change_password = True
    user.failed_codes = 0   # a code step locked by wrong codes opens again (`security.login`)
    if reset_two_factor:
        user.totp_secret = None
        user.totp_last_step = 0
    sessions.revoke_all(user.id)
    suspended = suspend_memberships(user, actor) if actor is not None else 0
    admin_suspended = suspend_admin_role(user, actor) if actor is not None else False
    audit.record("admin.password_reset", actor=actor,
                 detail={"user_id": user.id, "two_factor_reset": bool(reset_two_factor),
                         "memberships_suspended": suspended,
                         **({"admin_role_suspended": True} if admin_suspended else {})})
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


def _awaiting(user: User) -> dict[str, bool]:
    return {"admin_awaiting_confirmation": True} if user.admin_awaiting_confirmation else {}


def _hash(password: str) -> str:
    return hash_password(password)


@one_transaction
def set_system_roles(user: User, admin: bool, auditor: bool,
                     actor: User | None = None) -> User:
    """Make ``user`` an administrator or auditor (or no longer one).

    Refused while the person is a member of any unit: an administrator who also held a
    membership would read handover content, and silently dropping the memberships would take
    away someone's daily work without anyone deciding it. The admin removes them first (and
    so sees what the person loses), then gives the system role.

    An administrator role given by an ``actor`` (the admin pages) awaits another
    administrator's confirmation (`accounts_admins`); given without one (the operator's
    command line) it is in force at once.
    """
    refuse_client_account(user)
    if admin and auditor:
        raise AccountError(ADMIN_OR_AUDITOR, field="auditor")
    if actor is not None and actor.id == user.id and user.is_admin and not admin:
        raise AccountError(N_("You cannot remove your own administrator role."), field="admin")
    if not admin:
        keep_an_administrator(user)
    hold_person(user)   # its memberships as they are now, not as the page loaded them
    if (admin or auditor) and user.all_memberships:
        raise AccountError(N_("Remove the person's unit memberships first: administrators "
                              "and auditors cannot be members of a unit."),
                           field="admin" if admin else "auditor")
    user.is_auditor = bool(auditor)
    if not admin:
        user.is_admin = False
        clear_admin_request(user)
    elif actor is None:   # the operator, on the server
        user.is_admin = True
        clear_admin_request(user)
    elif not (user.is_admin or user.admin_awaiting_confirmation):
        request_admin_role(user, actor)   # given on the admin pages: another admin confirms
    audit.record("admin.user_roles_changed", actor=actor,
                 detail={"user_id": user.id, "admin": user.is_admin, "auditor": user.is_auditor,
                         **_awaiting(user)})
    db.session.commit()
    return user
