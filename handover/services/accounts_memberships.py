"""Who works in which unit in which role: the admin's user page, the unit lead's page and the
CLI give and take memberships through these, each with its audit event.

Four eyes: no administrator reads handover content alone. A membership an administrator adds on
the admin pages, and every membership of an account whose password or two-factor enrolment an
administrator resets there, awaits confirmation and gives no access (`User.memberships` holds
the confirmed ones only) until someone else confirms it: a lead of the unit (holding a
confirmed lead membership) or another administrator, never the administrator who added or
reset it, and never its own holder (`may_confirm`). Memberships a unit lead adds on their page,
and those the command line (the operator with server access) and the demo make, are confirmed
at once.
"""

from datetime import timedelta

from sqlalchemy import bindparam, null, select, update
from sqlalchemy.orm import joinedload

from handover.services import rows_changed
from handover.services.accounts_base import N_, AccountError, hold_person, one_transaction
from handover.services.accounts_lookup import refuse_client_account
from handover.store import audit
from handover.store.database import db
from handover.store.models import Membership, Unit, User
from handover.store.models.accounts import MEMBERSHIP_ROLES
from handover.store.models.base import utcnow

#: `handover check` warns of memberships awaiting confirmation for longer than this.
PENDING_TOO_LONG = timedelta(days=7)

#: Administration and content access never meet in one account: an administrator could
#: otherwise add himself to a unit and read its handovers, and an auditor would read what he
#: audits. Refused wherever a membership is made (admin pages, unit lead page, CLI).
SYSTEM_ROLE_HAS_NO_UNITS = ("Administrators and auditors cannot be members of a unit. "
                            "Use a separate personal account for work in a unit.")


def may_hold_memberships(user: User) -> bool:
    """False for administrators and auditors (`SYSTEM_ROLE_HAS_NO_UNITS`), and for an account
    whose administrator role awaits confirmation."""
    return not (user.is_admin or user.is_auditor or user.admin_awaiting_confirmation)


@one_transaction
def add_membership(user: User, unit: Unit, role: str, actor: User | None = None,
                   by: str = "admin") -> Membership:
    """Give ``user`` a ``role`` in ``unit``. ``by`` says in which capacity the actor acted
    ("admin" or "unit_lead"), which the audit log keeps apart. Added by an administrator
    (``by="admin"`` with an ``actor``: the admin pages), the membership awaits confirmation;
    without an actor (the command line, the demo) or by a unit lead it is confirmed at once."""
    awaiting = actor if by == "admin" else None
    membership = record_membership(user, unit, role, actor, f"{by}.membership_added",
                                   awaiting_confirmation_from=awaiting)
    db.session.commit()
    return membership


#: A unit lead who removed their own lead role would be left with a unit nobody leads.
OWN_LEAD_ROLE = N_("You cannot remove your own lead role. Ask an administrator.")


@one_transaction
def remove_membership(membership: Membership, actor: User | None = None,
                      by: str = "admin") -> None:
    """Remove ``membership``. A unit lead (``by`` "unit_lead") may not remove their own lead
    role (`AccountError`): an administrator does that."""
    if by == "unit_lead" and actor is not None and membership.user_id == actor.id \
            and membership.role == "lead":
        raise AccountError(OWN_LEAD_ROLE)
    detail = {"user_id": membership.user_id, "role": membership.role}
    # The row first, then the audit chain's lock, in the order every change takes them: a
    # confirmation of the same membership at the same moment waits instead of deadlocking.
    db.session.delete(membership)
    db.session.flush()
    audit.record(f"{by}.membership_removed", actor=actor, unit_id=membership.unit_id,
                 detail=detail)
    db.session.commit()


def record_membership(user: User, unit: Unit, role: str, actor: User | None,
                      action: str, awaiting_confirmation_from: User | None = None) -> Membership:
    """Add the membership and its audit event without committing: `create_user` gives a new
    account its memberships in its own transaction. With ``awaiting_confirmation_from`` (the
    administrator adding it) the membership awaits someone else's confirmation."""
    refuse_client_account(user)
    hold_person(user)
    if not may_hold_memberships(user):
        raise AccountError(SYSTEM_ROLE_HAS_NO_UNITS, field="user")
    check_membership(unit, role)
    if any(m.unit_id == unit.id and m.role == role for m in user.all_memberships):
        raise AccountError(N_("The person already has this role in the unit."), field="role")
    detail: dict[str, object] = {"user_id": user.id, "role": role}
    awaiting: dict[str, object] = {}
    if awaiting_confirmation_from is not None:
        # null(), not None: None would let the column's default confirm it at once.
        awaiting = {"confirmed_at": null(), "pending_by_id": awaiting_confirmation_from.id,
                    "pending_since": utcnow()}
        detail["awaiting_confirmation"] = True
    membership = Membership(user=user, unit=unit, role=role, **awaiting)
    db.session.add(membership)
    db.session.flush()
    audit.record(action, actor=actor, unit_id=unit.id, detail=detail)
    return membership


