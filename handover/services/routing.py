"""The routing engine: which forms a unit may send, to which units, with copies to which.

Each form's rules say which unit kinds may send it, to which kinds, with copies to which kinds.
The send path calls ``check_route`` on the server, so a forged POST cannot reach a unit the
rules do not allow.
"""

from collections.abc import Collection, Iterable
from typing import TypeGuard

from sqlalchemy import select

from handover.formdefs import FormDefinition, RoutingRule
from handover.i18n import gettext as _
from handover.plugins.manager import registry
from handover.store.database import db
from handover.store.models import Unit


class RouteRefused(Exception):
    """The rules do not allow this form from this sender to this receiver (or these copies)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def rules_for(form_key: str, sender_kind: str | None = None) -> list[RoutingRule]:
    """The enabled rules of ``form_key`` (those a sender of ``sender_kind`` may use)."""
    return [
        rule for rule in registry().routing_rules(form_key)
        if sender_kind is None or sender_kind in rule.senders
    ]


def sendable_forms(unit: Unit | None) -> list[FormDefinition]:
    """The newest enabled version of every form a unit of this kind may send."""
    if unit is None or not unit.is_active:
        return []
    sendable = {rule.form for rule in registry().routing_rules() if unit.kind in rule.senders}
    return [definition for definition in registry().forms() if definition.key in sendable]


def received_forms(kind: str) -> list[FormDefinition]:
    """The newest enabled version of every form a unit of ``kind`` may receive. Not the forms
    it gets copies of: a copy unit does not reply to them, and their receivers' bases are not
    its own (child-welfare social work gets copies of the ward's form)."""
    received = {rule.form for rule in registry().routing_rules() if kind in rule.receivers}
    return [definition for definition in registry().forms() if definition.key in received]


def receiver_kinds(form_key: str, sender_kind: str) -> list[str]:
    return sorted({kind for rule in rules_for(form_key, sender_kind) for kind in rule.receivers})


def copy_kinds(form_key: str, sender_kind: str) -> list[str]:
    return sorted({kind for rule in rules_for(form_key, sender_kind) for kind in rule.copies})


def _active_units_of(kinds: Collection[str], sender_unit: Unit) -> list[Unit]:
    if not kinds:
        return []
    return list(
        db.session.execute(
            select(Unit)
            .where(Unit.kind.in_(kinds), Unit.is_active.is_(True), Unit.id != sender_unit.id)
            .order_by(Unit.name)
        ).scalars()
    )


def allowed_receivers(form_key: str, sender_unit: Unit) -> list[Unit]:
    """Active units (not the sender itself) that may receive ``form_key`` from ``sender_unit``."""
    return _active_units_of(receiver_kinds(form_key, sender_unit.kind), sender_unit)


def allowed_copy_units(form_key: str, sender_unit: Unit) -> list[Unit]:
    """Active units (not the sender itself) that may get a copy of ``form_key``."""
    return _active_units_of(copy_kinds(form_key, sender_unit.kind), sender_unit)


def _allowed(unit: Unit | None, kinds: Collection[str], sender_unit: Unit) -> TypeGuard[Unit]:
    return (unit is not None and bool(unit.is_active) and unit.kind in kinds
            and unit.id != sender_unit.id)


def check_route(form_key: str, sender_unit: Unit | None, receiver_unit: Unit | None,
                copy_units: Iterable[Unit | None] | None = ()) -> None:
    """Refuse (``RouteRefused``) anything the rules do not allow; return None when allowed."""
    if sender_unit is None or not sender_unit.is_active:
        raise RouteRefused(_("The sending unit is not active."))
    if form_key not in {definition.key for definition in sendable_forms(sender_unit)}:
        raise RouteRefused(_("This unit may not send this form."))
    # The same test as membership in `allowed_receivers` / `allowed_copy_units`, asked of the
    # chosen units only instead of loading every unit of the allowed kinds (a send's hot path).
    if not _allowed(receiver_unit, receiver_kinds(form_key, sender_unit.kind), sender_unit):
        raise RouteRefused(_("This form may not be sent to that unit."))
    copy_kinds_allowed = copy_kinds(form_key, sender_unit.kind)
    seen: set[int] = set()
    for unit in copy_units or ():
        if (not _allowed(unit, copy_kinds_allowed, sender_unit)
                or unit.id == receiver_unit.id):
            raise RouteRefused(_("A copy of this form may not be sent to that unit."))
        if unit.id in seen:
            raise RouteRefused(_("The same unit was chosen twice for a copy."))
        seen.add(unit.id)
