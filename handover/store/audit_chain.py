"""What links the audit events, and the walk that proves the links hold.

Each event carries the hash of the one before it (`GENESIS` before the first) and its own
(`event_hash`, over every recorded field and that previous hash). `walk_chain` and
`verify_chain` read the whole log in id order and name the first row that breaks the chain;
`chain_head` gives the newest hash, to note outside the database, and `check_noted_head`
compares the log with a head noted earlier.

The hash is keyed: ``"h2:"`` and the HMAC-SHA256 of the fields (base64url, unpadded; 46
characters, so it fits the column's 64), under the instance's audit chain key, which lives with
its other keys and never in the database (`handover.security.keys.audit_chain_key`). A plain
hash would let anyone who can write to the database append an event of their own with a
correct hash; without the key they cannot. On an instance made before the key, events written
before it (64 hex characters, plain SHA-256 of the same fields) still verify, but only before
the first keyed event: an unkeyed event after a keyed one was not written by Handover. A key
file made since says so (`keys.AUDIT_KEYED_FROM_START`), and then no unkeyed event verifies:
a log rewritten from its start with plain hashes is refused at its first event.

The store may not import the security layer that holds the keys (docs/architecture.md), so
the key comes from a source that layer names for each app it builds (`use_key_source`): a
function of the app, which reads the app's own keyring every time and keeps nothing here.

Apart from `store.audit`, which appends the events, because checking the log only reads it:
`handover audit verify` and the audit export need none of the locking an append takes.
`store.audit` answers for these names too: callers import them from there.
"""

import base64
import hashlib
import hmac
from datetime import UTC

from flask import current_app
from sqlalchemy import String, select, type_coerce

from handover.store.database import db
from handover.store.models import AuditEvent

GENESIS = "0" * 64
#: What a keyed hash begins with; a plain one (from before the key) is 64 hex characters.
KEYED = "h2:"

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

#: Where an app keeps the two functions its security layer names for the chain
#: (`use_key_source`): ``(app) -> key bytes`` and ``(app) -> bool``.
EXTENSION = "handover.audit_chain_sources"


def use_key_source(app, source, keyed_from_start):
    """Make ``source`` (``(app) -> 32 key bytes``) the one that answers `chain_key` in
    ``app``, and ``keyed_from_start`` (``(app) -> bool``) the one that says whether every
    event must be keyed. The app factory calls this (`security.keys.init_app`); the sources
    read the app's keyring each time, and live with the app, not in this module."""
    app.extensions[EXTENSION] = (source, keyed_from_start)


def _sources():
    app = current_app._get_current_object()   # the app, not its proxy
    sources = app.extensions.get(EXTENSION)
    if sources is None:
        raise RuntimeError("No audit chain key source: the app was not built by create_app")
    return app, sources


def chain_key():
    """The current app's audit chain key. Refuses rather than write an unkeyed event."""
    app, (source, _keyed_from_start) = _sources()
    return source(app)


def event_hash(event, key=None):
    """The keyed hash an event is written with: HMAC-SHA256 over every recorded field and the
    previous hash, under ``key`` (the current app's `chain_key` when not given: an append
    passes it, asked once for all its events)."""
    return keyed_hash(_message(event, event.occurred_at), chain_key() if key is None else key)


def keyed_hash(message, key):
    """``"h2:"`` and the HMAC-SHA256 of ``message`` under ``key``: base64url without padding,
    so that the marked hash fits the column made for 64 hex characters."""
    digest = hmac.digest(key, message, "sha256")
    return KEYED + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def plain_hash(message):
    """How events were hashed before the key: anyone could compute it, so only events older
    than the first keyed one are accepted with it."""
    return hashlib.sha256(message).hexdigest()


def _message(event, occurred_at):
    """The bytes both hashes cover: every recorded field and the previous hash, in a fixed
    order, joined by U+001F (docs/api.md gives the same recipe to archives)."""
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
    return "\x1f".join(fields).encode("utf-8")


class _HashCheck:
    """Whether each row's own hash holds, in id order: plain SHA-256 is accepted until the
    first keyed row, and from then on only the keyed hash; not at all when the keyring says
    the log was keyed from its first event (else a log rewritten from its start with plain
    hashes would verify). The key is asked for at the first keyed row, so a log from before
    the key verifies without one."""

    def __init__(self):
        self.keyed_seen = False
        self._key = None
        self._plain_refused = None

    def problem(self, row_hash, message):
        """None when ``row_hash`` is right for ``message``; else what is wrong, in words."""
        if (row_hash or "").startswith(KEYED):
            self.keyed_seen = True
            if self._key is None:
                self._key = chain_key()
            if keyed_hash(message, self._key) == row_hash:
                return None
            return ("the event's content does not match its keyed hash (the row was edited, "
                    "or written by someone without this instance's keys)")
        if self.keyed_seen:
            return ("the event has an unkeyed hash after keyed ones: Handover did not write "
                    "it (a forged event, added without this instance's keys)")
        if self._plain_refused is None:
            app, (_source, keyed_from_start) = _sources()
            self._plain_refused = bool(keyed_from_start(app))
        if self._plain_refused:
            return ("the event has an unkeyed hash, and this instance has keyed every event "
                    "from its first: Handover did not write it (the log was rewritten without "
                    "this instance's keys)")
        if plain_hash(message) == row_hash:
            return None
        return "the event's content does not match its hash (the row was edited)"


def verify_chain(batch_size=1000):
    """Walk the whole log in id order: ``(ok, first_broken_event_id, reason)``; ``reason`` is
    None when the chain holds."""
    ok, broken_id, reason, _checked = walk_chain(batch_size)
    return ok, broken_id, reason


def walk_chain(batch_size=1000):
    """`verify_chain` plus how many events were checked: ``(ok, broken_id, reason, checked)``.

    An edited row no longer matches its own hash; a deleted row leaves the next row pointing at
    a hash that is not its predecessor's; a row added without the key has no keyed hash. The
    first such row is named. Deleting the newest rows cannot be seen from inside the chain:
    compare the last hash with one noted elsewhere (`check_noted_head`).
    """
    expected_previous = GENESIS
    last_id = 0
    count = 0
    occurred_at = _occurred_at_reader()
    hashes = _HashCheck()
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
                message = _message(audit_event, occurred_at(audit_event.occurred_at))
            except (AttributeError, TypeError, ValueError):
                # No timestamp at all: no event is ever written like that.
                message = None
            reason = ("the event's content does not match its hash (the row was edited)"
                      if message is None else hashes.problem(audit_event.row_hash, message))
            if reason is not None:
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


def check_noted_head(noted_id, noted_hash):
    """Whether the log still holds event ``noted_id`` with the hash ``noted_hash`` noted
    earlier (from `chain_head`, kept outside the database): None when it does, else what
    happened, in words. Deleting the newest events leaves a shorter chain that verifies; this
    is what finds it, and a log rewritten from that event on."""
    stored = db.session.execute(
        select(AuditEvent.row_hash).where(AuditEvent.id == noted_id)).first()
    if stored is not None:
        if stored.row_hash == noted_hash:
            return None
        return (f"it has the hash {stored.row_hash}, not the noted {noted_hash} (the log was "
                "rewritten from this event on)")
    newest_id, _newest_hash = chain_head()
    if newest_id is None:
        return "the noted event is missing: the log is empty (every event was deleted)"
    if newest_id < noted_id:
        return (f"the noted event is missing: the log ends at event {newest_id} (its newest "
                "events were deleted)")
    return "the noted event is missing (it was deleted and the log rewritten after it)"
