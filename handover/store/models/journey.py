"""What the child's journey adds beside a handover: the returns to sender and the disclosure
record. Plain columns only carry routing, reasons from a fixed list, bases and times; any free
text is sealed in the handover's thread (a `Reply`), under the handover's own data key."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.database import db
from handover.store.models.base import UTCDateTime, utcnow


class HandoverReturn(db.Model):
    """A receiving unit sent the handover back to its sender (not the right unit)."""

    __tablename__ = "handover_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    #: The unit that returned it: it keeps no access afterwards.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: One of `services.returning.REASONS`; the free text, if any, is the sealed reply.
    reason: Mapped[str] = mapped_column(String(32))
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("replies.id", ondelete="SET NULL"), default=None)
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: "rerouted" or "withdrawn", when the sender dealt with it.
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    rerouted_to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"),
                                                            default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
