"""The one access policy: what may this user do with this handover now, and who may manage what.

A person reaches a handover only through a unit they are a member of: the sending unit, the
receiving unit or a unit the routing gave a copy. Their role in that unit says what they may ever
do (`CAPABILITIES`); the handover's status says which of those they may do now (`HandoverAccess.
actions`). Views ask `require` before acting and templates ask ``granted.allows(action)`` before
offering a button: nothing else decides again.

Everyone else — administrators and auditors included — is told the handover does not exist:
`require` audits the attempt and raises `NotFound`. A permitted action the status no longer
allows raises `WrongState`, and so does an action of someone who reads the handover but whose
unit's relation to it or role never allows that action (`not_permitted`: they see the
handover, so it is not denied as missing; they are told who does this). The web layer turns
both into answers (404, or back to the handover's own page with the message) in one error
handler; nothing here knows HTTP.

This module reads the handover for a user and refuses or grants (`require`). The rules it
applies live beside it by concern and are answered here too, so callers ask this one module:
`policy_actions` (what each role may do, and what the status leaves open now),
`policy_refusals` (what a refused user is told) and `policy_people` (who may manage units and
users — administrators; unit leads for their own units — and which units a person works
through: `policy.is_admin`, `policy.inbox_unit_ids`, ...).
"""

from typing import Any, NoReturn

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload, undefer_group

