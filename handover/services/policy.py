"""Who may do what with a handover: the one place every handover view and service asks.

A person reaches a handover only through a unit they are a member of: the sending unit, the
receiving unit or a unit the routing gave a copy. What they may do follows their role in that
unit. Everyone else — administrators and auditors included — is told the handover does not exist
(404), and the attempt is written to the audit log.
"""

from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload, undefer_group

from handover.services.accounts import units_by_id
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy

#: The relations a unit can have to a handover.
SENDING, RECEIVING, COPY = "sending", "receiving", "copy"

#: What each role may do, per relation. Drafts are visible to the sending unit's senders only.
CAPABILITIES = {
    SENDING: {
        "sender": {"read", "edit_draft", "send", "withdraw", "correct", "reply", "attach"},
        "lead": {"read"},
    },
    RECEIVING: {
        "receiver": {"read", "acknowledge", "reply"},
        "lead": {"read", "acknowledge", "reply"},
    },
    COPY: {
        "receiver": {"read"},
        "lead": {"read"},
    },
}

#: Access depends on the copies: read them in the same round trip as the handover.
_WITH_COPIES = (joinedload(Handover.copies),)
_WITH_UNITS = (joinedload(Handover.copies).joinedload(HandoverCopy.unit),
               joinedload(Handover.sender_unit), joinedload(Handover.receiver_unit))
_WITH_COUNTS = (undefer_group("related_counts"),)
#: The four ways `require` reads a handover, built once: a request builds no statement and
#: generates no cache key for its loader options.
_HANDOVER_BY_ID = {
    (units, counts): select(Handover)
    .options(*(_WITH_UNITS if units else _WITH_COPIES), *(_WITH_COUNTS if counts else ()))
    .where(Handover.id == bindparam("handover_id"))
    for units in (False, True) for counts in (False, True)
}

#: Roles that make a member see a unit's incoming handovers (inbox) and outgoing (outbox).
INBOX_ROLES = ("receiver", "lead")
OUTBOX_ROLES = ("sender", "lead")


@dataclass
class HandoverAccess:
    """What ``user`` may do with ``handover`` and through which of their units."""

    handover: Handover
    relation: str | None = None
    unit_id: int | None = None
    capabilities: set = field(default_factory=set)

    def can(self, capability):
        return capability in self.capabilities

    @property
    def as_copy(self):
        return self.relation == COPY


