"""Earlier handovers of the same child, for a sender or receiver: those their own units sent or
received (as main receiver or copy), matched by the keyed identity-code hash.

Nothing here reveals a handover the user's units had no part in, not even that it exists: the
query asks only for the child's handovers in which one of the user's units is the sender, the
receiver or a copy unit, and the answer carries metadata only (form, units, dates, status),
never content. A unit that returned a handover is no longer its receiver, so it is not shown
it either. Every look-up is audited (``handover.earlier_looked_up``, with how many were found,
never the code), also when it finds nothing.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import aliased

from handover.security import crypto
from handover.services import definition_of, policy
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, Unit

#: The most a look-up lists: a child's journey, not a search engine.
LIMIT = 50


@dataclass(frozen=True)
class EarlierHandover:
    """One earlier handover as the list shows it: no content, only who, what and when."""

    id: int
    form_key: str
    form_title: str
    sender_unit: str
    receiver_unit: str
    #: "sent", "received" or "copy": the part the user's unit had in it.
    part: str
    status: str
    sent_at: datetime | None
    acknowledged_at: datetime | None
    closed_at: datetime | None
    erased: bool


def hash_of_code(code: str | None) -> str | None:
    """The keyed hash of an identity code (None for none); the code itself goes nowhere."""
    code = (code or "").strip().upper()
    return crypto.identity_hash(code) if code else None


def look_up(user: Any, identity_hash: str | None, *, language: str = "fi",
            current: Handover | None = None) -> list[EarlierHandover]:
    """The child's earlier handovers that ``user``'s units sent or received, newest first,
    without ``current``; audited (with ``current``'s id) whether or not anything is found."""
    shown = find(user, identity_hash, language=language, current=current)
    audit.record_all([audit_event(shown, current)], actor=user)
    db.session.commit()
    return shown


def find(user: Any, identity_hash: str | None, *, language: str = "fi",
         current: Handover | None = None) -> list[EarlierHandover]:
    """`look_up` without its audit event: for a caller that logs `audit_event` in the
    transaction it commits anyway (the reading view logs it with the view itself)."""
    found = _query(user, identity_hash, current.id if current is not None else None)
    return _shown(user, found, language)


def audit_event(shown: list[EarlierHandover],
                current: Handover | None) -> tuple[str, int | None, dict[str, int]]:
    """The audit event of one look-up as ``(action, handover_id, detail)``: how many were
    found, never the code."""
    return ("handover.earlier_looked_up", current.id if current is not None else None,
            {"found": len(shown)})


#: The look-up, built once (a request builds no statement, and finds it compiled for each
#: number of units it asks about): only the columns the list shows, with the two units' names
#: joined in, never the sealed content. ``exclude_id`` 0 excludes nothing (ids start at 1).
_SENDERS, _RECEIVERS = aliased(Unit), aliased(Unit)
_EARLIER = (
    select(Handover.id, Handover.form_key, Handover.form_version, Handover.status,
           Handover.sender_unit_id, Handover.receiver_unit_id, Handover.sent_at,
           Handover.acknowledged_at, Handover.closed_at, Handover.erased_at,
           _SENDERS.name.label("sender_name"), _RECEIVERS.name.label("receiver_name"))
    .outerjoin(_SENDERS, _SENDERS.id == Handover.sender_unit_id)
    .outerjoin(_RECEIVERS, _RECEIVERS.id == Handover.receiver_unit_id)
    .where(Handover.identity_hash == bindparam("identity_hash"),
           Handover.status != "draft",
           Handover.id != bindparam("exclude_id"),
           or_(Handover.sender_unit_id.in_(bindparam("sent_by", expanding=True)),
               Handover.receiver_unit_id.in_(bindparam("received_by", expanding=True)),
               Handover.id.in_(select(HandoverCopy.handover_id).where(
                   HandoverCopy.unit_id.in_(bindparam("copied_to", expanding=True))))))
    .order_by(Handover.sent_at.desc(), Handover.id.desc())
    .limit(LIMIT))


def _query(user: Any, identity_hash: str | None, exclude_id: int | None) -> list[Any]:
    sent_by = policy.outbox_unit_ids(user)
    received_by = policy.inbox_unit_ids(user)
    if not identity_hash or not (sent_by or received_by):
        return []
    return list(db.session.execute(_EARLIER, {
        "identity_hash": identity_hash, "exclude_id": exclude_id or 0,
        "sent_by": list(sent_by), "received_by": list(received_by),
        "copied_to": list(received_by)}).all())


def latest_sent_by(user: Any, identity_hash: str | None,
                   exclude_id: int | None = None) -> Handover | None:
    """The newest handover of the child that one of ``user``'s sending units sent (the one
    `services.prefill` takes answers from); not audited here, its caller audits the use."""
    units = policy.draft_unit_ids(user)
    if not identity_hash or not units:
        return None
    statement = (select(Handover)
                 .where(Handover.identity_hash == identity_hash,
                        Handover.sender_unit_id.in_(units),
                        Handover.status.notin_(("draft", "withdrawn")),
                        Handover.erased_at.is_(None))
                 .order_by(Handover.sent_at.desc(), Handover.id.desc()).limit(1))
    if exclude_id is not None:
        statement = statement.where(Handover.id != exclude_id)
    return db.session.execute(statement).scalars().first()


def _shown(user: Any, found: list[Any], language: str) -> list[EarlierHandover]:
    if not found:
        return []
    sent_by = set(policy.outbox_unit_ids(user))
    received_by = set(policy.inbox_unit_ids(user))
    shown = []
    for row in found:
        if row.sender_unit_id in sent_by:
            part = "sent"
        elif row.receiver_unit_id in received_by:
            part = "received"
        else:
            part = "copy"
        try:
            title = definition_of(row.form_key, row.form_version).title_in(language)
        except Exception:  # a form no longer installed: its key says what it was
            title = row.form_key
        shown.append(EarlierHandover(
            id=row.id, form_key=row.form_key, form_title=title,
            sender_unit=row.sender_name or "", receiver_unit=row.receiver_name or "",
            part=part, status=row.status, sent_at=row.sent_at,
            acknowledged_at=row.acknowledged_at, closed_at=row.closed_at,
            erased=row.erased_at is not None))
    return shown
