"""The transactional outbox: notices written with the action, delivered after it by the worker.

An action that must tell someone outside Handover (an arrival e-mail, the overdue notice, a
webhook) adds `Delivery` rows with `add` in the same transaction as its own change and audit
event, and hands the new ids to `dispatch` after the commit. `dispatch` only asks the job queue
to try them soon (the request never waits for SMTP or HTTP); if that enqueue is lost, or the
worker dies mid-batch, `sweep` finds the rows again, so a notice is delayed, never lost.

A sender checks, when it runs, that its notice still applies: one that no longer does (an
arrival notice of a handover withdrawn meanwhile) raises `NoLongerDue` and the row is dropped.

`attempt` is idempotent. It claims the row with one conditional UPDATE (two workers, or a
task queued twice, cannot both win), sends, and marks it delivered; a failure leaves it pending
with a later ``next_attempt_at`` (exponential backoff) until ``DELIVERY_GIVE_UP_HOURS``, then
failed, where an administrator can retry it. The unique ``dedupe_key`` keeps one row per event
and recipient. The one window left is a crash after the recipient accepted and before the mark
is committed: the row is tried again when its claim expires, with the same Message-ID (e-mail)
or delivery id header (webhooks), so the receiver can recognise the repeat.
"""

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from handover.services import NotFound, rows_changed
from handover.store import audit
from handover.store.database import db
from handover.store.models import Delivery, WorkerHeartbeat
from handover.store.models.base import utcnow

log = logging.getLogger("handover.deliveries")

EMAIL = "email"
WEBHOOK = "webhook"
#: The key of ``app.extensions`` under which the job layer registers its enqueue function.
ENQUEUE = "handover.enqueue_deliveries"

DEFAULTS = {
    "DELIVERY_RETRY_BASE_SECONDS": 30,
    "DELIVERY_RETRY_MAX_SECONDS": 3600,
    "DELIVERY_GIVE_UP_HOURS": 72,
    "DELIVERY_LEASE_SECONDS": 300,
    "WORKER_HEARTBEAT_MINUTES": 5,
}


#: Tries a row gets after an administrator's retry even when it is past the give-up time.
TRIES_AFTER_RETRY = 3


