"""Integration clients of the JSON API and the idempotency keys of their writes.

A client is another system (a ward's patient-record system, a municipality's child-welfare
system) acting for exactly one unit with a set of scopes, or an auditor's archive with the one
scope ``audit:read``. Only a SHA-256 of its bearer token is stored: the token is shown once.

Handovers, replies and acknowledgements name the person who made them with a foreign key to
``users``; a client therefore has an account row of its own (`account_id`), which never logs
in (no password, inactive, no memberships): the client's unit and scopes are its access.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from handover.store.database import db
from handover.store.models.accounts import unit_name_key
from handover.store.models.base import UTCDateTime, utcnow


def client_name_key(name: str) -> str:
    """What two client names that differ only in capital letters (or in how an ä is encoded)
    have in common, folded as a unit's name is (`unit_name_key`): the audit log names a client
    as ``api:<name>``, and "Lifecare" beside "lifecare" there leaves its reader guessing whether
    one system acted or two. Migration 0014 computes the same for the clients before it."""
    return unit_name_key(name)


class IntegrationClient(db.Model):
    __tablename__ = "integration_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: `client_name_key` of the name, kept by `_keep_name_key`; unique, so that the database
    #: refuses "LIFECARE" beside "Lifecare" on SQLite and PostgreSQL alike, also when two
    #: admins create them at once. None only for a client that already had such a twin
    #: before migration 0014.
    name_key: Mapped[str | None] = mapped_column(Text, unique=True, index=True, default=None)
    #: None only for an auditor's client (scope ``audit:read``).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True, default=None)
    #: Space-separated, e.g. "inbox:read handover:read".
    scopes: Mapped[str] = mapped_column(String(500))
    #: SHA-256 (hex) of the bearer token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so that an admin can tell tokens apart.
    token_prefix: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: Four eyes: a client made on the admin pages gets a token that works only once another
    #: administrator confirms it (or the operator, `handover clients confirm`). Otherwise one
    #: administrator could mint a token that reads a unit's handovers, or the audit log,
    #: alone. Migration 0017 confirmed the clients that existed before.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    @property
    def awaiting_confirmation(self) -> bool:
        return self.confirmed_at is None and self.revoked_at is None

    @validates("name")
    def _keep_name_key(self, _attribute, name):
        """Every way a name is set (the service, tests) keeps its key with it."""
        self.name_key = client_name_key(name) if name is not None else None
        return name

    @property
    def scope_set(self) -> frozenset:
        return frozenset(self.scopes.split())


class IdempotencyKey(db.Model):
    """An ``Idempotency-Key`` a client sent with a write, and the handover that write made: the
    same key again answers with that handover instead of making another."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("integration_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    #: Which operation the key was used for ("draft" or "send:<id>"): a key reused for a
    #: different request is refused rather than answered with the wrong handover.
    operation: Mapped[str] = mapped_column(String(64))
    handover_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
