"""Erasing content when its form's retention period is over (`handover purge`).

Handover is a transit service: the receiver files what it needs into its own records. After the
period a form sets (``retention.after_acknowledged_days`` from acknowledgement, otherwise
``retention.unopened_days`` from sending) the wrapped data key and every ciphertext are destroyed,
one handover per transaction with its audit event. What stays is the non-identifying metadata
(units, form, times, states), the keyed identity hash that the law-required access report needs,
and the audit trail.

Rules in detail: acknowledged -> ``after_acknowledged_days`` after ``acknowledged_at``; sent but
never acknowledged (opened or not) or withdrawn -> ``unopened_days`` after ``sent_at``; a draft
nobody touched for ``unopened_days`` -> erased too.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from handover.services import commit_with_audit, definition_of, log, rows_changed
from handover.store.database import db
from handover.store.models import Attachment, Handover, Reply
from handover.store.models.base import utcnow

DEFAULT_RETENTION = {"after_acknowledged_days": 30, "unopened_days": 90}


def retention_of(handover: Handover) -> dict[str, int]:
    try:
        rule = dict(getattr(definition_of(handover), "retention", None) or {})
    except Exception:  # an unknown old form must not keep content for ever
        log.warning("no definition for handover %s; default retention applies", handover.id)
        rule = {}
    return {**DEFAULT_RETENTION, **{k: v for k, v in rule.items() if v is not None}}


def expires_at(handover: Handover) -> datetime | None:
    """When ``handover``'s content is due for erasure (None: never, e.g. already erased)."""
    if handover.erased_at is not None:
        return None
    rule = retention_of(handover)
    if handover.status == "acknowledged" and handover.acknowledged_at is not None:
        return handover.acknowledged_at + timedelta(days=rule["after_acknowledged_days"])
    if handover.status == "draft":
        return handover.updated_at + timedelta(days=rule["unopened_days"])
    if handover.sent_at is not None:
        return handover.sent_at + timedelta(days=rule["unopened_days"])
    return None


def expired(now: datetime | None = None) -> list[int]:
    """Ids of the handovers whose content should be erased at ``now``."""
    now = now or utcnow()
    candidates = db.session.execute(
        select(Handover).where(Handover.erased_at.is_(None)).order_by(Handover.id)
    ).scalars()
    found: list[int] = []
    for handover in candidates:
        due = expires_at(handover)
        if due is not None and due <= now:
            found.append(handover.id)
    return found


def erase(handover_id: int, *, now: datetime | None = None) -> bool:
    """Destroy one handover's data key and ciphertexts, keeping its metadata; one transaction."""
    now = now or utcnow()
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover_id, Handover.erased_at.is_(None))
        .values(content=None, summary=None, acknowledgement_note=None, wrapped_key=None,
                kek_id=None, erased_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        db.session.rollback()
        return False
    db.session.execute(update(Reply).where(Reply.handover_id == handover_id).values(body=None))
    db.session.execute(
        update(Attachment).where(Attachment.handover_id == handover_id)
        .values(body=None, filename=None)
    )
    commit_with_audit("handover.erased", handover_id=handover_id, detail={"rule": "retention"})
    db.session.expire_all()
    return True


def purge(*, now: datetime | None = None, dry_run: bool = False) -> list[int]:
    """Erase every expired handover (or, with ``dry_run``, only list them). Returns the ids."""
    now = now or utcnow()
    ids = expired(now)
    if dry_run:
        return ids
    return [handover_id for handover_id in ids if erase(handover_id, now=now)]
