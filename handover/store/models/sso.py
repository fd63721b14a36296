"""Which organisation accounts (OpenID Connect identities) sign in as which Handover account.

An identity is the provider's issuer and its stable subject identifier, plus the tenant for a
multi-tenant provider (Entra ID's ``tid``): never the e-mail address, which people change and
providers let users edit. One Handover account may have identities at several providers; one
identity belongs to one account.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handover.store.database import db
from handover.store.models.accounts import User
from handover.store.models.base import UTCDateTime, utcnow


class OidcIdentity(db.Model):
    __tablename__ = "oidc_identities"
    #: Unlinked identities are deleted; the id is in URLs and audit events (migration 0013).
    __table_args__ = (UniqueConstraint("issuer", "tenant", "subject"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    #: "" when the provider has no tenants (or HANDOVER_OIDC_TENANT_CLAIM is not set).
    tenant: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship()
