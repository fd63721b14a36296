"""Erasing content when its form's retention period is over (`handover purge`).

Handover is a transit service: the receiver files what it needs into its own records. But a
handover is also a thread that lives while the child's stay needs it (a ward stay can last
months, and the discharge summary comes at its end), so the content stays while the handover is
in use and goes a form-defined period after that. The wrapped data key and every ciphertext are
then destroyed, one handover per transaction with its audit event. What stays is the
non-identifying metadata (units, form, times, states), the keyed identity hash that the
law-required access report needs, the disclosure record, and the audit trail.

A form's ``[retention]`` table (days):

- ``after_last_activity_days``: after the latest send, acknowledgement, reply or update
  (``after_acknowledged_days``, the older name, is still read when the new one is absent);
- ``after_closing_days``: after the receiving unit marked the handover closed;
- ``max_days``: never longer than this after sending, however active the thread;
- ``unopened_days``: a handover nobody acknowledged, a withdrawn or returned one, and a draft
  nobody touched.

Every action stores the resulting moment in the indexed ``erase_after`` column (`deadline`,
`columns_after`), so `purge` reads only the due handovers: its cost follows the number due,
not the number stored.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from handover.formdefs.content import TIMEZONE
from handover.services import commit_with_audit, definition_of, log, rows_changed
from handover.store.database import db
from handover.store.models import Attachment, Handover, Reply
from handover.store.models.base import utcnow

DEFAULT_RETENTION = {"after_acknowledged_days": 30, "unopened_days": 90, "max_days": 365}
#: How many due handovers one query of `purge` reads at a time.
PURGE_BATCH = 500


def retention_of(handover_or_key: Any, version: int | None = None) -> dict[str, int]:
    """The form's retention periods in days, with the defaults and the older key resolved."""
    try:
        definition = definition_of(handover_or_key, version)
        rule = dict(getattr(definition, "retention", None) or {})
    except Exception:  # an unknown old form must not keep content for ever
        log.warning("no definition for %r; default retention applies", handover_or_key)
        rule = {}
    merged = {**DEFAULT_RETENTION, **{k: v for k, v in rule.items() if v is not None}}
    activity = merged.get("after_last_activity_days", merged["after_acknowledged_days"])
    merged["after_last_activity_days"] = activity
    merged.setdefault("after_closing_days", activity)
    return merged


def deadline(rule: dict[str, int], *, status: str, updated_at: datetime | None,
             sent_at: datetime | None, last_activity_at: datetime | None = None,
             closed_at: datetime | None = None, returned: bool = False) -> datetime | None:
    """When the content of a handover in this state is due for erasure (None: never)."""
    if status == "draft":
        return days_after(updated_at, rule["unopened_days"]) if updated_at else None
    if sent_at is None:
        return None
    cap = days_after(sent_at, rule["max_days"])
    unopened = days_after(sent_at, rule["unopened_days"])
    if status == "withdrawn" or returned:
        return min(unopened, cap)
    if closed_at is not None:
        return min(days_after(closed_at, rule["after_closing_days"]), cap)
    active = days_after(last_activity_at or sent_at, rule["after_last_activity_days"])
    if status == "acknowledged":
        return min(active, cap)
    return min(max(unopened, active), cap)  # sent or opened: waiting for the receiver


def days_after(moment: datetime, days: int) -> datetime:
    """The same time of day ``days`` calendar days after ``moment`` in Finland, in UTC: "14
    days after closing" ends at the hour it was closed, on the day the page names. Counted in
    24-hour steps, a period over the clocks' turn ended an hour early or late, and one closed
    just after midnight was erased on the day before the one a reader counts to."""
    if moment.tzinfo is None:   # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return (moment.astimezone(TIMEZONE) + timedelta(days=days)).astimezone(UTC)


def expires_at(handover: Handover) -> datetime | None:
    """When ``handover``'s content is due for erasure (None: never, e.g. already erased)."""
    if handover.erased_at is not None:
        return None
    return deadline(retention_of(handover), status=handover.status,
                    updated_at=handover.updated_at, sent_at=handover.sent_at,
                    last_activity_at=handover.last_activity_at, closed_at=handover.closed_at,
                    returned=_awaiting_route(handover))


def _awaiting_route(handover: Handover) -> bool:
    """Returned by its receiver and not yet routed again (`services.returning`)."""
    return handover.status == "returned"


def columns_after(handover: Handover, now: datetime, changes: Mapping[str, Any] | None = None,
                  *, activity: bool = True, **more: Any) -> dict[str, Any]:
    """The columns an action writes so that ``erase_after`` stays current: the action's own
    ``changes`` (and ``more``) plus ``last_activity_at`` (when it counts as activity) and the
    new deadline, computed from the handover as it will be after the action."""
    values = {**(changes or {}), **more}
    if activity:
        values["last_activity_at"] = now

    def after(name: str) -> Any:
        return values[name] if name in values else getattr(handover, name)

    rule = retention_of(handover.form_key, handover.form_version)
    status = after("status")
    values["erase_after"] = None if after("erased_at") is not None else deadline(
        rule, status=status, updated_at=after("updated_at"), sent_at=after("sent_at"),
        last_activity_at=after("last_activity_at"), closed_at=after("closed_at"),
        returned=status == "returned")
    return values


def keep_current(handover: Handover) -> None:
    """Set ``erase_after`` on a loaded handover (a draft being edited); the caller commits."""
    handover.erase_after = expires_at(handover)


def expired(now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of the handovers whose content should be erased at ``now``, earliest due first."""
    now = now or utcnow()
    statement = (select(Handover.id).where(Handover.erase_after <= now)
                 .order_by(Handover.erase_after, Handover.id))
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.execute(statement).scalars())


def erase(handover_id: int, *, now: datetime | None = None) -> bool:
    """Destroy one handover's data key and ciphertexts, keeping its metadata; one transaction."""
    now = now or utcnow()
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover_id, Handover.erased_at.is_(None))
        .values(content=None, summary=None, acknowledgement_note=None, wrapped_key=None,
                kek_id=None, erased_at=now, erase_after=None)
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
    """Erase every expired handover (or, with ``dry_run``, only list them). Returns the ids.

    Reads the due ones in batches through the ``erase_after`` index; each erased handover
    leaves the index, so the next batch starts where this one ended."""
    now = now or utcnow()
    if dry_run:
        return expired(now)
    erased: list[int] = []
    while True:
        batch = expired(now, PURGE_BATCH)
        done = [handover_id for handover_id in batch if erase(handover_id, now=now)]
        erased.extend(done)
        if len(batch) < PURGE_BATCH or not done:
            return erased


def record_activity(handover: Handover, now: datetime) -> None:
    """A reply or update on ``handover``: move its deadline in the caller's transaction."""
    db.session.execute(
        update(Handover).where(Handover.id == handover.id, Handover.erased_at.is_(None))
        .values(**columns_after(handover, now))
        .execution_options(synchronize_session=False))
