"""The people half of the one access policy (`policy` answers for it): who may manage units
and users (administrators; unit leads for their own units), and which units a person works
through for the lists and for starting a handover. Refusals are `NotFound`, as for handovers,
so that a page's existence or a unit's id is not confirmed to someone who may not manage it.
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from handover.services import NotFound
from handover.services.accounts import find_person
from handover.store.database import db
from handover.store.models import Membership, Unit, User


def is_admin(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_admin)


def require_admin(user: Any) -> None:
    """Raise `NotFound` unless ``user`` is an active administrator."""
    if not is_admin(user):
        raise NotFound("admin")


def is_auditor(user: Any) -> bool:
    """An active auditor who is no administrator: an account left holding both roles from
    before they were exclusive (`accounts.ADMIN_OR_AUDITOR`) audits nothing."""
    return bool(user and user.is_authenticated and user.is_active and user.is_auditor
                and not user.is_admin)


def require_person(user_id: object) -> User:
    """The account with ``user_id`` for the user pages, else `NotFound`: an integration
    client's account is no person's and is managed only with its client."""
    user = find_person(user_id)
    if user is None:
        raise NotFound(user_id)
    return user


def leads_a_unit(user: Any) -> bool:
    """Does ``user`` lead an active unit (a confirmed lead membership)? `led_units` without a
    query: the memberships loaded with the user are the confirmed ones of active units."""
    return bool(user and user.is_authenticated and user.is_active
                and any(membership.role == "lead" for membership in user.memberships))


def led_units(user: Any) -> list[Unit]:
    """The active units ``user`` leads through a confirmed lead membership, by name."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    statement = (
        select(Unit)
        .join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.user_id == user.id, Membership.role == "lead",
               Membership.confirmed_at.is_not(None), Unit.is_active)
        .order_by(Unit.name)
    )
    return list(db.session.execute(statement).scalars().unique())


def require_led_unit(user: Any, unit_id: int) -> Unit:
    """The unit with ``unit_id`` if ``user`` leads it, else `NotFound`."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit not in led_units(user):
        raise NotFound(unit_id)
    return unit


def require_membership_of(user: User, membership_id: object) -> Membership:
    """A membership of the person ``user`` (the administrator's user page), else `NotFound`."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user.id:
        raise NotFound(membership_id)
    return membership


def require_membership_in(unit: Unit, membership_id: int) -> Membership:
    """A membership of ``unit`` (a lead may only touch their own units' members)."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.unit_id != unit.id:
        raise NotFound(membership_id)
    return membership


# --- which units a person works through -----------------------------------------------------
# The lists (inbox, outbox, drafts) and starting a handover ask these, never the memberships
# themselves: an administrator or auditor holding a membership left from before the rule gets
# nothing through it, as `relations` gives them nothing on one handover. Only confirmed
# memberships count (`User.memberships`): one awaiting confirmation gives nothing.

#: Roles that let a member start and write a unit's handovers, see what came to the unit (the
#: inbox), and see what the unit sent (the outbox).
SENDING_ROLES = ("sender",)
INBOX_ROLES = ("receiver", "lead")
OUTBOX_ROLES = ("sender", "lead")


def works_in_units(user: Any) -> bool:
    """True for an active, logged-in person who may act through unit memberships: never an
    administrator or auditor (nor one whose administrator role awaits confirmation), whatever
    memberships old data gives them."""
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active
                and not user.is_admin and not user.is_auditor
                and not getattr(user, "admin_awaiting_confirmation", False))


def _unit_ids(user: Any, roles: Collection[str]) -> list[int]:
    if not works_in_units(user):
        return []
    return sorted({m.unit_id for m in user.memberships if m.role in roles})


def inbox_unit_ids(user: Any) -> list[int]:
    """Ids of the units whose incoming handovers (received or copied) ``user`` sees."""
    return _unit_ids(user, INBOX_ROLES)


def outbox_unit_ids(user: Any) -> list[int]:
    """Ids of the units whose sent handovers ``user`` sees."""
    return _unit_ids(user, OUTBOX_ROLES)


def draft_unit_ids(user: Any) -> list[int]:
    """Ids of the units whose drafts ``user`` may continue (any sender of the unit may)."""
    return _unit_ids(user, SENDING_ROLES)


def member_units(user: Any) -> list[Unit]:
    """The units ``user`` works in, by name; none for administrators and auditors."""
    if not works_in_units(user):
        return []
    return sorted({m.unit for m in user.memberships}, key=lambda unit: unit.name)


def sending_units(user: Any) -> list[Unit]:
    """The active units ``user`` may start a handover from, by name."""
    if not works_in_units(user):
        return []
    return sorted({m.unit for m in user.memberships
                   if m.role in SENDING_ROLES and m.unit.is_active}, key=lambda unit: unit.name)


def may_start(user: Any, unit_id: object) -> bool:
    """May ``user`` start (or route, or correct into) a handover from the unit ``unit_id``?

    Asked of the memberships this request read with the user (never kept between requests), so
    a removed membership stops the next draft or send at once.
    """
    return isinstance(unit_id, int) and any(unit.id == unit_id for unit in sending_units(user))


def require_start(user: Any, unit_id: object) -> Unit:
    """The unit ``unit_id`` if ``user`` may start a handover from it, else `NotFound`."""
    for unit in sending_units(user):
        if unit.id == unit_id:
            return unit
    raise NotFound(unit_id)


def system_accounts_with_memberships() -> list[User]:
    """Administrators and auditors who still hold unit memberships, by e-mail: data from before
    they were refused (`handover check` reports them). They get nothing through them here."""
    statement = (
        select(User)
        .where((User.is_admin | User.is_auditor) & User.all_memberships.any())
        .options(joinedload(User.all_memberships).joinedload(Membership.unit))
        .order_by(User.email)
    )
    return list(db.session.execute(statement).scalars().unique())
