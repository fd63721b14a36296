"""Every table of Handover. Each area keeps its models in its own module; import them here so
that Alembic and ``db.create_all`` see the whole schema."""

from handover.store.models.accounts import Membership, Unit, User, UserSession
from handover.store.models.audit import AuditEvent
from handover.store.models.deliveries import Delivery, WebhookEndpoint, WorkerHeartbeat
from handover.store.models.handovers import (
    Attachment,
    Handover,
    HandoverCopy,
    Reply,
    ThreadRead,
)
from handover.store.models.integration import IdempotencyKey, IntegrationClient
from handover.store.models.journey import Disclosure, HandoverReturn
from handover.store.models.kept_typing import KeptTyping
from handover.store.models.plugins import PluginSetting
from handover.store.models.sso import OidcIdentity
from handover.store.models.uploaded_forms import UploadedForm, UploadedFormsGeneration

__all__ = [
    "Attachment",
    "AuditEvent",
    "Delivery", "WebhookEndpoint", "WorkerHeartbeat",
    "Handover",
    "HandoverCopy",
    "HandoverReturn", "Disclosure",
    "IdempotencyKey",
    "IntegrationClient",
    "KeptTyping",
    "Reply",
    "ThreadRead",
    "UploadedForm", "UploadedFormsGeneration",
    "Membership", "OidcIdentity", "PluginSetting", "Unit", "User", "UserSession"]
