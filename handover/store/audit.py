"""Recording audit events: append-only rows, each carrying the hash of the one before it.

`record` adds the event to the caller's transaction, so that an action and its audit event
commit or roll back together: if the event cannot be written, the action does not happen.

Two defences keep the log honest. The database refuses UPDATE and DELETE on ``audit_events``
(a trigger, installed whenever the table is created; see `APPEND_ONLY_GUARD`), so the
application, a bug or a careless operator cannot change history. Someone who can drop the
trigger can still edit rows, and `verify_chain` then finds the first broken link; someone who
writes a row of their own cannot give it a right hash, which is keyed with a key kept with the
instance's other keys, never in the database (`audit_chain`).

This module appends (`record`, `record_all`) and takes the chain's lock to do so. The rest lives
beside it by concern and is answered here too, so callers ask this one module: `audit_chain`
(each event's keyed hash, and walking the chain: `event_hash`, `chain_key`, `verify_chain`,
`walk_chain`, `chain_head`, `check_noted_head`) and `audit_guard` (the append-only triggers:
`APPEND_ONLY_GUARD`, `install_append_only_guard`).
"""

import json
from types import SimpleNamespace

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from handover.store.audit_chain import (  # noqa: F401  (the chain's checks, asked through here)
    GENESIS,
    chain_head,
    chain_key,
    check_noted_head,
    event_hash,
    verify_chain,
    walk_chain,
)
from handover.store.audit_guard import (  # noqa: F401  (the triggers, installed on import)
    APPEND_ONLY_GUARD,
    install_append_only_guard,
)
from handover.store.database import db
from handover.store.models import AuditEvent
from handover.store.models.base import utcnow

#: Serialises appends on PostgreSQL so that two workers never chain onto the same row.
_CHAIN_LOCK_ID = 727_001
#: Session.info key: the newest event's hash, known while this transaction holds the lock.
_HEAD_IN_TRANSACTION = "handover_audit_chain_head"
_EVENTS = AuditEvent.__table__
#: Every column but the id, in table order: what an append writes.
_WRITTEN = tuple(c for c in _EVENTS.columns if not c.primary_key)
#: Built once, every column but the id as a parameter, so each append compiles nothing.
_INSERT_EVENT = insert(_EVENTS).values({c.name: bindparam(c.name) for c in _WRITTEN})
#: The newest event's hash. The LIMIT is written into the statement, not sent as a parameter:
#: PostgreSQL cannot tell how many rows a parameter asks for, and planned the read again at
#: every append rather than keep one plan for it.
_NEWEST_HASH = select(_EVENTS.c.row_hash).order_by(_EVENTS.c.id.desc()).limit(
    literal_column("1"))
#: SQLite: a write statement takes the database's single write lock now, before the last hash
#: is read; otherwise two workers can read the same last hash and fork the chain.
_SQLITE_WRITE_LOCK = text("DELETE FROM audit_events WHERE 0")
#: Session.info key: a head read together with the lock, not yet known to be the newest.
_HEAD_SEEN_WITH_LOCK = "handover_audit_chain_head_seen"
#: PostgreSQL: the chain's lock, and the newest hash as the statement's snapshot saw it (see
#: `_append`), as columns of a statement.
_LOCK_AND_HEAD = (
    func.pg_advisory_xact_lock(literal_column(str(_CHAIN_LOCK_ID))).label("audit_chain_locked"),
    _NEWEST_HASH.scalar_subquery().label("audit_chain_head"))
_POSTGRESQL_LOCK_AND_HEAD = select(*_LOCK_AND_HEAD)


def returning_chain_head(statement):
    """``statement``, an UPDATE whose changed row this transaction's audit events will record,
    made to return the chain's lock and head too: on PostgreSQL the write, the lock and the
    read then take one round trip instead of two. The lock is taken per changed row, after the
    row's own lock, as every writer takes them; a statement that changes nothing takes none.
    Build it once, run it where `returns_chain_head()` says so, and hand its result to
    `changed_rows`."""
    return statement.returning(*_LOCK_AND_HEAD)


def returns_chain_head():
    """Whether this session's database takes the chain's lock in a statement's RETURNING."""
    return db.session.get_bind().dialect.name == "postgresql"


def changed_rows(result):
    """How many rows the UPDATE behind ``result`` changed; remembers the chain's head when the
    statement returned it (`returning_chain_head`)."""
    if isinstance(result, CursorResult) and not result.returns_rows:
        return result.rowcount
    rows = result.all()
    if rows and "audit_chain_head" in rows[-1]._fields:
        db.session.info[_HEAD_SEEN_WITH_LOCK] = rows[-1].audit_chain_head or GENESIS
    return len(rows)


def record(action, *, actor=None, unit_id=None, handover_id=None, outcome="ok", detail=""):
    """Append an audit event to the current transaction (the caller commits); returns its
    fields as written (a plain namespace, not an object the session tracks).

    ``detail`` must never contain client data: no names, identity codes or free text.
    """
    fields = _event_fields(action, _default_actor(actor), unit_id, handover_id, outcome, detail)
    return SimpleNamespace(id=_append([fields]), **fields)


def record_all(events, *, actor=None, unit_id=None, outcome="ok", detail=""):
    """One event per ``(action, handover_id)`` in ``events``, chained in that order and
    written with one statement: a receiver's first view logs "opened" and "viewed", and a list
    page that shows twenty children's names logs twenty reads, so that the per-child report
    finds each of them, without a round trip per event. An event given as ``(action,
    handover_id, detail)`` carries its own detail instead of the common one, and one given
    as ``(action, handover_id, detail, unit_id)`` its own unit too (a list shows each
    handover through the unit of the user's that has it). The caller commits."""
    if not events:
        return
    actor = _default_actor(actor)
    occurred_at = utcnow()
    _append([{**_event_fields(action, actor, own[1] if len(own) > 1 else unit_id, handover_id,
                              outcome, own[0] if own else detail),
              "occurred_at": occurred_at} for action, handover_id, *own in events])


