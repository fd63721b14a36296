"""Finding people and units for the admin pages, the unit lead's page and the CLI.

Every lookup of a person leaves out the account row an integration client acts under
(`IS_CLIENT_ACCOUNT`): it is no person's, and no page or command may list it or make it a
login. `refuse_client_account` says so to any caller that got hold of one anyway.
"""

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from handover.plugins import manager as plugin_manager
from handover.services.accounts_base import N_, AccountError
from handover.store.database import db, folded
from handover.store.models import IntegrationClient, Membership, Unit, User
from handover.store.models.accounts import unit_name_key

#: Loose on purpose: the address is a login name and a notification target, and the only way
#: to know it works is to send to it. This refuses typos such as spaces or a missing domain.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: The account row an integration client acts under (`IntegrationClient.account_id`) is no
#: person's: no page or command lists it, and nobody can make it a login.
IS_CLIENT_ACCOUNT = exists().where(IntegrationClient.account_id == User.id)

#: Built once: the ids are one expanding parameter, so a request compiles nothing new.
_UNITS_BY_ID = select(Unit).where(Unit.id.in_(bindparam("ids", expanding=True)))


def units_by_id(ids: Iterable[int | None]) -> dict[int, Unit]:
    """{id: Unit} for the units among ``ids`` (None and repeats are ignored), in one query."""
    wanted = sorted({unit_id for unit_id in ids if unit_id})
    if not wanted:
        return {}
    return {unit.id: unit
            for unit in db.session.execute(_UNITS_BY_ID, {"ids": wanted}).scalars()}


def unit_kinds() -> tuple[str, ...]:
    """Core kinds, then the kinds plugins registered (`plugins.manager.unit_kinds`)."""
    return tuple(plugin_manager.unit_kinds())


def normalise_email(email: str | None) -> str:
    """Addresses are stored lower-cased by Python, which folds every letter (ä, ö, å too), and
    compared by equality: the same on SQLite, whose lower() folds ASCII only, and PostgreSQL."""
    return (email or "").strip().lower()


def find_user(email: str | None) -> User | None:
    """The person with this e-mail address; never an integration client's account."""
    return db.session.execute(
        select(User).where(User.email == normalise_email(email), ~IS_CLIENT_ACCOUNT)
    ).scalar_one_or_none()


def find_person(user_id: object) -> User | None:
    """The person with id ``user_id``; None for an unknown id and for an integration client's
    account (`IS_CLIENT_ACCOUNT`)."""
    if not isinstance(user_id, int):
        return None
    return db.session.execute(
        select(User).where(User.id == user_id, ~IS_CLIENT_ACCOUNT)
    ).scalar_one_or_none()


def is_client_account(user: User) -> bool:
    return bool(db.session.execute(
        select(IntegrationClient.id).where(IntegrationClient.account_id == user.id).limit(1)
    ).first())


def refuse_client_account(user: User) -> None:
    """An integration client's account is changed only with its client (the pages and
    commands never show it: `find_person`, `find_user`); refused here for any other caller."""
    if is_client_account(user):
        raise AccountError(N_("This account belongs to an integration client: manage it on "
                              "the integration clients page."))


def find_unit(name: str | None) -> Unit | None:
    """The unit named ``name`` as a person types it: whatever its capital letters, or how its
    ä is encoded, by `Unit.name_key`, which is unique, as the names are in that sense
    (`accounts_units`). The exact name first, for a twin from before migration 0012, which
    has no key."""
    name = (name or "").strip()
    if not name:
        return None
    exact = db.session.execute(select(Unit).where(Unit.name == name)).scalar_one_or_none()
    if exact is not None:
        return exact
    return db.session.execute(
        select(Unit).where(Unit.name_key == unit_name_key(name))).scalar_one_or_none()


def closest_units(name: str | None, limit: int = 3) -> list[Unit]:
    """The ``limit`` units whose names are most like ``name`` (compared folded, as
    `find_unit` compares), the likest first: what a command names when no unit matched."""
    wanted = unit_name_key((name or "").strip())
    units = list(db.session.execute(select(Unit).order_by(Unit.id)).scalars())

    def likeness(unit: Unit) -> float:
        return SequenceMatcher(None, wanted, unit_name_key(unit.name)).ratio()

    return sorted(units, key=likeness, reverse=True)[:limit]


def search_users(query: str = "") -> list[User]:
    """People whose name or e-mail contains ``query`` (regardless of capitals, ä, ö and å too,
    on either database: `folded`), by name; never an integration client's account."""
    statement = select(User).where(~IS_CLIENT_ACCOUNT).order_by(folded(User.name), User.id)
    query = (query or "").strip().lower()
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            folded(User.name).like(pattern, escape="\\")
            | folded(User.email).like(pattern, escape="\\")
        )
    return list(db.session.execute(statement).scalars())


def all_units() -> list[Unit]:
    """Every unit by name, each with its memberships (the administrators' list counts them):
    two statements, not one more per unit."""
    return list(db.session.execute(select(Unit).order_by(func.lower(Unit.name))
                                   .options(selectinload(Unit.memberships))).scalars())


def memberships_of(unit: Unit) -> list[Membership]:
    """The unit's memberships, confirmed or awaiting, by person's name and role, each with its
    person loaded in the same statement."""
    return sorted(db.session.execute(
        select(Membership).where(Membership.unit_id == unit.id)
        .options(joinedload(Membership.user))).scalars(),
        key=lambda membership: (membership.user.name.lower(), membership.role))
