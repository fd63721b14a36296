"""Four eyes on the administrator role itself.

Membership confirmation (`accounts_memberships`) stops one administrator from reading content
through an account of their own making, but only while the confirmer is someone else. One
administrator could otherwise make a second administrator account (they see its temporary
password), sign in with it and confirm the memberships they added. So an administrator role
given on the admin pages, and that of an administrator whose password an administrator
resets or to whom one links an organisation account, awaits confirmation by another
administrator whose own role is in force (`User.is_admin`), never the one who gave or took it
back, never its holder. Until then the account is no administrator (`is_admin` stays False) and
may hold no memberships. The operator on the server gives the role at once
(`handover users create --admin`, `handover users set-roles --admin`): the way in for the first
administrator, and for a second one when only one is left to confirm.
"""

from datetime import timedelta

from sqlalchemy import select, update

from handover.services.accounts_base import N_, AccountError, one_transaction
from handover.store import audit
from handover.store.database import db
from handover.store.models import User
from handover.store.models.base import utcnow

#: `handover check` warns of administrator roles awaiting confirmation for longer than this.
ADMIN_PENDING_TOO_LONG = timedelta(days=7)

_REFUSED = N_("You cannot confirm or refuse this administrator role: it is your own, you gave "
              "it or reset the person's password, or it no longer awaits confirmation. "
              "Another administrator decides.")


#: The admin pages' answer to an administrator resetting their own password.
OWN_PASSWORD = N_("You cannot reset your own password here: it would end your own sessions at "
                  "once. Change it on your account page.")


#: The admin pages' answer to an administrator unlocking their own two-step login.
OWN_CODE_STEP = N_("You cannot unlock your own two-step login: the wrong codes may have been "
                   "typed by someone using your session. Another administrator unlocks it "
                   "after reaching you.")


def refuse_own_password_reset(user: User, actor: User | None) -> None:
    """`AccountError` when ``actor`` would reset their own password: the reset ends their own
    sessions at once, and unless they copied the temporary password only another
    administrator or the operator could let them in again. Their account page changes it
    without either. (The operator's `handover users reset-password`, with no actor, may.)"""
    if actor is not None and user.id == actor.id:
        raise AccountError(OWN_PASSWORD)


def request_admin_role(user: User, actor: User) -> None:
    """Give ``user`` the administrator role, not in force until an administrator other than
    ``actor`` confirms it; without committing."""
    user.is_admin = False
    user.admin_requested_at = utcnow()
    user.admin_requested_by_id = actor.id


def suspend_admin_role(user: User, actor: User) -> bool:
    """Take the administrator role of ``user`` back into awaiting confirmation, without
    committing: ``actor`` reset their password or linked an organisation account to them, and
    could now sign in as them. True if a role in force was suspended. Never one's own, and
    never the last one in force (`keep_an_administrator`: two administrators resetting each
    other's passwords at the same moment left none)."""
    if not user.is_admin or user.id == actor.id:
        return False
    keep_an_administrator(user)
    request_admin_role(user, actor)
    return True


#: Writes nothing new, but takes every active administrator's row (PostgreSQL) or the
#: database's write lock (SQLite) until the commit.
_HOLD_ADMINISTRATORS = (update(User).where(User.is_admin, User.active)
                        .values(is_admin=User.is_admin)
                        .execution_options(synchronize_session=False))


def keep_an_administrator(user: User) -> None:
    """Refuse taking away the last active administrator (their role, or the account): nobody
    could then manage units and users but from the server's command line."""
    if not (user.is_admin and user.active):
        return
    # Held until the commit: two administrators taking each other's role or account at the
    # same moment both saw the other still active, and both changes went through.
    db.session.execute(_HOLD_ADMINISTRATORS)
    others = db.session.execute(select(User.id).where(
        User.is_admin, User.active, User.id != user.id).limit(1)).first()
    if others is None:
        raise AccountError(N_("%(name)s is the only active administrator: make someone else "
                              "an administrator first."), field="admin", name=user.name)


def clear_admin_request(user: User) -> None:
    user.admin_requested_at = None
    user.admin_requested_by_id = None


def may_confirm_admin_role(user: User, person: User | None) -> bool:
    """May ``person`` confirm (or refuse) the administrator role ``user`` awaits?"""
    if person is None or not person.active or not person.is_admin:
        return False
    if not user.admin_awaiting_confirmation:
        return False
    return person.id not in (user.id, user.admin_requested_by_id)


@one_transaction
def confirm_admin_role(user: User, actor: User) -> User:
    """Put the administrator role ``user`` awaits in force."""
    if not may_confirm_admin_role(user, actor):
        raise AccountError(_REFUSED)
    if user.all_memberships:
        raise AccountError(N_("Remove the person's unit memberships first: administrators "
                              "and auditors cannot be members of a unit."))
    user.is_admin, user.is_auditor = True, False
    clear_admin_request(user)
    audit.record("admin.admin_role_confirmed", actor=actor, detail={"user_id": user.id})
    db.session.commit()
    return user


@one_transaction
def refuse_admin_role(user: User, actor: User) -> User:
    """Refuse the administrator role ``user`` awaits: the account keeps no system role."""
    if not may_confirm_admin_role(user, actor):
        raise AccountError(_REFUSED)
    clear_admin_request(user)
    audit.record("admin.admin_role_refused", actor=actor, detail={"user_id": user.id})
    db.session.commit()
    return user


def admin_roles_awaiting() -> list[User]:
    """Accounts whose administrator role awaits confirmation, oldest request first."""
    return list(db.session.execute(
        select(User).where(User.admin_requested_at.is_not(None))
        .order_by(User.admin_requested_at, User.id)).scalars())


def admin_roles_awaiting_too_long() -> list[User]:
    since = utcnow() - ADMIN_PENDING_TOO_LONG
    return [user for user in admin_roles_awaiting() if user.admin_requested_at < since]
