"""Form definitions admins uploaded from the browser or `handover forms upload` (issue 20).

A row is one version of one form: the definition as it was checked (fragments resolved, as
canonical JSON), the checksum of that content (a version is never stored twice with different
content), who uploaded and who approved it, and whether it is the version senders get now.
``released_at`` is set the first time a version is enabled: from then on it stays loaded, so
the handovers filled with it keep rendering after a newer version or a disable.

``UploadedFormsGeneration`` is one counter every change raises; each worker compares it with
the one its registry was built from and reloads when it moved, without a restart.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.database import db
from handover.store.models.base import UTCDateTime, utcnow


class UploadedForm(db.Model):
    __tablename__ = "uploaded_forms"
    __table_args__ = (UniqueConstraint("form_key", "version",
                                       name="uq_uploaded_forms_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    #: SHA-256 (hex) of ``definition``: the same content uploaded again is recognised.
    checksum: Mapped[str] = mapped_column(String(64))
    #: The uploaded file's name, as the admin chose it (shown, never used as a path).
    filename: Mapped[str] = mapped_column(String(255))
    #: The checked definition as canonical JSON, fragments resolved. Not client data.
    definition: Mapped[str] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The version senders get now (at most one per key).
    enabled: Mapped[bool] = mapped_column(default=False)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __repr__(self):
        return f"<UploadedForm {self.form_key} v{self.version}>"


class UploadedFormsGeneration(db.Model):
    """One row (id 1): raised by every change of ``uploaded_forms`` that workers must see."""

    __tablename__ = "uploaded_forms_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