from handover.services import ContentErased, NotFound, rows_changed
from handover.services.accounts import units_by_id
from handover.services.policy_actions import (  # noqa: F401  (the rules, asked through here)
    ACTIONS,
    ALIASES,
    CAPABILITIES,
    COPY,
    DRAFT_ACTIONS,
    RECEIVING,
    SENDING,
    HandoverAccess,
    actions_now,
    evaluate,
    newer_version,
    relations,
    update_needs_identity_code,
)
from handover.services.policy_people import (  # noqa: F401  (the people half, asked through here)
    INBOX_ROLES,
    OUTBOX_ROLES,
    SENDING_ROLES,
    draft_unit_ids,
    inbox_unit_ids,
    is_admin,
    is_auditor,
    leads_a_unit,
    led_units,
    may_start,
    member_units,
    outbox_unit_ids,
    require_admin,
    require_led_unit,
    require_membership_in,
    require_membership_of,
    require_person,
    require_start,
    sending_units,
    system_accounts_with_memberships,
    works_in_units,
)
from handover.services.policy_refusals import (  # noqa: F401  (what a refusal says, asked here)
    IDENTITY_CODE_NEEDED,
    DraftDiscarded,
    WrongState,
    not_permitted,
    refusal,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, HandoverCopy, Unit

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


#: The largest id an id column (INTEGER, 32 bits) holds; a caller can give a larger integer than
#: the database can compare with one (PostgreSQL answers "integer out of range").
_LARGEST_ID = 2**31 - 1


def is_handover_id(handover_id: object) -> bool:
    """Whether ``handover_id`` can name a stored handover at all: a URL's integer can be larger
    than the database holds, and such an id is simply not found."""
    return isinstance(handover_id, int) and 0 < handover_id <= _LARGEST_ID


def require(user: Any, handover_id: object, action: str = "view", *, with_units: bool = False,
            with_counts: bool = False) -> HandoverAccess:
    """The handover and the user's access to it, if they may ``action`` it now.

    Raises `NotFound` (after auditing the attempt) when their role never allows it — a handover
    that does not exist and one the user may not see look the same from outside — and
    `WrongState` when the role allows it but the status does not.

    Its copies always come with it (access depends on them). In the same query,
    ``with_units`` loads its units (sending, receiving and copies; see `units_of`) and
    ``with_counts`` how many replies, attachments and sent corrections it has, for the pages
    that show them: one round trip instead of one per kind.
    """
    action = ALIASES.get(action, action)
    with_counts = with_counts or action == "correct"   # whether a correction replaced it
    handover = db.session.execute(
        _HANDOVER_BY_ID[with_units, with_counts], {"handover_id": handover_id}
    ).unique().scalar_one_or_none() if is_handover_id(handover_id) else None
    # Flask-Login's `current_user` is a proxy that looks the user up again at each touch, and
    # the checks below touch it a dozen times: they get the object behind it.
    user = getattr(user, "_get_current_object", lambda: user)()
    if handover is None:
        if action in DRAFT_ACTIONS and discarded_by_own_unit(user, handover_id):
            raise DraftDiscarded(handover_id)
        deny(user, handover_id, action, exists=False)
    access = evaluate(user, handover)
    if action != "download" and access.can("read") and not access.can(ACTIONS[action]):
        raise not_permitted(access, action)   # they see it: a 404 would say it is gone
    if not access.can(ACTIONS[action]) or (action == "download" and access.as_copy):
        deny(user, handover_id, action)
    if not access.allows(action):
        raise refusal(handover, action)
    return access


#: Writes nothing new, but takes the handover's row (PostgreSQL) or the database's write lock
#: (SQLite) until the commit.
_HOLD_HANDOVER = (update(Handover).where(Handover.id == bindparam("handover_id"))
                  .values(updated_at=Handover.updated_at)
                  .execution_options(synchronize_session=False))


def hold(access: HandoverAccess, user: Any, action: str) -> HandoverAccess:
    """`require` again, for a change about to be written: the handover's row is held until the
    commit and read again, and the user's access decided anew on what it is now.

    The access a request was granted was decided on the handover as the request loaded it. A
    change that a colleague or a job committed since (a withdrawal, a return, a close, the
    retention rule's erasure) would otherwise be written over or after: a reply to a handover
    its unit no longer holds, a note on erased content. Held, such a change waits for this
    one's commit, or this one sees it. Raises as `require` does (after rolling back): `NotFound`
    when the user no longer sees it (audited), `ContentErased` when it was erased, `WrongState`
    when its status no longer allows ``action``.
    """
    handover = access.handover
    if rows_changed(db.session.execute(_HOLD_HANDOVER, {"handover_id": handover.id})) != 1:
        db.session.rollback()
        raise NotFound(handover.id)
    db.session.refresh(handover)
    action = ALIASES.get(action, action)
    fresh = evaluate(user, handover)
    if fresh.can(ACTIONS[action]) and fresh.allows(action):
        return fresh
    db.session.rollback()
    if not fresh.can("read"):
        deny(user, handover.id, action)   # audited, as `require` audits it
    if not fresh.can(ACTIONS[action]):
        raise not_permitted(fresh, action)
    if handover.erased_at is not None:
        raise ContentErased()
    raise refusal(handover, action)


_DISCARDED = (select(AuditEvent.id)
              .where(AuditEvent.handover_id == bindparam("handover_id"),
                     AuditEvent.action == "handover.draft_discarded",
                     AuditEvent.unit_id.in_(bindparam("unit_ids", expanding=True)))
              .limit(1))


def discarded_by_own_unit(user: Any, handover_id: object) -> bool:
    """Whether the draft ``handover_id`` was deleted by a sender of a unit whose drafts
    ``user`` may write: the deletion's audit event says so, and says nothing new to them."""
    unit_ids = draft_unit_ids(user)
    return bool(unit_ids) and is_handover_id(handover_id) and db.session.execute(
        _DISCARDED, {"handover_id": handover_id, "unit_ids": unit_ids}).first() is not None


def units_of(handover: Handover) -> dict[int, Unit]:
    """{id: Unit} of the handover's sending, receiving and copy units: those loaded with it
    (`require` ``with_units``) when they are the ones its ids name, else one query."""
    wanted = {handover.sender_unit_id, handover.receiver_unit_id,
              *(copy.unit_id for copy in handover.copies)} - {None}
    loaded = [handover.__dict__.get("sender_unit"), handover.__dict__.get("receiver_unit"),
              *(copy.__dict__.get("unit") for copy in handover.copies)]
    units = {unit.id: unit for unit in loaded if unit is not None}
    return units if units.keys() == wanted else units_by_id(wanted)


def _only_unit(user: Any) -> int | None:
    """The unit someone refused works in, when they work in one (a client: its unit), so that
    the audit log filtered by a unit finds its people's refused attempts; None for several
    (the event cannot say through which) and for none (an administrator, a visitor)."""
    units = {membership.unit_id for membership in getattr(user, "memberships", None) or ()}
    return units.pop() if len(units) == 1 else None


def deny(user: Any, handover_id: object, action: str, *, exists: bool = True) -> NoReturn:
    """Record the refused attempt in its own transaction, then raise `NotFound`.

    An id that names no handover (not yet, or no longer) is kept in the event's detail, not as
    its handover: events are found by their handover for the child's access report, and a
    probe of an id before it was given would read there as someone trying to read that child's
    data before the handover existed."""
    db.session.rollback()
    wanted: dict[str, object] = {"wanted": action}
    if not exists and is_handover_id(handover_id):
        wanted["requested_id"] = handover_id
    audit.record(
        "handover.access_denied",
        actor=user if getattr(user, "is_authenticated", False) else None,
        unit_id=_only_unit(user),
        handover_id=handover_id if exists and is_handover_id(handover_id) else None,
        outcome="denied",
        detail=wanted,
    )
    db.session.commit()
    raise NotFound(handover_id)
