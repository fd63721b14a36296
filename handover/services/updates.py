"""Updates that reach everyone concerned: when the placement changes (it ended, the child moved,
a contact restriction or a hidden location changed or ended, a new social worker), the sender
sends a short update (the built-in form ``placement_update``) from a handover, and it goes to
every unit that received a handover of the same child from the sending unit within the update
form's ``retention.updates_within_days``, as the routing of the form each of them received still
permits. Each receiver gets a handover of its own to read and acknowledge, linked to the original
by ``update_of_id``; the original shows that an update exists.

The update form has no routing of its own (nobody starts one from the list of forms), so it is
sent here rather than through `services.sending`, with the same parts in one transaction: the
content validated like a send, sealed under each new handover's own key, its disclosure rows,
its erasure deadline, and an audit event per receiver; the notices follow the commit.

An update about a protected child carries the protection itself (`Protection`): the location
flags (a non-disclosure marking, a placement hidden from the parents) that any of the child's
handovers it is sent through carried, sealed in its content as a handover's are, so that every
reader of the update sees the same warning; and, for each receiving unit, whether fields that
would reveal where the child lives are hidden from it, as they were from a unit that got only
a copy of a handover carrying a flag.

This module finds whom an update reaches and through which handovers (`recipients`,
`protection`) and sends it (`send_update`); what it carries of the protection lives beside it in
`updates_protection` and is answered here too (`Protection`, `PROTECTION_KEY`, `carried`,
`carried_flags`), so callers ask this one module.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    LifecycleError,
    commit_with_audit,
    definition_of,
    deliveries,
    disclosures,
    drafts,
    notifications,
    policy,
    retention,
    routing,
    seal_json,
    webhooks,
)
from handover.services.policy import HandoverAccess, units_of
from handover.services.sending import identity_hash_of, summary_of
from handover.services.updates_protection import (  # noqa: F401  (asked through here)
    PROTECTION_KEY,
    Protection,
    carried,
    carried_flags,
    protection_of,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, Unit, User
from handover.store.models.base import utcnow

FORM_KEY = "placement_update"
DEFAULT_WINDOW_DAYS = 365


def window_days() -> int:
    return int(retention.retention_of(FORM_KEY).get("updates_within_days",
                                                     DEFAULT_WINDOW_DAYS))


def recipients(original: Handover, now: datetime | None = None) -> list[Unit]:
    """The units an update sent from ``original`` reaches: the receivers and the copy units of
    the child's handovers from the same sending unit within the window, whose form's routing
    still allows them."""
    if not original.identity_hash:
        return []
    now = now or utcnow()
    sender = units_of(original).get(original.sender_unit_id)
    if sender is None:
        return []
    conditions = (*_earlier(original, now), Unit.is_active.is_(True))
    receivers = (select(Handover.form_key, Unit)
                 .join(Unit, Unit.id == Handover.receiver_unit_id).where(*conditions))
    copies = (select(Handover.form_key, Unit)
              .join(HandoverCopy, HandoverCopy.handover_id == Handover.id)
              .join(Unit, Unit.id == HandoverCopy.unit_id).where(*conditions))
    earlier = [*db.session.execute(receivers).all(), *db.session.execute(copies).all()]
    reached: dict[int, Unit] = {}
    for form_key, unit in earlier:
        allowed = set(routing.receiver_kinds(form_key, sender.kind)) | set(
            routing.copy_kinds(form_key, sender.kind))
        if unit.kind in allowed:
            reached.setdefault(unit.id, unit)
    return sorted(reached.values(), key=lambda unit: unit.name)


def protection(original: Handover, now: datetime | None = None) -> Protection:
    """The `Protection` an update sent from ``original`` carries: over ``original`` and every
    handover of the child that `recipients` looks through (whichever units it still reaches:
    a flag describes the child)."""
    found = {original.id: original}
    if original.identity_hash:
        for handover in db.session.execute(
                select(Handover).where(*_earlier(original, now or utcnow()))
                .order_by(Handover.id)).scalars():
            found.setdefault(handover.id, handover)
    return protection_of(found.values())


def _earlier(original: Handover, now: datetime) -> tuple[Any, ...]:
    """The conditions on the child's handovers that an update from ``original`` goes through."""
    return (Handover.identity_hash == original.identity_hash,
            Handover.sender_unit_id == original.sender_unit_id,
            Handover.status.in_(("sent", "opened", "acknowledged")),
            Handover.form_key != FORM_KEY,
            Handover.sent_at >= now - timedelta(days=window_days()))


def updates_of(original: Handover) -> list[Handover]:
    """The updates sent from ``original``, oldest first: none without a query when the count
    read with it (`policy.require` ``with_counts``) says there are none."""
    if original.__dict__.get("update_count") == 0:
        return []
    return list(db.session.execute(
        select(Handover).where(Handover.update_of_id == original.id)
        .order_by(Handover.id)).scalars())


