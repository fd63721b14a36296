"""What links the audit events, and the walk that proves the links hold.

Each event carries the hash of the one before it (`GENESIS` before the first) and its own
(`event_hash`, over every recorded field and that previous hash). `walk_chain` and
`verify_chain` read the whole log in id order and name the first row that breaks the chain;
`chain_head` gives the newest hash, to note outside the database.

Apart from `store.audit`, which appends the events, because checking the log only reads it:
`handover audit verify` and the audit export need none of the locking an append takes.
`store.audit` answers for these names too: callers import them from there.
"""

import hashlib
from datetime import UTC

from sqlalchemy import String, select, type_coerce

from handover.store.database import db
from handover.store.models import AuditEvent

GENESIS = "0" * 64

#: The walk reads ``occurred_at`` as the driver hands it over, unconverted (no CAST in the
#: SQL: a type for SQLAlchemy only), and converts it row by row (`_occurred_at_reader`): a
#: timestamp edited into something that is none (SQLite stores any text) is then an edited
#: row, not a failed query.
_HASHED_COLUMNS = (
    AuditEvent.id, type_coerce(AuditEvent.occurred_at, String).label("occurred_at"),
    AuditEvent.actor_id, AuditEvent.actor_label,
    AuditEvent.unit_id, AuditEvent.action, AuditEvent.handover_id, AuditEvent.outcome,
    AuditEvent.client_address, AuditEvent.detail, AuditEvent.previous_hash, AuditEvent.row_hash,
)


def event_hash(event):
    """SHA-256 over every recorded field and the previous hash."""
    return _event_hash(event, event.occurred_at)


def _event_hash(event, occurred_at):
    fields = [
        occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        str(event.actor_id or ""),
        event.actor_label or "",
        str(event.unit_id or ""),
        event.action,
        str(event.handover_id or ""),
        event.outcome,
        event.client_address or "",
        event.detail or "",
        event.previous_hash,
    ]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def verify_chain(batch_size=1000):
    """Walk the whole log in id order: ``(ok, first_broken_event_id, reason)``; ``reason`` is
    None when the chain holds."""
    ok, broken_id, reason, _checked = walk_chain(batch_size)
    return ok, broken_id, reason


def walk_chain(batch_size=1000):
    """`verify_chain` plus how many events were checked: ``(ok, broken_id, reason, checked)``.

    An edited row no longer matches its own hash; a deleted row leaves the next row pointing at
    a hash that is not its predecessor's. The first such row is named. Deleting the newest rows
    cannot be seen from inside the chain: compare the last hash with one noted elsewhere.
    """
    expected_previous = GENESIS
    last_id = 0
    count = 0
    occurred_at = _occurred_at_reader()
    while True:
        # Plain rows, not ORM objects: the walk must not fill (or touch) the caller's session.
        events = db.session.execute(
            select(*_HASHED_COLUMNS).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not events:
            return True, None, None, count
        for audit_event in events:
            if audit_event.previous_hash != expected_previous:
                reason = (
                    "the first event does not start the chain (earlier events were deleted)"
                    if count == 0 else
                    f"previous hash does not match event {last_id} "
                    "(an event between them was deleted, or that event was rewritten)"
                )
                return False, audit_event.id, reason, count
            try:
                recorded_at = occurred_at(audit_event.occurred_at)
                intact = _event_hash(audit_event, recorded_at) == audit_event.row_hash
            except (AttributeError, TypeError, ValueError):
                intact = False  # no timestamp at all: no event is ever written like that
            if not intact:
                reason = "the event's content does not match its hash (the row was edited)"
                return False, audit_event.id, reason, count
            expected_previous = audit_event.row_hash
            last_id = audit_event.id
            count += 1


def _occurred_at_reader():
    """The conversion the column's own type makes of a stored ``occurred_at`` on this
    database (the very datetime an ORM read gives, so every intact row hashes as before); it
    raises `ValueError` or `TypeError` on a value that is no timestamp."""
    dialect = db.session.get_bind(mapper=AuditEvent.__mapper__).dialect
    column_type = AuditEvent.__table__.c.occurred_at.type
    convert = column_type.dialect_impl(dialect).result_processor(dialect, None)
    if convert is None:
        return lambda value: value
    return convert


def chain_head():
    """``(id, row_hash)`` of the newest event, for noting outside the database."""
    row = db.session.execute(
        select(AuditEvent.id, AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (row.id, row.row_hash) if row else (None, GENESIS)
