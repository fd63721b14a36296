"""The transactional outbox: what must still be told to someone outside Handover.

A `Delivery` row is written in the same transaction as the action that causes it (a send, an
overdue claim, an acknowledgement), so a committed action always has its notices on record and a
rolled-back one has none. The worker delivers the rows and marks them; a lost enqueue or a
crashed worker only delays a delivery. ``dedupe_key`` is unique: one event reaches one recipient
once. Rows carry no content: the event, the handover id, the recipient and the times.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.database import db
from handover.store.models.base import UTCDateTime, utcnow


class WebhookEndpoint(db.Model):
    """An integration's HTTPS address, for one unit and the events it asked for."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    #: Space-separated event names (arrived, opened, acknowledged, ...).
    events: Mapped[str] = mapped_column(String(200))
    #: The signing secret, sealed with the instance key (`crypto.seal_account_secret`).
    secret: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(db.Model):
    """One notice to one recipient: an e-mail address or a webhook endpoint."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "email" or "webhook".
    channel: Mapped[str] = mapped_column(String(20))
    #: arrived, overdue, opened, acknowledged, replied, returned, withdrawn, updated.
    event: Mapped[str] = mapped_column(String(40))
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: The e-mail address; for a webhook, "endpoint:<id>".
    recipient: Mapped[str] = mapped_column(String(500))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"),
                                                    index=True)
    dedupe_key: Mapped[str] = mapped_column(String(700), unique=True)
    #: pending, sending (claimed until ``locked_until``), delivered, failed (gave up).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last failure's kind (exception class or HTTP status), never a message body.
    last_error: Mapped[str | None] = mapped_column(String(200))


class WorkerHeartbeat(db.Model):
    """When a `handover worker` last showed it was alive; `handover check` reads it."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