def _append(rows):
    """Chain ``rows`` (the fields of each event but its hashes) onto the log's head, in order,
    and insert them in one statement; returns the first one's id.

    On PostgreSQL the first append of a transaction takes the chain's lock and reads the head
    in one statement; that statement's snapshot was taken before the lock was granted, so the
    head it saw may already have been followed by events whose writer held the lock a moment
    ago. The INSERT, a statement of its own that begins with the lock held, therefore writes
    the rows only if the newest hash is still the one they chain onto, and otherwise answers
    the newest hash (now certainly the newest: nobody else can append), onto which the rows
    are then chained and written. The lock and the read share one round trip, and a worker
    that had to wait for the lock pays one more.
    """
    _flush_pending_changes()
    key = chain_key()   # asked before any statement: no key, no event and no action
    head, verified = _chain_head()
    _chain_onto(rows, head, key)
    first_id = None
    if not verified:
        parameters = {c.name: [row[c.name] for row in rows] for c in _WRITTEN}
        newest, first_id = db.session.execute(
            _INSERT_IF_NEWEST_IS, {**parameters, "expected_head": head}).one()
        if first_id is None:   # someone appended between that snapshot and the lock
            _chain_onto(rows, newest, key)
            verified = True
    if verified:
        result = db.session.execute(_INSERT_EVENT, rows if len(rows) > 1 else rows[0])
        first_id = result.inserted_primary_key[0] if len(rows) == 1 else None
    db.session.info[_HEAD_IN_TRANSACTION] = rows[-1]["row_hash"]
    db.session.info.pop(_HEAD_SEEN_WITH_LOCK, None)
    return first_id


def _chain_onto(rows, head, key):
    """Link ``rows`` after ``head``, each hashed with the audit chain's ``key``."""
    previous = head
    for row in rows:
        row["previous_hash"] = previous
        row["row_hash"] = previous = event_hash(SimpleNamespace(**row), key)


def _insert_if_newest_is():
    """A statement that inserts events (the array parameter of each column holds one value
    per event, in order) only if the newest event's hash is ``expected_head``, and answers
    ``(newest hash, first new id)``: the id is None when nothing was written, and the hash is
    then the one to chain onto (read with the lock held). PostgreSQL only (``unnest``); the
    statement's shape does not depend on how many events it writes, so it is compiled once."""
    new_events = func.unnest(*[bindparam(c.name, type_=postgresql.ARRAY(c.type))
                               for c in _WRITTEN]).table_valued(
        *[c.name for c in _WRITTEN]).render_derived(name="new_events")
    newest = func.coalesce(_NEWEST_HASH.scalar_subquery(), GENESIS)
    inserted = (insert(_EVENTS)
                .from_select([c.name for c in _WRITTEN],
                             select(new_events).where(newest == bindparam("expected_head")))
                .returning(_EVENTS.c.id)
                .cte("inserted"))
    # The main query sees the log as the statement began, without the rows it inserts.
    return select(newest, select(func.min(inserted.c.id)).scalar_subquery())


_INSERT_IF_NEWEST_IS = _insert_if_newest_is()


def _chain_head():
    """``(hash, verified)``: the newest event's hash, and whether it is certainly the newest.

    The first append of a transaction takes the chain's lock, held until the transaction ends,
    so nobody can append in between and the following events of the same transaction chain on
    without asking again. On SQLite the write lock is taken first and the head read then, so
    it is the newest; on PostgreSQL both happen in one statement (see `_append`), which may be
    the caller's own UPDATE (`returning_chain_head`)."""
    previous = db.session.info.get(_HEAD_IN_TRANSACTION)
    if previous is not None:
        return previous, True
    seen = db.session.info.get(_HEAD_SEEN_WITH_LOCK)
    if seen is not None:
        return seen, False
    if db.session.get_bind().dialect.name == "postgresql":
        _locked, head = db.session.execute(_POSTGRESQL_LOCK_AND_HEAD).one()
        return head or GENESIS, False
    db.session.execute(_SQLITE_WRITE_LOCK)
    return _newest_hash(), True


def _newest_hash():
    return db.session.execute(_NEWEST_HASH).scalar() or GENESIS


def _flush_pending_changes():
    """Events are plain INSERTs, not the unit of work (a row is never changed again, so the
    session need not track it); the session's pending changes are written first, as before
    any query."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()


def _default_actor(actor):
    """The logged-in user when the caller names nobody (None outside a request)."""
    if actor is None and has_request_context():
        user = current_user._get_current_object()   # one look-up, not one per field
        return user if user.is_authenticated else None
    return actor


def _event_fields(action, actor, unit_id, handover_id, outcome, detail):
    return {
        "occurred_at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_label": getattr(actor, "email", "") or "",
        "unit_id": unit_id,
        "action": action,
        "handover_id": handover_id,
        "outcome": outcome,
        "client_address": (request.remote_addr or "")[:64] if has_request_context() else "cli",
        "detail": detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True),
    }


@event.listens_for(Session, "after_transaction_end")
def _forget_chain_head(session, transaction):
    """The remembered head is only good while the lock is held, i.e. until the transaction (or
    a savepoint that may roll the event back) ends; a flush's inner transaction keeps it."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD_IN_TRANSACTION, None)
        session.info.pop(_HEAD_SEEN_WITH_LOCK, None)