def relations(user, handover):
    """Every (relation, unit_id, roles) by which ``user`` is connected to ``handover``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    found = []
    copy_units = {copy.unit_id for copy in handover.copies}
    for unit_id in {m.unit_id for m in user.memberships}:
        roles = user.roles_in(unit_id)
        if unit_id == handover.sender_unit_id:
            found.append((SENDING, unit_id, roles))
        if handover.status != "draft":
            if unit_id == handover.receiver_unit_id:
                found.append((RECEIVING, unit_id, roles))
            if unit_id in copy_units:
                found.append((COPY, unit_id, roles))
    return found


def evaluate(user, handover):
    """The richest access the user has; a receiving relation wins over a copy."""
    best = HandoverAccess(handover)
    order = {RECEIVING: 0, SENDING: 1, COPY: 2}
    for relation, unit_id, roles in sorted(relations(user, handover), key=lambda r: order[r[0]]):
        granted = set()
        for role in roles:
            granted |= CAPABILITIES[relation].get(role, set())
        if handover.status == "draft" and "edit_draft" not in granted:
            granted = set()  # a draft is the senders' work in progress, not yet a handover
        if granted and not best.capabilities:
            best = HandoverAccess(handover, relation, unit_id, set(granted))
        elif granted:
            best.capabilities |= granted
    return best


def require(user, handover_id, capability="read", *, with_units=False, with_counts=False):
    """The handover and the user's access to it, or a 404 (audited) when the user may not
    ``capability`` it. A handover that does not exist and one the user may not see look the
    same from outside.

    Its copies always come with it (access depends on them). In the same query,
    ``with_units`` loads its units (sending, receiving and copies; see `units_of`) and
    ``with_counts`` how many replies, attachments and sent corrections it has, for the pages
    that show them: one round trip instead of one per kind.
    """
    handover = db.session.execute(
        _HANDOVER_BY_ID[with_units, with_counts], {"handover_id": handover_id}
    ).unique().scalar_one_or_none() if isinstance(handover_id, int) else None
    # Flask-Login's `current_user` is a proxy that looks the user up again at each touch, and
    # the checks below touch it a dozen times: they get the object behind it.
    user = getattr(user, "_get_current_object", lambda: user)()
    if handover is not None:
        access = evaluate(user, handover)
        if access.can(capability):
            return access
    deny(user, handover_id, capability)


def units_of(handover):
    """{id: Unit} of the handover's sending, receiving and copy units: those loaded with it
    (`require` ``with_units``) when they are the ones its ids name, else one query."""
    wanted = {handover.sender_unit_id, handover.receiver_unit_id,
              *(copy.unit_id for copy in handover.copies)} - {None}
    loaded = [handover.__dict__.get("sender_unit"), handover.__dict__.get("receiver_unit"),
              *(copy.__dict__.get("unit") for copy in handover.copies)]
    units = {unit.id: unit for unit in loaded if unit is not None}
    return units if units.keys() == wanted else units_by_id(wanted)


def deny(user, handover_id, capability):
    """Record the refused attempt in its own transaction, then answer 404."""
    db.session.rollback()
    audit.record(
        "handover.access_denied",
        actor=user if getattr(user, "is_authenticated", False) else None,
        handover_id=handover_id if isinstance(handover_id, int) else None,
        outcome="denied",
        detail={"wanted": capability},
    )
    db.session.commit()
    abort(404)


def member_unit_ids(user, roles):
    """Ids of the units where ``user`` has any of ``roles``."""
    return sorted({m.unit_id for m in user.memberships if m.role in roles})


def inbox_filter(user):
    """A WHERE clause matching handovers that came to the user's units (receiver or copy)."""
    units = member_unit_ids(user, INBOX_ROLES)
    copied = select(HandoverCopy.handover_id).where(HandoverCopy.unit_id.in_(units))
    return (Handover.status != "draft") & or_(
        Handover.receiver_unit_id.in_(units), Handover.id.in_(copied)
    )


def inbox_branches(user):
    """`inbox_filter` split into disjoint WHERE clauses that each follow one index, so that a
    page of the inbox costs the same however many handovers are stored: one per receiving unit
    (index on receiver unit and sending time), and one for copies not also received."""
    units = member_unit_ids(user, INBOX_ROLES)
    sent = Handover.status != "draft"
    branches = [sent & (Handover.receiver_unit_id == unit_id) for unit_id in units]
    copied = select(HandoverCopy.handover_id).where(HandoverCopy.unit_id.in_(units))
    branches.append(sent & Handover.id.in_(copied) & or_(
        Handover.receiver_unit_id.is_(None), Handover.receiver_unit_id.not_in(units)))
    return branches


def outbox_branches(user):
    """`outbox_filter` (sent handovers only) as one WHERE clause per sending unit."""
    return [(Handover.sender_unit_id == unit_id) & (Handover.status != "draft")
            for unit_id in member_unit_ids(user, OUTBOX_ROLES)]


def outbox_filter(user):
    """A WHERE clause matching handovers sent (or drafted) by the user's units."""
    return Handover.sender_unit_id.in_(member_unit_ids(user, OUTBOX_ROLES))


def draft_filter(user):
    """Drafts the user may continue: those of units where they have the sender role."""
    return (Handover.status == "draft") & Handover.sender_unit_id.in_(
        member_unit_ids(user, ("sender",))
    )
