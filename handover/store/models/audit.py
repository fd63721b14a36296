"""The append-only, hash-chained audit log."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.database import db
from handover.store.models.base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One thing somebody did or tried. ``previous_hash`` links each row to the one before it,
    so that editing or deleting a row breaks the chain (`handover audit verify`)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    unit_id: Mapped[int | None] = mapped_column(index=True, default=None)
    action: Mapped[str] = mapped_column(String(64), index=True)
    handover_id: Mapped[int | None] = mapped_column(index=True, default=None)
    outcome: Mapped[str] = mapped_column(String(32), default="ok")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    previous_hash: Mapped[str] = mapped_column(String(64), default="")
    row_hash: Mapped[str] = mapped_column(String(64), default="")
