"""The audit log for an auditor's archive: events in id order with every hashed field and both
hashes. Each event names the one before (``previous_hash``), so the archive proves by itself
that nothing was left out between the first and the last event it holds; it keeps the chain's
head for `handover audit verify --expect`. Recomputing a row's hash takes the instance's keys
(a keyed HMAC, `store.audit.event_hash`): whoever can only write to the database cannot.

Pages are keyed by the last id seen (``after_id``), not by page number: an archive that fetches
page after page while events are appended neither skips nor repeats one. Filtered by a child,
it gives what the child's access report shows (`audit_search.about_child`). The export itself is
audited (``audit.exported``), without its filters' values.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from handover.services import commit_keeping_loaded, policy
from handover.services.audit_search import about_child, in_unit
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent

MAX_LIMIT = 1000


@dataclass(frozen=True)
class ExportFilter:
    after_id: int = 0
    limit: int = 500
    since: datetime | None = None
    until: datetime | None = None
    action: str = ""
    unit_id: int | None = None
    child_hash: str = ""


def export(actor: Any, chosen: ExportFilter) -> dict[str, Any]:
    """``{"events": [...], "next_after_id": id or None, "chain_head": {...}}`` for an
    auditor (`policy.is_auditor`), else `policy.NotFound`."""
    if not policy.is_auditor(actor):
        raise policy.NotFound("audit")
    query = select(AuditEvent).where(AuditEvent.id > chosen.after_id)
    if chosen.since is not None:
        query = query.where(AuditEvent.occurred_at >= chosen.since)
    if chosen.until is not None:
        query = query.where(AuditEvent.occurred_at < chosen.until)
    if chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.unit_id is not None:
        query = query.where(in_unit(chosen.unit_id))
    if chosen.child_hash:
        # Exactly the events the child's access report shows, searches that found nothing
        # included.
        query = query.where(about_child(chosen.child_hash))
    limit = max(1, min(chosen.limit, MAX_LIMIT))
    events = list(db.session.execute(query.order_by(AuditEvent.id).limit(limit + 1)).scalars())
    more = len(events) > limit
    events = events[:limit]
    head_id, head_hash = audit.chain_head()
    audit.record("audit.exported", actor=actor, detail={"events": len(events)})
    commit_keeping_loaded()   # what was read stays loaded: no statement per row after
    return {
        "events": [_event(event) for event in events],
        "next_after_id": events[-1].id if more else None,
        "chain_head": {"id": head_id, "row_hash": head_hash},
    }


def _event(event: AuditEvent) -> dict[str, Any]:
    # The time exactly as the hash covers it, so that the hash can be recomputed with the keys.
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    return {"id": event.id, "occurred_at": occurred, "actor_id": event.actor_id,
            "actor_label": event.actor_label, "unit_id": event.unit_id, "action": event.action,
            "handover_id": event.handover_id, "outcome": event.outcome,
            "client_address": event.client_address, "detail": event.detail,
            "previous_hash": event.previous_hash, "row_hash": event.row_hash}