class DeliveryFailed(Exception):
    """The recipient did not accept the notice; the message names the kind of failure only.
    ``permanent``: it said it never will (a mail server's 5xx for the address), so the row
    fails at once instead of being tried for days."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class NoLongerDue(Exception):
    """Raised by a sender, before it sends, when what the notice says is no longer true of its
    handover (a "new handover" notice for one withdrawn, returned or erased since it was
    queued): the row is dropped, not sent and not tried again. The message names the reason
    in a few words (never anything about the child)."""


#: The status of a row dropped because its notice no longer applied (`NoLongerDue`).
DROPPED = "dropped"


#: ``send(delivery)`` raises `DeliveryFailed` when the recipient does not accept it.
Sender = Callable[[Delivery], None]
#: The key of ``app.extensions`` holding {channel: Sender}, set by the job layer.
SENDERS = "handover.delivery_senders"


def setting(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])


def dedupe_key(channel: str, event: str, handover_id: int | None, recipient: str,
               occurrence: str = "") -> str:
    return f"{channel}:{event}:{handover_id}:{recipient}:{occurrence}"


def add(channel: str, event: str, handover_id: int | None, recipient: str, *,
        unit_id: int | None = None, endpoint_id: int | None = None, occurrence: str = "",
        now: datetime | None = None) -> int | None:
    """Add one row to the caller's transaction (the caller commits, with its action) and
    return its id, for `dispatch` after the commit; None when the same notice is already
    there (its dedupe key), written by a request that did the same at the same moment (a send
    posted twice at once), which then finds the handover sent and writes nothing itself."""
    now = now or utcnow()
    statement = _INSERT[db.session.get_bind().dialect.name]
    return db.session.execute(statement, {
        "channel": channel, "event": event, "handover_id": handover_id, "unit_id": unit_id,
        "recipient": recipient, "endpoint_id": endpoint_id, "status": "pending", "attempts": 0,
        "dedupe_key": dedupe_key(channel, event, handover_id, recipient, occurrence),
        "occurred_at": now, "next_attempt_at": now}).scalar_one_or_none()


def _insert_unless_queued(insert: Any) -> Any:
    table = Delivery.__table__
    return (insert(table).on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
            .returning(table.c.id))


#: One statement per dialect, built once, that writes a row and answers its id: a send adds a
#: row per recipient, which through the session's unit of work cost a flush of its own.
_INSERT = {"postgresql": _insert_unless_queued(postgresql.insert),
           "sqlite": _insert_unless_queued(sqlite.insert)}


def dispatch(ids: Sequence[int]) -> None:
    """Ask the worker to try ``ids`` now. Never raises and never waits for a recipient: when
    no queue is configured or it does not answer, the worker's sweep finds the rows."""
    if not ids:
        return
    enqueue = current_app.extensions.get(ENQUEUE)
    if enqueue is None:
        return
    try:
        enqueue(list(ids))
    except Exception as error:  # the rows are committed; the sweep delivers them later
        log.warning("could not enqueue %d deliveries (%s); the sweep will",
                    len(ids), type(error).__name__)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between tries (by the settings)."""
    base = int(setting("DELIVERY_RETRY_BASE_SECONDS"))
    ceiling = int(setting("DELIVERY_RETRY_MAX_SECONDS"))
    return timedelta(seconds=min(ceiling, base * 2 ** max(0, min(attempts - 1, 30))))


def _claimable(now: datetime) -> Any:
    return or_(and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
               and_(Delivery.status == "sending", Delivery.locked_until < now))


def attempt(delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Try one delivery once if it is due and nobody else holds it. Returns the row as it was
    left (delivered, pending with its next try, failed), or None when there was nothing to do."""
    now = now or utcnow()
    lease = timedelta(seconds=int(setting("DELIVERY_LEASE_SECONDS")))
    claimed = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, _claimable(now))
        .values(status="sending", locked_until=now + lease, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if rows_changed(claimed) != 1:
        return None
    row = db.session.get(Delivery, delivery_id, populate_existing=True)
    if row is None:
        return None
    try:
        send = current_app.extensions.get(SENDERS, {}).get(row.channel)
        if send is None:
            raise DeliveryFailed(f"no sender for {row.channel}")
        send(row)
    except NoLongerDue as why:
        return _dropped(row, str(why)[:200])
    except DeliveryFailed as error:
        if error.permanent:
            row.last_error = str(error)[:200]
            return _mark(row, "failed", now)
        return _failed(row, str(error)[:200], now)
    except Exception as error:  # a bug in a sender must not lose the row: retry it later
        log.exception("delivery %s raised", row.id)
        return _failed(row, type(error).__name__, now)
    return _mark(row, "delivered", now)


def _failed(row: Delivery, reason: str, now: datetime) -> Delivery:
    give_up = row.occurred_at + timedelta(hours=float(setting("DELIVERY_GIVE_UP_HOURS")))
    row.last_error = reason
    if now >= give_up and row.attempts >= TRIES_AFTER_RETRY:
        return _mark(row, "failed", now)
    row.status, row.locked_until = "pending", None
    row.next_attempt_at = now + backoff(row.attempts)
    db.session.commit()
    log.info("delivery %s failed (%s); next try at %s", row.id, reason,
             row.next_attempt_at.isoformat(timespec="seconds"))
    return row


def _dropped(row: Delivery, reason: str) -> Delivery:
    """Leave a row whose notice no longer applies as dropped: nobody is told, nothing is tried
    again. The log line names the row, its channel and event and the reason, no child."""
    row.status, row.locked_until, row.last_error = DROPPED, None, reason
    db.session.commit()
    log.info("delivery %s (%s, %s) dropped: %s", row.id, row.channel, row.event, reason)
    return row


def _mark(row: Delivery, status: str, now: datetime) -> Delivery:
    """Record the outcome with its audit event (delivered, or given up)."""
    row.status, row.locked_until = status, None
    if status == "delivered":
        row.delivered_at = now
    audit.record(f"delivery.{status}", unit_id=row.unit_id, handover_id=row.handover_id,
                 outcome="ok" if status == "delivered" else "failed",
                 detail=_audit_detail(row))
    db.session.commit()
    return row


def _audit_detail(row: Delivery) -> dict[str, Any]:
    detail: dict[str, Any] = {"delivery": row.id, "channel": row.channel, "event": row.event,
                              "attempts": row.attempts}
    if row.endpoint_id is not None:
        detail["endpoint"] = row.endpoint_id
    if row.last_error and row.status != "delivered":
        detail["error"] = row.last_error
    return detail


def due(now: datetime | None = None, horizon: timedelta = timedelta(0),
        limit: int = 500) -> list[tuple[int, datetime]]:
    """(id, when) of rows to try by ``now + horizon``, oldest first: pending ones at their next
    try, claimed ones whose worker vanished when the claim runs out."""
    now = now or utcnow()
    until = now + horizon
    when = func.coalesce(Delivery.locked_until, Delivery.next_attempt_at)
    rows = db.session.execute(
        select(Delivery.id, Delivery.status, Delivery.next_attempt_at, Delivery.locked_until)
        .where(or_(and_(Delivery.status == "pending", Delivery.next_attempt_at <= until),
                   and_(Delivery.status == "sending", Delivery.locked_until < until)))
        .order_by(when, Delivery.id).limit(limit)).all()
    return [(row.id, row.locked_until if row.status == "sending" and row.locked_until
             else row.next_attempt_at) for row in rows]


def deliver_due(now: datetime | None = None, limit: int = 500) -> list[Delivery]:
    """Try every row due now, in this process, as the worker's ticks do one by one: the way
    the tests run the worker's work without a queue."""
    outcomes = [attempt(delivery_id, now) for delivery_id, _ in due(now, limit=limit)]
    return [row for row in outcomes if row is not None]


def retry(delivery_id: int, actor: Any = None) -> bool:
    """An administrator's "try again now" for a failed or waiting row; audited. The row keeps
    its event time (a webhook's body is the same) and gets `TRIES_AFTER_RETRY` more tries.
    False when the row is delivered or being sent; `NotFound` when there is no such row."""
    now = utcnow()
    changed = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id,
                               Delivery.status.in_(("failed", "pending")))
        .values(status="pending", next_attempt_at=now, locked_until=None, attempts=0)
        .execution_options(synchronize_session=False))
    if rows_changed(changed) != 1:
        db.session.rollback()
        if db.session.get(Delivery, delivery_id) is None:
            raise NotFound(delivery_id)
        return False
    row = db.session.get(Delivery, delivery_id, populate_existing=True)
    audit.record("delivery.retried", actor=actor, unit_id=row.unit_id if row else None,
                 handover_id=row.handover_id if row else None,
                 detail={"delivery": delivery_id})
    db.session.commit()
    return True


