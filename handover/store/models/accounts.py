"""People, the units they work in, and their live sessions."""

import unicodedata
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, and_, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from handover.store.database import db
from handover.store.models.base import UTCDateTime, utcnow

#: Roles a member can have in a unit. A unit lead manages the unit's members and is told about
#: overdue handovers; a sender starts handovers; a receiver reads and acknowledges them.
MEMBERSHIP_ROLES = ("sender", "receiver", "lead")


def unit_name_key(name: str) -> str:
    """What two unit names that differ only in capital letters (or in how an ä is encoded)
    have in common: Python folds every letter, where SQLite's lower() and NOCASE fold ASCII
    only. Migration 0012 computes the same for the units that existed before it."""
    return unicodedata.normalize("NFC", name).casefold()


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: `unit_name_key` of the name, kept by `_keep_name_key`; unique, so that the database
    #: refuses "ÄÄNEKOSKEN PÄIVÄKOTI" beside "Äänekosken päiväkoti" on SQLite and PostgreSQL
    #: alike, even when two admins create them at once. None only for a unit that already had
    #: such a twin before migration 0012; renaming it gives it its key.
    name_key: Mapped[str | None] = mapped_column(Text, unique=True, index=True, default=None)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="unit", cascade="all, delete-orphan"
    )

    @validates("name")
    def _keep_name_key(self, _attribute, name):
        """Every way a name is set (the services, the demo, tests) keeps its key with it."""
        self.name_key = unit_name_key(name) if name is not None else None
        return name

    def __repr__(self):
        return f"<Unit {self.id} {self.kind}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: Sealed with the instance's key, never plain (`security.totp.store_secret`/`secret_of`);
    #: None until the user enrols.
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    #: The last TOTP time step accepted; a code from that step or earlier is a replay.
    totp_last_step: Mapped[int] = mapped_column(default=0)
    #: Wrong codes in a row at the code step: at `CODE_FAILURES_BEFORE_LOCK` the code step
    #: refuses every code until an administrator resets the password (`security.login`).
    failed_codes: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The administrator role in force. A role another administrator gives on the admin pages
    #: first awaits confirmation (`admin_requested_at`) and is not in force until then.
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: Set while an administrator role given (or taken back by a password reset or a link to
    #: an organisation account) on the admin pages awaits another administrator's
    #: confirmation: who gave it, and when. One administrator alone could otherwise make a
    #: second administrator account, sign in with it and confirm their own memberships.
    admin_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    admin_requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None)
    admin_requested_by: Mapped["User | None"] = relationship(
        remote_side=[id], foreign_keys=[admin_requested_by_id], viewonly=True)
    is_auditor: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    #: False for an account that signs in only through the organisation's provider (SSO).
    password_login: Mapped[bool] = mapped_column(default=True, server_default=true())
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    #: Every membership, confirmed or awaiting confirmation: what the admin and unit lead
    #: pages show and change. Access comes only through `memberships`.
    all_memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )
    #: The confirmed memberships, the only ones that give access (the policy, the lists, the
    #: menus and starting a handover read these). A membership an administrator added, or one
    #: of an account whose password an administrator reset, awaits another person's
    #: confirmation (`pending_memberships`) and gives nothing until then: no administrator
    #: reads content alone. A membership of a deactivated unit gives nothing either: its
    #: members lose its inbox and handovers at once, as the deactivation page says.
    #: Read-only: changes go through `all_memberships`. The session loader fills both from its
    #: one query (`security.sessions`).
    memberships: Mapped[list["Membership"]] = relationship(
        primaryjoin=lambda: and_(User.id == Membership.user_id,
                                 Membership.confirmed_at.is_not(None),
                                 Membership.unit_id.in_(select(Unit.id).where(Unit.is_active))),
        viewonly=True,
    )
    pending_memberships: Mapped[list["Membership"]] = relationship(
        primaryjoin="and_(User.id == Membership.user_id, Membership.confirmed_at.is_(None))",
        viewonly=True,
    )

    #: Set by the session loader: the server-side session this request runs in.
    current_session = None

    @property
    def is_active(self):
        return self.active

    @property
    def admin_awaiting_confirmation(self) -> bool:
        return self.admin_requested_at is not None

    def get_id(self):
        """Flask-Login keeps this in the cookie: the server-side session id, never the user id,
        so that revoking the session row logs the browser out (logout, deactivation)."""
        return self.current_session.id if self.current_session else None

    def roles_in(self, unit_id):
        return {m.role for m in self.memberships if m.unit_id == unit_id}

    def __repr__(self):
        return f"<User {self.id}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    #: Removed by admins and unit leads; the id is in the remove buttons' URLs, so a repeated
    #: post never finds a later membership under it on SQLite either (migration 0013).
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the membership was confirmed; None while it awaits confirmation and gives no
    #: access (four eyes: see `services.accounts_memberships`). Confirmed at once unless an
    #: administrator added it or reset its holder's password (migration 0015 confirmed the
    #: memberships that existed before).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who confirmed it: a lead of the unit or another administrator; None when it needed no
    #: confirmation (a unit lead, the command line or the demo made it).
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None)
    #: The administrator who added the membership or reset its holder's password, and when:
    #: someone else must confirm it. Kept after confirmation, as a record.
    pending_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship(back_populates="all_memberships",
                                      foreign_keys=[user_id])
    pending_by: Mapped[User | None] = relationship(foreign_keys=[pending_by_id], viewonly=True)
    unit: Mapped[Unit] = relationship(back_populates="memberships")


class UserSession(db.Model):
    """A logged-in browser. The cookie carries only this row's random id."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    client_address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()
