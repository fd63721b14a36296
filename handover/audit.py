"""Recording audit events: append-only rows, each carrying the hash of the one before it.

`record` adds the event to the caller's transaction, so that an action and its audit event
commit or roll back together: if the event cannot be written, the action does not happen.
"""

import hashlib
import json
from datetime import UTC

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from handover.extensions import db
from handover.models import AuditEvent
from handover.models.base import utcnow

GENESIS = "0" * 64
#: Serialises appends on PostgreSQL so that two workers never chain onto the same row.
_CHAIN_LOCK_ID = 727_001


def record(action, *, actor=None, unit_id=None, handover_id=None, outcome="ok", detail=""):
    """Append an audit event to the current transaction (the caller commits).

    ``detail`` must never contain client data: no names, identity codes or free text.
    """
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    _lock_chain()
    previous = db.session.execute(
        select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", "") or "",
        unit_id=unit_id,
        action=action,
        handover_id=handover_id,
        outcome=outcome,
        client_address=(request.remote_addr or "")[:64] if has_request_context() else "cli",
        detail=detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True),
        previous_hash=previous or GENESIS,
    )
    event.row_hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


def event_hash(event):
    """SHA-256 over every recorded field and the previous hash."""
    fields = [
        event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
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


def _lock_chain():
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(
            db.text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _CHAIN_LOCK_ID}
        )
