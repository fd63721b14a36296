"""Every table of Handover. Each area keeps its models in its own module; import them here so
that Alembic and ``db.create_all`` see the whole schema."""

from handover.models.accounts import Membership, Unit, User, UserSession
from handover.models.audit import AuditEvent
from handover.models.handovers import Attachment, Handover, HandoverCopy, Reply
from handover.models.plugins import PluginSetting

__all__ = [
    "Attachment",
    "AuditEvent",
    "Handover",
    "HandoverCopy",
    "Reply",
    "Membership", "PluginSetting", "Unit", "User", "UserSession"]
