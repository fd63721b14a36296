"""Typing kept when a session ended under it (issue 14): what a section page posted after its
session had expired, sealed under the handover's own data key and bound to the person who typed
it, until they log in again and get it back. Plain columns carry only who, which draft, which
section and when; the typed values are a sealed blob."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.database import db
from handover.store.models.base import SealedBytes, UTCDateTime, utcnow


class KeptTyping(db.Model):
    """One kept copy per person, draft and section: a later keep replaces it."""

    __tablename__ = "kept_typing"
    __table_args__ = (
        UniqueConstraint("user_id", "handover_id", "section_key",
                         name="uq_kept_typing_user_handover_section"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"),
                                             index=True)
    section_key: Mapped[str] = mapped_column(String(100))
    #: The posted fields as ``[[name, value], ...]``, sealed (purpose ``kept-typing``, bound to
    #: the user's id as its record): a blob moved to another person's row does not open.
    fields: Mapped[bytes] = mapped_column(SealedBytes)
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: After this it is never restored, and the purge deletes it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
