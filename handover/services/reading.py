"""Reading a handover: every view is logged, the receiving unit's first view opens it, and the
receiver acknowledges receipt ("vastaanotettu").

Acknowledgement is one conditional UPDATE (``WHERE status IN ('sent', 'opened')``): of two
concurrent acknowledgements exactly one changes the row, the other is told it was already done.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from handover.i18n import lazy_gettext as _l
from handover.plugins import manager as plugin_manager
from handover.security import crypto
from handover.services import (
    AlreadyAcknowledged,
    ContentErased,
    LifecycleError,
    NoLongerTheUnits,
    commit_keeping_loaded,
    commit_with_audit,
    deliveries,
    fire_hook,
    open_json,
    retention,
    rows_changed,
    seal_json,
    webhooks,
)
from handover.services.policy import COPY, RECEIVING, HandoverAccess
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, Unit, User
from handover.store.models.base import utcnow

NOTE_MAX_LENGTH = 500

#: The receiving unit's first view; built once, so opening compiles nothing new. Written
#: with the table's columns, not the mapped attributes: through those the session ran it as
#: an ORM bulk UPDATE, matching it against every object it holds; `record_view` sets the two
#: columns on the loaded handover itself.
_HANDOVERS = Handover.__table__
_OPEN_SENT = (update(_HANDOVERS)
              .where(_HANDOVERS.c.id == bindparam("handover_id"), _HANDOVERS.c.status == "sent",
                     _HANDOVERS.c.receiver_unit_id == bindparam("unit_id"),
                     _HANDOVERS.c.erased_at.is_(None))
              .values(status="opened", opened_at=bindparam("opened_at")))
#: The same, taking the audit chain's lock and reading its head in the same round trip.
_OPEN_SENT_AND_LOCK_CHAIN = audit.returning_chain_head(_OPEN_SENT)


def record_view(access: HandoverAccess, user: User, *, action: str = "handover.viewed",
                now: datetime | None = None,
                also: Sequence[tuple[Any, ...]] = ()) -> bool:
    """Log a view (or print) and, on the receiving unit's first view, mark the handover opened.
    ``also`` are further events of the same page, ``(action, handover_id, detail)`` or with
    a unit of their own (`store.audit.record_all`), logged in the same transaction (the
    look-up of the child's earlier handovers).

    Returns True when this view was the unit's first (the receiving unit's opens the handover).
    A view of erased content opens nothing: the reader saw only that it was erased, and the
    sender must not be told that the handover was read.
    """
    handover = access.handover
    now = now or utcnow()
    first_view = None
    unread_until_now = handover.erased_at is None and handover.status == "sent"
    if access.relation == RECEIVING and unread_until_now:
        # Whether the status change changed the row decides which events follow.
        statement = _OPEN_SENT_AND_LOCK_CHAIN if audit.returns_chain_head() else _OPEN_SENT
        changed = audit.changed_rows(db.session.execute(
            statement, {"handover_id": handover.id, "unit_id": access.unit_id, "opened_at": now}))
        first_view = "handover.opened" if changed == 1 else None
        if changed != 1:
            _still_the_receivers(access)
    elif access.relation == COPY and handover.status != "withdrawn" and handover.erased_at is None:
        result = db.session.execute(
            update(HandoverCopy)
            .where(HandoverCopy.handover_id == handover.id,
                   HandoverCopy.unit_id == access.unit_id,
                   HandoverCopy.opened_at.is_(None))
            .values(opened_at=now)
            .execution_options(synchronize_session=False)
        )
        first_view = "handover.copy_opened" if rows_changed(result) == 1 else None
    opened = first_view is not None
    events = [(first_view, handover.id)] if opened else []
    notify = opened and plugin_manager.implemented("handover_opened")
    if notify:
        # Which plugins are switched off is asked now, inside this transaction, so that the
        # hook after the commit needs no second database connection.
        plugin_manager.disabled_in_database()
    # Everything this request loaded (the reader, their memberships, the handover and its
    # copies) stays as it was read a moment ago, with the columns the UPDATE above changed set
    # to what it wrote. Expiring all of it made the page that follows reload each piece with a
    # query of its own.
    audit.record_all([*events, (action, handover.id), *also], actor=user,
                     unit_id=access.unit_id)
    notices = webhooks.record(
        "opened", handover, now=now,
        receiving=[handover.receiver_unit_id, *(copy.unit_id for copy in handover.copies)],
        # The first view by each unit it was sent to: after a return and a reroute, the new
        # unit's opening is news to the sender too.
        occurrence=str(handover.receiver_unit_id),
    ) if first_view == "handover.opened" else []
    commit_keeping_loaded()
    deliveries.dispatch(notices)
    if opened and access.relation == RECEIVING:
        set_committed_value(handover, "status", "opened")
        set_committed_value(handover, "opened_at", now)
    elif opened:
        for copy in handover.copies:
            if copy.unit_id == access.unit_id:
                set_committed_value(copy, "opened_at", now)
    elif access.relation == RECEIVING and unread_until_now:
        db.session.refresh(handover)   # another request opened it between our read and UPDATE
    if notify:
        fire_hook("handover_opened", handover=handover,
                  unit=db.session.get(Unit, access.unit_id))
    return opened


class ChangedWhileOpening(LifecycleError):
    """The handover was withdrawn, returned, routed elsewhere or erased between the moment the
    receiver's page read it and its first view: the page read it as it was before, and must
    not be shown. Asked again, the handover shows as it is now."""


_AS_IT_IS_NOW = select(Handover.status, Handover.receiver_unit_id, Handover.erased_at).where(
    Handover.id == bindparam("handover_id"))


def _still_the_receivers(access: HandoverAccess) -> None:
    """After a first view that found the handover no longer unread: a colleague opening or
    acknowledging it meanwhile changes nothing for this page; anything else (a withdrawal, a
    return, an erasure) was committed after the page read the content, and the page is
    refused (rolled back: no view is logged of what was never shown)."""
    now = db.session.execute(_AS_IT_IS_NOW, {"handover_id": access.handover.id}).first()
    if (now is None or now.status not in ("opened", "acknowledged")
            or now.receiver_unit_id != access.unit_id or now.erased_at is not None):
        db.session.rollback()
        raise ChangedWhileOpening(_l("This handover changed while it was being opened."))


def skip_empty_lists(handover: Handover) -> None:
    """Mark the replies and attachments as loaded, empty, when the counts read with the
    handover (`access.require` ``with_counts``) say there are none: two queries fewer for
    each empty list."""
    for relation, count in (("replies", "reply_count"), ("attachments", "attachment_count")):
        if relation not in handover.__dict__ and getattr(handover, count) == 0:
            set_committed_value(handover, relation, [])


def content_for_reader(access: HandoverAccess) -> dict[str, Any]:
    """The sent content (raises `crypto.TamperedRecord`, or `ContentErased` after retention)."""
    handover = access.handover
    if handover.erased_at is not None or handover.content is None:
        raise ContentErased()
    return open_json(handover, handover.content, crypto.Purpose.CONTENT) or {}


def summary_for_reader(handover: Handover) -> dict[str, Any] | None:
    if handover.erased_at is not None or handover.summary is None:
        return None
    return open_json(handover, handover.summary, crypto.Purpose.SUMMARY) or {}


def acknowledgement_note(handover: Handover) -> str | None:
    if handover.acknowledgement_note is None or handover.wrapped_key is None:
        return None
    return open_json(handover, handover.acknowledgement_note, crypto.Purpose.ACKNOWLEDGEMENT)


def acknowledge(access: HandoverAccess, user: User, note: str | None = "", *,
                now: datetime | None = None) -> Handover:
    """Acknowledge receipt on behalf of the receiving unit, with an optional short note."""
    if not access.can("acknowledge"):
        raise LifecycleError(_l("Only the receiving unit can acknowledge this handover."))
    handover = access.handover
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise LifecycleError(_l("The note is too long."))
    if handover.status == "acknowledged":
        raise AlreadyAcknowledged(_l("This handover has already been acknowledged."))
    if handover.status not in ("sent", "opened") or handover.erased_at is not None:
        raise LifecycleError(_l("This handover can no longer be acknowledged."))
    now = now or utcnow()
    sealed_note = seal_json(handover, note, crypto.Purpose.ACKNOWLEDGEMENT) if note else None
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status.in_(("sent", "opened")),
               Handover.receiver_unit_id == access.unit_id,   # not a unit it left since
               Handover.erased_at.is_(None))   # not after the retention rule erased it
        .values(**retention.columns_after(
            handover, now, status="acknowledged", acknowledged_at=now,
            acknowledged_by_id=user.id, acknowledgement_note=sealed_note, updated_at=now))
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        db.session.rollback()
        db.session.refresh(handover)
        if handover.receiver_unit_id != access.unit_id:
            raise NoLongerTheUnits()
        if handover.status == "acknowledged":
            raise AlreadyAcknowledged(_l("This handover has already been acknowledged."))
        raise LifecycleError(_l("This handover can no longer be acknowledged."))
    if handover.opened_at is None:
        db.session.execute(
            update(Handover).where(Handover.id == handover.id, Handover.opened_at.is_(None))
            .values(opened_at=now).execution_options(synchronize_session=False)
        )
    notices = webhooks.record("acknowledged", handover, now=now)
    commit_with_audit("handover.acknowledged", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id)
    deliveries.dispatch(notices)
    db.session.refresh(handover)
    fire_hook("handover_acknowledged", handover=handover)
    return handover


__all__ = ["ContentErased", "acknowledge", "content_for_reader", "record_view"]
