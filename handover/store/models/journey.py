"""What the child's journey adds beside a handover: the returns to sender and the disclosure
record. Plain columns only carry routing, reasons from a fixed list, bases and times; any free
text is sealed in the handover's thread (a `Reply`), under the handover's own data key."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
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


class Disclosure(db.Model):
    """One disclosure of a handover or a reply to one unit: the facts a disclosure notice under
    the client-data act (703/2023) needs — what (form and sections), by whom, to whom, on what
    basis, when. Metadata, kept when the content is erased (it names no child; the handover's
    keyed identity hash finds it for the per-child report)."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    #: Set for a reply's disclosure (its own basis); None for the handover itself.
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("replies.id", ondelete="SET NULL"), default=None)
    disclosed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    by_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    as_copy: Mapped[bool] = mapped_column(default=False)
    #: The form (or reply form) disclosed, and the keys of the sections this unit received.
    form_key: Mapped[str] = mapped_column(String(100))
    sections: Mapped[str] = mapped_column(String(2000), default="")
    #: The legal basis key chosen from the form's list, and whose consent, if any, and when.
    basis: Mapped[str] = mapped_column(String(100), default="")
    consent_by: Mapped[str | None] = mapped_column(String(32), default=None)
    consent_on: Mapped[date | None] = mapped_column(Date, default=None)
