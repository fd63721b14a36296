"""Return to sender: a receiving unit that is not the right one sends the handover back.

The handover leaves the returning unit's inbox and that unit loses all access to it at once
(its ``receiver_unit_id`` is cleared, so the one policy finds no relation): what it read stays
in the audit trail, nothing more. The sender's unit is notified, sees why (a reason from a
fixed list, and any free text sealed in the thread), and either routes it to another unit —
the routing rules are checked again, as on a send — or withdraws it.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    LifecycleError,
    NoLongerTheUnits,
    commit_with_audit,
    definition_of,
    deliveries,
    disclosures,
    notifications,
    open_json,
    replies,
    retention,
    rows_changed,
    seal_json,
    webhooks,
)
from handover.services import routing as routing_rules
from handover.services.policy import HandoverAccess, units_of
from handover.store.database import db
from handover.store.models import Handover, HandoverReturn, Reply, Unit, User
from handover.store.models.base import utcnow

#: Why a handover comes back; labels for the page.
REASONS = {
    "wrong_unit": _l("Wrong unit"),
    "child_not_coming": _l("The child is not coming to us"),
    "other": _l("Other reason"),
}
RETURN_KIND = "returned"
TEXT_MAX_LENGTH = 1000


def give_back(access: HandoverAccess, user: User, reason: str, text: str | None = "", *,
              now: datetime | None = None) -> HandoverReturn:
    """Return ``access.handover`` to its sender on behalf of the receiving unit."""
    handover = access.handover
    if not access.allows("return"):
        raise LifecycleError(_l("Only a handover not yet acknowledged can be returned."))
    text = (text or "").strip()
    if reason not in REASONS:
        raise LifecycleError(_l("Choose why you return the handover."))
    if reason == "other" and not text:
        raise LifecycleError(_l("Write why you return the handover."))
    if len(text) > TEXT_MAX_LENGTH:
        raise LifecycleError(_l("The explanation is too long."))
    now = now or utcnow()
    returning_unit = access.unit_id
    values = retention.columns_after(handover, now, activity=False, status="returned",
                                     receiver_unit_id=None, opened_at=None, due_at=None,
                                     updated_at=now)
    result = db.session.execute(
        update(Handover).where(Handover.id == handover.id,
                               Handover.status.in_(("sent", "opened")),
                               # by the unit that holds it now: not one it was rerouted from
                               Handover.receiver_unit_id == returning_unit,
                               Handover.erased_at.is_(None))
        .values(**values).execution_options(synchronize_session=False))
    if rows_changed(result) != 1:
        db.session.rollback()
        if db.session.execute(select(Handover.receiver_unit_id).where(
                Handover.id == handover.id)).scalar() != returning_unit:
            raise NoLongerTheUnits()
        raise LifecycleError(_l("Only a handover not yet acknowledged can be returned."))
    reply = None
    if text:
        reply = Reply(handover_id=handover.id, author_id=user.id, unit_id=returning_unit,
                      kind=RETURN_KIND, created_at=now)
        db.session.add(reply)
        db.session.flush()
        reply.body = seal_json(handover, {"text": text}, crypto.Purpose.REPLY,
                               record_id=reply.id)
    record = HandoverReturn(handover_id=handover.id, unit_id=returning_unit, reason=reason,
                            reply_id=reply.id if reply else None, returned_at=now)
    db.session.add(record)
    # The sending unit's integrations hear of it with the return (the returning unit has let go).
    db.session.flush()   # the return's id tells this return from a later one
    occurrence = str(record.id)
    # The notices are rows of the return's own transaction: told, or not returned at all.
    notices = webhooks.record("returned", handover, receiving=[], now=now, occurrence=occurrence)
    notices += notifications.record_email("returned", handover.id, [handover.sender_unit_id],
                                          ("sender", "lead"), now, occurrence, actor=user)
    commit_with_audit("handover.returned", actor=user, unit_id=returning_unit,
                      handover_id=handover.id, detail={"reason": reason})
    deliveries.dispatch(notices)
    db.session.refresh(handover)
    return record


def reroute_choices(access: HandoverAccess) -> list[Unit]:
    """The units the sender may route a returned handover to now: exactly those the form's
    routing rules allow as its receiver together with its copies, without the units that
    already returned it. A unit that gets a copy is among them when the rules let it receive
    the form: routed to it, it becomes the receiver and gets no copy besides (`reroute`)."""
    handover = access.handover
    units = units_of(handover)
    sender = units.get(handover.sender_unit_id)
    if sender is None:
        return []
    returned_by = set(db.session.execute(select(HandoverReturn.unit_id).where(
        HandoverReturn.handover_id == handover.id)).scalars())
    return [unit for unit in routing_rules.allowed_receivers(handover.form_key, sender)
            if unit.id not in returned_by and _refusal(handover, units, unit) is None]


def copy_unit_ids(handover: Handover) -> set[int]:
    """The ids of the units that get a copy of ``handover``."""
    return {copy.unit_id for copy in handover.copies}


def _refusal(handover: Handover, units: dict[int, Unit], receiver: Unit) -> str | None:
    """Why the routing rules refuse ``receiver`` as the new receiver, with the handover's
    other copy units; None when they allow it."""
    copies = [units[copy.unit_id] for copy in handover.copies
              if copy.unit_id in units and copy.unit_id != receiver.id]
    try:
        routing_rules.check_route(handover.form_key, units.get(handover.sender_unit_id),
                                  receiver, copies)
    except routing_rules.RouteRefused as refused:
        return refused.message
    return None


def reroute(access: HandoverAccess, user: User, receiver: Unit | None, *,
            now: datetime | None = None) -> Handover:
    """Route a returned handover to another unit; the routing is checked again. A copy unit
    chosen as the receiver stops being a copy unit: it reads the handover as its receiver."""
    handover = access.handover
    if not access.allows("reroute"):
        raise LifecycleError(_l("Only a returned handover can be routed to another unit."))
    # The choices are the units the routing rules allow (`check_route`, as on a send).
    if receiver is None or receiver.id not in {u.id for u in reroute_choices(access)}:
        raise LifecycleError(_l("Choose a unit this form may be sent to."))
    units = units_of(handover)
    now = now or utcnow()
    hours = getattr(definition_of(handover), "acknowledge_within_hours", None) or 24
    values = retention.columns_after(handover, now, status="sent", receiver_unit_id=receiver.id,
                                     sent_at=now, opened_at=None, updated_at=now,
                                     due_at=now + timedelta(hours=hours),
                                     overdue_notified_at=None)   # the new unit's own deadline
    result = db.session.execute(
        update(Handover).where(Handover.id == handover.id, Handover.status == "returned",
                               Handover.erased_at.is_(None))   # not after the erasure
        .values(**values).execution_options(synchronize_session=False))
    if rows_changed(result) != 1:
        db.session.rollback()
        raise LifecycleError(_l("Only a returned handover can be routed to another unit."))
    # The receiver's disclosure below is then recorded as a receiver's, not a copy's.
    promoted = [copy for copy in handover.copies if copy.unit_id == receiver.id]
    for copy in promoted:
        handover.copies.remove(copy)   # deleted with the commit (delete-orphan)
    was_copy = bool(promoted)
    _resolve(handover.id, "rerouted", now, receiver.id)
    disclosures.record_sent(handover, definition_of(handover),
                            open_json(handover, handover.content, crypto.Purpose.CONTENT) or {},
                            user.id, {**units, receiver.id: receiver}, now,
                            to_unit_ids=[receiver.id])
    # The new unit's integrations hear that it arrived, as on a send; each reroute's own.
    occurrence = f"reroute:{receiver.id}:{now.isoformat()}"
    notices = webhooks.record("arrived", handover, receiving=[receiver.id], now=now,
                              occurrence=occurrence)
    notices += notifications.record_email("arrived", handover.id, [receiver.id],
                                          ("receiver", "lead"), now, occurrence, actor=user)
    commit_with_audit("handover.rerouted", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id,
                      detail={"to_unit": receiver.id, **({"was_copy": True} if was_copy else {})})
    deliveries.dispatch(notices)
    db.session.refresh(handover)
    return handover


def resolve_withdrawn(handover_id: int, now: datetime) -> None:
    """A returned handover the sender withdrew (in the withdrawal's own transaction)."""
    _resolve(handover_id, "withdrawn", now, None)


def _resolve(handover_id: int, outcome: str, now: datetime, unit_id: int | None) -> None:
    db.session.execute(
        update(HandoverReturn).where(HandoverReturn.handover_id == handover_id,
                                     HandoverReturn.outcome.is_(None))
        .values(outcome=outcome, resolved_at=now, rerouted_to_unit_id=unit_id)
        .execution_options(synchronize_session=False))


def returns_of(handover: Handover) -> list[HandoverReturn]:
    """The returns of one handover, oldest first (for its sender's page)."""
    return list(db.session.execute(
        select(HandoverReturn).where(HandoverReturn.handover_id == handover.id)
        .order_by(HandoverReturn.id)).scalars())


def visible_replies(entries: Iterable[Any], handover: Handover, relation: str | None,
                    sender_relation: str) -> list[Any]:
    """The thread entries a reader sees: the sender all of them; a receiver only those of the
    sending unit and of its own, so that a unit the handover was routed to after a return
    does not read what the unit that returned it wrote."""
    if relation == sender_relation:
        return list(entries)
    keep = {handover.sender_unit_id, handover.receiver_unit_id}
    return [entry for entry in entries
            if (entry[0] if isinstance(entry, tuple) else entry).unit_id in keep]



def returns_shown(handover: Handover) -> list[dict[str, Any]]:
    """The returns of ``handover`` for its sending unit's page: who returned it, when, why,
    and the explanation (opened from the thread; None once erased)."""
    found = returns_of(handover)
    if not found:
        return []
    explanations = {reply.id: value for reply, value in replies.thread(handover)
                    if reply.kind == RETURN_KIND}
    wanted = {r.unit_id for r in found} | {r.rerouted_to_unit_id or 0 for r in found}
    names: dict[int, str] = {unit_id: name for unit_id, name in db.session.execute(
        select(Unit.id, Unit.name).where(Unit.id.in_(wanted))).all()}
    return [{"record": record, "unit": names.get(record.unit_id, ""),
             "reason": REASONS.get(record.reason, record.reason),
             "text": (explanations.get(record.reply_id or 0) or {}).get("text"),
             "rerouted_to": names.get(record.rerouted_to_unit_id or 0, "")}
            for record in found]


# The e-mails' texts: that something waits and where to log in, never what (services/notifications).
notifications.register_text(
    "returned",
    "Tiedonsiirto palautettiin / Överlämningen returnerades / A handover was returned",
    "Vastaanottaja palautti yksikkönne lähettämän tiedonsiirron. Kirjaudu sisään:\n{link}\n\n"
    "Mottagaren returnerade en överlämning som er enhet skickade. Logga in:\n{link}\n\n"
    "The receiver returned a handover your unit sent. Log in:\n{link}\n")
notifications.register_text(
    "updated",
    "Sijoitus on muuttunut / Placeringen har ändrats / A placement has changed",
    "Yksikköönne on saapunut muutostieto lapsen sijoituksesta. Kirjaudu sisään:\n{link}\n\n"
    "En uppdatering om barnets placering har kommit till er enhet. Logga in:\n{link}\n\n"
    "An update to a child's placement is waiting for your unit. Log in:\n{link}\n")