def suspend_memberships(user: User, actor: User) -> int:
    """Return every membership of ``user`` to awaiting confirmation, without committing: the
    administrator ``actor`` reset their password or two-factor enrolment, and could now sign
    in as them. Returns how many were confirmed before."""
    suspended = 0
    now = utcnow()
    for membership in user.all_memberships:
        if membership.confirmed_at is not None:
            suspended += 1
        membership.confirmed_at = null()
        membership.confirmed_by_id = None
        membership.pending_by_id = actor.id
        membership.pending_since = now
    return suspended


def may_confirm(membership: Membership, person: User | None, by: str) -> bool:
    """May ``person`` confirm (or refuse) ``membership``, acting as ``by`` ("admin" or
    "unit_lead")? Never its holder, never the administrator who added it or reset its
    holder's password; otherwise another active administrator, or an active lead of the
    membership's unit through a confirmed lead membership."""
    if person is None or not person.active or membership.confirmed_at is not None:
        return False
    if person.id in (membership.user_id, membership.pending_by_id):
        return False
    if by == "admin":
        return bool(person.is_admin)
    if by == "unit_lead":
        return (not person.is_admin and not person.is_auditor
                and "lead" in person.roles_in(membership.unit_id))
    return False


#: Writes nothing new, but takes the membership's row (PostgreSQL) or the database's write
#: lock (SQLite) until the commit.
_HOLD_MEMBERSHIP = (update(Membership).where(Membership.id == bindparam("membership_id"))
                    .values(pending_since=Membership.pending_since)
                    .execution_options(synchronize_session=False))


def _decide_now(membership: Membership, actor: User, by: str) -> None:
    """Hold the membership's row until the commit, read it again, and refuse unless ``actor``
    may decide it as it is now. Decided on the row as the page loaded it, a confirmation could
    follow an administrator's password reset of its holder that had made it wait again, this
    time for someone else (four eyes): the confirmation went through all the same. A
    membership removed meanwhile is refused too."""
    held = rows_changed(db.session.execute(_HOLD_MEMBERSHIP, {"membership_id": membership.id}))
    if held == 1:
        db.session.refresh(membership)
    if held != 1 or not may_confirm(membership, actor, by):
        raise AccountError(_REFUSED_CONFIRMATION)


@one_transaction
def confirm_membership(membership: Membership, actor: User, by: str = "admin") -> Membership:
    """Confirm a membership awaiting confirmation: from now on it gives access."""
    _decide_now(membership, actor, by)
    membership.confirmed_at = utcnow()
    membership.confirmed_by_id = actor.id
    audit.record(f"{by}.membership_confirmed", actor=actor, unit_id=membership.unit_id,
                 detail={"user_id": membership.user_id, "role": membership.role})
    db.session.commit()
    return membership


@one_transaction
def refuse_membership(membership: Membership, actor: User, by: str = "admin") -> None:
    """Refuse a membership awaiting confirmation: it is removed."""
    _decide_now(membership, actor, by)
    audit.record(f"{by}.membership_refused", actor=actor, unit_id=membership.unit_id,
                 detail={"user_id": membership.user_id, "role": membership.role})
    db.session.delete(membership)
    db.session.commit()


_REFUSED_CONFIRMATION = N_("You cannot confirm or refuse this membership: it is confirmed "
                           "already, it is your own, or you added it or reset the person's "
                           "password. A lead of the unit or another administrator decides.")


def awaiting_confirmation(unit_id: int | None = None) -> list[Membership]:
    """Memberships awaiting confirmation (of one unit, or all), oldest first."""
    statement = (
        select(Membership).where(Membership.confirmed_at.is_(None))
        .options(joinedload(Membership.user), joinedload(Membership.unit),
                 joinedload(Membership.pending_by))
        .order_by(Membership.pending_since, Membership.id)
    )
    if unit_id is not None:
        statement = statement.where(Membership.unit_id == unit_id)
    return list(db.session.execute(statement).scalars().unique())


def awaiting_too_long() -> list[Membership]:
    """Memberships awaiting confirmation for longer than `PENDING_TOO_LONG`."""
    since = utcnow() - PENDING_TOO_LONG
    return [m for m in awaiting_confirmation()
            if m.pending_since is None or m.pending_since < since]


def check_membership(unit: Unit, role: str) -> None:
    if role not in MEMBERSHIP_ROLES:
        raise AccountError(N_("Unknown role: %(role)s"), field="role", role=role)
    if not unit.is_active:
        raise AccountError(N_("The unit is not active."), field="unit")
