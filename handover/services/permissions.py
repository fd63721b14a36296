"""Who may manage what: system administrators manage every unit and user; a unit lead manages the
members of the units they lead. Handover content access lives in `handover.services.policy`.

Refusals are 404, not 403, so that a page's existence or a unit's id is not confirmed to
someone who may not manage it.
"""

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from handover.store.database import db
from handover.store.models import Membership, Unit


def is_admin(user):
    return bool(user and user.is_authenticated and user.is_active and user.is_admin)


def require_admin():
    """Abort with 404 unless the current user is an active admin."""
    if not is_admin(current_user):
        abort(404)


def led_units(user):
    """The active units ``user`` leads, by name."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    statement = (
        select(Unit)
        .join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.user_id == user.id, Membership.role == "lead", Unit.is_active)
        .order_by(Unit.name)
    )
    return db.session.execute(statement).scalars().unique().all()


def leads_unit(user, unit):
    return unit is not None and unit in led_units(user)


def require_led_unit(unit_id):
    """The unit with ``unit_id`` if the current user leads it, else 404."""
    unit = db.session.get(Unit, unit_id)
    if not leads_unit(current_user, unit):
        abort(404)
    return unit


def require_membership_in(unit, membership_id):
    """A membership of ``unit`` (a lead may only touch their own units' members), else 404."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.unit_id != unit.id:
        abort(404)
    return membership
