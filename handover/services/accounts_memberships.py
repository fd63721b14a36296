"""Who works in which unit in which role: the admin's user page, the unit lead's page and the
CLI give and take memberships through these, each with its audit event."""

from handover.services.accounts_base import N_, AccountError, one_transaction
from handover.services.accounts_lookup import refuse_client_account
from handover.store import audit
from handover.store.database import db
from handover.store.models import Membership, Unit, User
from handover.store.models.accounts import MEMBERSHIP_ROLES

#: Administration and content access never meet in one account: an administrator could
#: otherwise add himself to a unit and read its handovers, and an auditor would read what he
#: audits. Refused wherever a membership is made (admin pages, unit lead page, CLI).
SYSTEM_ROLE_HAS_NO_UNITS = ("Administrators and auditors cannot be members of a unit. "
                            "Use a separate personal account for work in a unit.")


def may_hold_memberships(user: User) -> bool:
    """False for administrators and auditors (`SYSTEM_ROLE_HAS_NO_UNITS`)."""
    return not (user.is_admin or user.is_auditor)


@one_transaction
def add_membership(user: User, unit: Unit, role: str, actor: User | None = None,
                   by: str = "admin") -> Membership:
    """Give ``user`` a ``role`` in ``unit``. ``by`` says in which capacity the actor acted
    ("admin" or "unit_lead"), which the audit log keeps apart."""
    membership = record_membership(user, unit, role, actor, f"{by}.membership_added")
    db.session.commit()
    return membership


@one_transaction
def remove_membership(membership: Membership, actor: User | None = None,
                      by: str = "admin") -> None:
    audit.record(f"{by}.membership_removed", actor=actor, unit_id=membership.unit_id,
                 detail={"user_id": membership.user_id, "role": membership.role})
    db.session.delete(membership)
    db.session.commit()


def record_membership(user: User, unit: Unit, role: str, actor: User | None,
                      action: str) -> Membership:
    """Add the membership and its audit event without committing: `create_user` gives a new
    account its memberships in its own transaction."""
    refuse_client_account(user)
    if not may_hold_memberships(user):
        raise AccountError(SYSTEM_ROLE_HAS_NO_UNITS, field="user")
    check_membership(unit, role)
    if role in user.roles_in(unit.id):
        raise AccountError(N_("The person already has this role in the unit."), field="role")
    membership = Membership(user=user, unit=unit, role=role)
    db.session.add(membership)
    db.session.flush()
    audit.record(action, actor=actor, unit_id=unit.id, detail={"user_id": user.id, "role": role})
    return membership


def check_membership(unit: Unit, role: str) -> None:
    if role not in MEMBERSHIP_ROLES:
        raise AccountError(N_("Unknown role: %(role)s"), field="role", role=role)
    if not unit.is_active:
        raise AccountError(N_("The unit is not active."), field="unit")
