"""Handovers and what hangs on them. Every column that could say anything about the child is a
sealed blob (AES-GCM under the handover's own data key, see `handover.security.crypto`); plain
columns carry only routing, state and times."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from handover.store.database import db
from handover.store.models.base import SealedBytes, UTCDateTime, utcnow

if TYPE_CHECKING:
    from handover.store.models.accounts import Unit

#: draft -> sent -> opened -> acknowledged; sent -> withdrawn; sent or opened -> returned (to
#: the sender, who routes it again: -> sent, or withdraws it); any -> erased content (retention).
HANDOVER_STATES = ("draft", "sent", "opened", "acknowledged", "withdrawn", "returned")


class Handover(db.Model):
    __tablename__ = "handovers"
    #: The inbox and outbox read one unit's handovers newest first, count them and list their
    #: forms; with status and form in the index all three stay within the unit's own entries,
    #: however many handovers the table holds.
    __table_args__ = (
        Index("ix_handovers_receiver_sent", "receiver_unit_id", "sent_at", "status", "form_key"),
        Index("ix_handovers_sender_sent", "sender_unit_id", "sent_at", "status", "form_key"),
        #: `handover purge` reads only the due entries (erased handovers hold NULL here).
        Index("ix_handovers_erase_after", "erase_after"),
        #: A discarded draft is deleted, and its id stays in audit events, URLs and the API:
        #: SQLite never gives it again (PostgreSQL's sequences never do). Migration 0013.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Found through the two unit indexes above; no query looks a form up across all units.
    form_key: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    sender_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    receiver_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    legal_basis: Mapped[str] = mapped_column(String(100), default="")
    #: Links a correction to the handover it replaces.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), default=None,
                                                    index=True)
    #: One per submitted form: a send posted twice finds the first one (idempotency).
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    #: HMAC of the normalised identity code (`crypto.identity_hash`), never the code itself.
    identity_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=None)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Ordered within a unit by the two unit indexes above.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: Why the sender withdrew it (`services.withdrawal.WITHDRAWAL_REASONS`): a key, no text.
    withdrawal_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: A draft's deadline from its form's timing (`services.late_drafts`): the moment after
    #: which it is late, recomputed on every save, NULL once sent or when the form sets none.
    #: A time like ``due_at``: neither the date it counts from nor which case applied.
    send_by_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None,
                                                        index=True)
    #: When the sending unit's leads were told that the draft is late (once per draft).
    late_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The receiving unit marked the thread closed (for a ward: after discharge); the content
    #: then stays only the form's period after closing (`services.retention`). Who closed it
    #: is in the audit trail.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The latest send, acknowledgement, reply or update: a thread in use keeps its content.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When `handover purge` erases the content; set by every action, NULL once erased.
    erase_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: A draft that took answers over from an earlier handover (`services.prefill`): which one,
    #: and the keys of the sections (comma-separated) the sender has not yet confirmed.
    prefilled_from_id: Mapped[int | None] = mapped_column(default=None)
    prefilled_sections: Mapped[str | None] = mapped_column(String(500), default=None)
    #: A placement update (`services.updates`): the handover it was sent from.
    update_of_id: Mapped[int | None] = mapped_column(default=None, index=True)

    #: The data key, wrapped by the key-encryption key `kek_id`; destroyed on erasure.
    kek_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    wrapped_key: Mapped[bytes | None] = mapped_column(SealedBytes, default=None)
    #: Sealed JSON of the filled form (purpose "content", or "draft" while a draft).
    content: Mapped[bytes | None] = mapped_column(SealedBytes, default=None)
    #: Sealed short summary of the child for the receiver's inbox (purpose "summary").
    summary: Mapped[bytes | None] = mapped_column(SealedBytes, default=None)
    #: Sealed acknowledgement note (purpose "acknowledgement").
    acknowledgement_note: Mapped[bytes | None] = mapped_column(SealedBytes, default=None)

    copies: Mapped[list["HandoverCopy"]] = relationship(
        back_populates="handover", cascade="all, delete-orphan"
    )
    #: Read-only: the ids above are what code sets; these let a page load the units with the
    #: handover (`access.require` ``with_units``).
    sender_unit: Mapped["Unit"] = relationship(foreign_keys=[sender_unit_id], viewonly=True)
    receiver_unit: Mapped["Unit | None"] = relationship(foreign_keys=[receiver_unit_id],
                                                        viewonly=True)
    replies: Mapped[list["Reply"]] = relationship(
        back_populates="handover", cascade="all, delete-orphan", order_by="Reply.id"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="handover", cascade="all, delete-orphan", order_by="Attachment.id"
    )


class HandoverCopy(db.Model):
    """A unit that the routing gives a read-only copy."""

    __tablename__ = "handover_copies"
    __table_args__ = (UniqueConstraint("handover_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    handover: Mapped[Handover] = relationship(back_populates="copies")
    unit: Mapped["Unit"] = relationship(viewonly=True)


class Reply(db.Model):
    """A message in the handover's thread, or a reply form (e.g. the ward's discharge summary)."""

    __tablename__ = "replies"
    #: Deleted with their handover; the id is in the API, audit events and disclosures (0013).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: "message", or the key of a reply form the handover's plugin defines.
    kind: Mapped[str] = mapped_column(String(100), default="message")
    #: The reply's own basis of disclosure, from its form's list (`services.disclosures`).
    legal_basis: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    body: Mapped[bytes | None] = mapped_column(SealedBytes, default=None)  # purpose "reply"
    #: The one-time token of the page the reply was posted from: a repeat of the same post (a
    #: double click, a retry) finds the reply instead of making a second one.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True,
                                                         default=None)

    handover: Mapped[Handover] = relationship(back_populates="replies")


class ThreadRead(db.Model):
    """How far a person has read a handover's thread: the newest reply shown to them the last
    time they opened it, so that a list can mark a handover whose thread has a message from
    the other unit they have not seen. Ids only: nothing of the child or of what was written.
    """

    __tablename__ = "thread_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"),
                                             primary_key=True)
    last_reply_id: Mapped[int] = mapped_column()


class Attachment(db.Model):
    __tablename__ = "attachments"
    #: Removed from drafts; the id is in URLs, the API and audit events (0013).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    filename: Mapped[bytes | None] = mapped_column(SealedBytes, default=None)  # "attachment-name"
    #: Up to the upload limit per file: read only when the file itself is downloaded, not
    #: whenever a page lists the handover's attachments.
    body: Mapped[bytes | None] = mapped_column(SealedBytes, default=None,
                                               deferred=True)  # "attachment"

    handover: Mapped[Handover] = relationship(back_populates="attachments")


# How many replies, attachments, sent corrections and placement updates hang on a handover,
# read with the handover itself when a page asks for them (``undefer_group("related_counts")``,
# see `policy.require`):
# most handovers have none of some, and an empty list should not cost a query of its own.
_corrections = Handover.__table__.alias("corrections")
_updates = Handover.__table__.alias("updates")
_RELATED_COUNTS = {
    "reply_count": select(func.count(Reply.id)).where(Reply.handover_id == Handover.id),
    "attachment_count": select(func.count(Attachment.id))
    .where(Attachment.handover_id == Handover.id),
    "correction_count": select(func.count(_corrections.c.id))
    .where(_corrections.c.replaces_id == Handover.id, _corrections.c.status != "draft"),
    "update_count": select(func.count(_updates.c.id))
    .where(_updates.c.update_of_id == Handover.id),
}
for _name, _count in _RELATED_COUNTS.items():
    setattr(Handover, _name, column_property(_count.scalar_subquery(), deferred=True,
                                             group="related_counts"))