#: The statuses of the rows the outbox still holds for someone: waiting, being sent, failed
#: (delivered and dropped rows are done).
OPEN_STATUSES = ("pending", "sending", "failed")


def open_rows(limit: int) -> list[Delivery]:
    """The outbox's waiting, held and failed deliveries, newest first, at most ``limit``:
    what the administrator's page lists."""
    return list(db.session.execute(
        select(Delivery).where(Delivery.status.in_(OPEN_STATUSES))
        .order_by(Delivery.id.desc()).limit(limit)).scalars())


def backlog(now: datetime | None = None) -> dict[str, int]:
    """Counts for the operator: waiting (pending and due), held by a worker, failed, and the
    age in seconds of the oldest row still waiting."""
    now = now or utcnow()
    counts = dict(db.session.execute(  # IN, not !=, so that the status index is used
        select(Delivery.status, func.count())
        .where(Delivery.status.in_(OPEN_STATUSES))
        .group_by(Delivery.status)).all())
    oldest = db.session.execute(
        select(Delivery.occurred_at).where(Delivery.status.in_(("pending", "sending")))
        .order_by(Delivery.occurred_at).limit(1)).scalar()
    return {"pending": counts.get("pending", 0), "sending": counts.get("sending", 0),
            "failed": counts.get("failed", 0),
            "oldest_seconds": int((now - oldest).total_seconds()) if oldest else 0}


def message_id(row: Delivery) -> str:
    """The same for every try of one row, so a receiver can tell a repeat from a new notice."""
    digest = hashlib.sha256(row.dedupe_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@handover.invalid>"


def last_heartbeat() -> datetime | None:
    """When a `handover worker` last reported (any host), or None if none ever did."""
    return db.session.execute(select(func.max(WorkerHeartbeat.beat_at))).scalar()


def worker_silent(now: datetime | None = None) -> bool:
    """Whether no worker has reported for ``WORKER_HEARTBEAT_MINUTES`` (or ever): notices
    then only wait on record, and the scheduled jobs do not run."""
    beat = last_heartbeat()
    minutes = int(setting("WORKER_HEARTBEAT_MINUTES"))
    return beat is None or (now or utcnow()) - beat > timedelta(minutes=minutes)
