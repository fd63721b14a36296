"""Creating, renaming and deactivating units: the admin's units pages and `handover units`.

Unit names are unique regardless of capital letters, because "Äänekosken päiväkoti" and
"ÄÄNEKOSKEN PÄIVÄKOTI" are too easily mixed up when choosing where a handover goes. The
comparison is on `Unit.name_key` (`unit_name_key`: Python's casefold, computed in Python) under
a unique index, so SQLite, whose lower() folds ASCII letters only, answers as PostgreSQL does,
and two admins creating the twins at once are refused by the database (`one_transaction`).
"""

from sqlalchemy import func, select

from handover.services.accounts_base import N_, AccountError, one_transaction
from handover.services.accounts_lookup import EMAIL_PATTERN, normalise_email, unit_kinds
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, Unit, User
from handover.store.models.accounts import unit_name_key


@one_transaction
def create_unit(name: str, kind: str, organisation: str = "", email: str = "",
                actor: User | None = None) -> Unit:
    name = _unit_name(name)
    _check_kind(kind)
    unit = Unit(name=name, kind=kind, organisation=(organisation or "").strip(),
                email=_unit_email(email))
    db.session.add(unit)
    db.session.flush()
    audit.record("admin.unit_created", actor=actor, unit_id=unit.id, detail={"kind": kind})
    db.session.commit()
    return unit


@one_transaction
def update_unit(unit: Unit, name: str, kind: str, organisation: str = "", email: str = "",
                actor: User | None = None) -> Unit:
    name = _unit_name(name, unit)
    _check_kind(kind)
    email = _unit_email(email)
    unit.name, unit.kind = name, kind
    unit.organisation, unit.email = (organisation or "").strip(), email
    audit.record("admin.unit_updated", actor=actor, unit_id=unit.id, detail={"kind": kind})
    db.session.commit()
    return unit


@one_transaction
def set_unit_active(unit: Unit, active: bool, actor: User | None = None) -> Unit:
    """Deactivate (or reactivate) a unit. Members and history stay; routing later skips it."""
    unit.is_active = bool(active)
    action = "admin.unit_reactivated" if active else "admin.unit_deactivated"
    audit.record(action, actor=actor, unit_id=unit.id)
    db.session.commit()
    return unit


def _unit_name(name: str | None, unit: Unit | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise AccountError(N_("Give the unit a name."), field="name")
    if len(name) > 200:
        raise AccountError(N_("The name is too long."), field="name")
    existing = db.session.execute(
        select(Unit).where(Unit.name_key == unit_name_key(name))).scalar_one_or_none()
    if existing is None or existing is unit:
        return name
    if existing.name == name:
        raise AccountError(N_("A unit with this name already exists."), field="name")
    raise AccountError(N_("There is already a unit named %(name)s: names that differ "
                          "only in capital letters are too easily mixed up."),
                       field="name", name=existing.name)


def _unit_email(email: str | None) -> str:
    """The unit's shared address (optional): notifications are sent to it."""
    email = normalise_email(email)
    if email and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        raise AccountError(N_("Enter a valid e-mail address."), field="email")
    return email


def _check_kind(kind: str) -> None:
    if kind not in unit_kinds():
        raise AccountError(N_("Unknown unit kind: %(kind)s"), field="kind", kind=kind)


def awaiting_acknowledgement(unit: Unit) -> int:
    """How many handovers sent to ``unit`` it has not acknowledged yet (a count, no content):
    what deactivating the unit leaves unread."""
    return db.session.scalar(
        select(func.count()).select_from(Handover)
        .where(Handover.receiver_unit_id == unit.id,
               Handover.status.in_(("sent", "opened")))) or 0