def send_update(granted: HandoverAccess, user: User, content: dict[str, Any], *,
                language: str = "fi", now: datetime | None = None,
                submission_token: str | None = None) -> list[Handover]:
    """Send the update in ``content`` from ``granted.handover`` to every `recipients` unit.

    A ``submission_token`` (the page's one-time token) makes a repeat of the same post (a
    double click, a retry after a timeout, even one arriving at the same moment) return the
    updates the first post sent, and send nothing: each update carries the token bound to its
    receiving unit (`_unit_token`) under the unique index of ``submission_token``.
    """
    if not granted.allows("update"):
        raise LifecycleError(_l("No update can be sent from this handover."))
    # Decided on the handover as it is now: withdrawn, returned or erased since the page
    # loaded, it is no longer one to send an update from.
    granted = policy.hold(granted, user, "update")
    original = granted.handover
    earlier = sent_with(original, user, submission_token)
    if earlier:
        return earlier
    now = now or utcnow()
    definition = definition_of(FORM_KEY)
    sender = units_of(original)[original.sender_unit_id]
    errors = drafts.validate_content(definition, content, sender.kind, language)
    if errors:
        raise drafts.ValidationFailed(errors)
    if identity_hash_of(definition, content) != original.identity_hash:
        # On the identity code's field, where the sender corrects it.
        raise drafts.ValidationFailed({definition.identity_code_field or "": [
            _l("The update must be about the same child as the handover.")]})
    units = recipients(original, now)
    if not units:
        raise LifecycleError(_l("No unit has received a handover of this child from your "
                                "unit recently: there is nobody to update."))
    bases = [choice.value for choice in definition.legal_bases]
    basis = original.legal_basis if original.legal_basis in bases else bases[0]
    hours = definition.acknowledge_within_hours or 24
    carries = protection(original, now)
    sent = []
    for unit in units:
        update = Handover(
            form_key=definition.key, form_version=definition.version, status="sent",
            sender_unit_id=original.sender_unit_id, receiver_unit_id=unit.id,
            created_by_id=user.id, sent_by_id=user.id, legal_basis=basis,
            update_of_id=original.id, identity_hash=original.identity_hash, sent_at=now,
            updated_at=now, created_at=now, due_at=now + timedelta(hours=hours),
            submission_token=_unit_token(submission_token, unit.id))
        db.session.add(update)
        try:
            db.session.flush()
        except IntegrityError:
            # The same post, arriving at the same moment, sent its updates first.
            db.session.rollback()
            earlier = sent_with(original, user, submission_token)
            if not earlier:   # a token that was never this user's page's
                raise LifecycleError(_l("The update could not be sent. Send it again.")) from None
            return earlier
        update.content = seal_json(update, carries.sealed_for(content, unit.id),
                                   crypto.Purpose.CONTENT)
        update.summary = seal_json(update, summary_of(definition, content),
                                   crypto.Purpose.SUMMARY)
        for column, value in retention.columns_after(update, now).items():
            setattr(update, column, value)
        disclosures.record_sent(update, definition, content, user.id, {unit.id: unit}, now)
        audit.record("handover.sent", actor=user, unit_id=sender.id, handover_id=update.id,
                     detail={"update_of": original.id})
        sent.append(update)
    # Each receiving unit's people and integrations hear of its update in the same
    # transaction: told, or not sent at all.
    notices = [
        delivery_id for update in sent
        for delivery_id in (
            webhooks.record("updated", update, receiving=[update.receiver_unit_id], now=now)
            + notifications.record_email("updated", update.id, [update.receiver_unit_id],
                                         ("receiver", "lead"), now))]
    retention.record_activity(original, now)
    commit_with_audit("handover.update_sent", actor=user, unit_id=sender.id,
                      handover_id=original.id, detail={"updates": [u.id for u in sent]})
    deliveries.dispatch(notices)
    return sent


def _unit_token(submission_token: str | None, unit_id: int | None) -> str | None:
    """The token one update of a post carries: the page's token bound to the update's
    receiving unit (a post sends one update per unit, and each token is unique)."""
    if not submission_token:
        return None
    return hashlib.sha256(f"update:{submission_token}:{unit_id}".encode()).hexdigest()


def sent_with(original: Handover, user: User,
              submission_token: str | None) -> list[Handover]:
    """The updates ``user`` sent from ``original`` by the post that carried
    ``submission_token``, oldest first; none without a token."""
    if not submission_token:
        return []
    return [update for update in db.session.execute(
        select(Handover).where(Handover.update_of_id == original.id,
                               Handover.sent_by_id == user.id,
                               Handover.submission_token.is_not(None))
        .order_by(Handover.id)).scalars()
        if update.submission_token == _unit_token(submission_token, update.receiver_unit_id)]
