"""Per-instance plugin switches, kept in the database so every worker agrees."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.database import db
from handover.store.models.base import UTCDateTime, utcnow


class PluginSetting(db.Model):
    __tablename__ = "plugin_settings"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
