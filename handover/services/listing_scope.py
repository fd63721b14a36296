"""Which handovers a person's lists draw from: the WHERE clauses of the inbox and the outbox
(`inbox_filter`, `outbox_filter`), the same split into one clause per unit so that each follows
an index (`inbox_branches`, `outbox_branches`), and the drafts they may continue (`drafts_of`).

The units come from the access policy (`policy.inbox_unit_ids` and the like), never from
memberships read here. Apart from `services.listing`, which pages and audits, because these
say only which rows qualify; `listing` answers for them too: callers import them from there.
"""

from sqlalchemy import ColumnElement, or_, select

from handover.services import policy
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, User


def inbox_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause matching handovers that came to the user's units (receiver or copy)."""
    units = policy.inbox_unit_ids(user)
    copied = select(HandoverCopy.handover_id).where(HandoverCopy.unit_id.in_(units))
    return (Handover.status != "draft") & or_(
        Handover.receiver_unit_id.in_(units), Handover.id.in_(copied))


def inbox_branches(user: User) -> list[ColumnElement[bool]]:
    """`inbox_filter` split into disjoint WHERE clauses that each follow one index, so that a
    page of the inbox costs the same however many handovers are stored: one per receiving unit
    (index on receiver unit and sending time), and one for copies not also received. None at
    all for someone with no such unit: their inbox is empty without asking the database."""
    units = policy.inbox_unit_ids(user)
    if not units:
        return []
    sent = Handover.status != "draft"
    branches: list[ColumnElement[bool]] = [
        sent & (Handover.receiver_unit_id == unit_id) for unit_id in units]
    copied = select(HandoverCopy.handover_id).where(HandoverCopy.unit_id.in_(units))
    branches.append(sent & Handover.id.in_(copied) & or_(
        Handover.receiver_unit_id.is_(None), Handover.receiver_unit_id.not_in(units)))
    return branches


def outbox_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause matching handovers sent (or drafted) by the user's units."""
    return Handover.sender_unit_id.in_(policy.outbox_unit_ids(user))


def outbox_branches(user: User) -> list[ColumnElement[bool]]:
    """`outbox_filter` (sent handovers only) as one WHERE clause per sending unit."""
    return [(Handover.sender_unit_id == unit_id) & (Handover.status != "draft")
            for unit_id in policy.outbox_unit_ids(user)]


def drafts_of(user: User) -> list[Handover]:
    """Drafts the user may continue: those of units where they have the sender role."""
    units = policy.draft_unit_ids(user)
    if not units:
        return []
    return list(db.session.execute(
        select(Handover).where(Handover.status == "draft", Handover.erased_at.is_(None),
                               Handover.sender_unit_id.in_(units))
        .order_by(Handover.updated_at.desc())
    ).scalars())
