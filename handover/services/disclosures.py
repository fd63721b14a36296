"""The disclosure record: for each handover and each reply, what was disclosed (form and
sections), by whom, to whom, on what basis and when — the facts a disclosure notice under the
client-data act (703/2023) needs, and the child or guardian may ask for.

Rows are written in the transaction of the send (one per receiving and copy unit, with the
sections that unit is shown), of a re-route, and of each reply (with the reply's own basis).
They are metadata: no name, no free text, nothing the erasure of the content touches, so the
per-child access report still lists them years after the content is gone.

A reply's basis is chosen from its form's list: the reply forms' ``legal_bases`` for the
receiving unit (for a ward: the patient-data basis or consent), else the handover form's own.
A form with no reply forms at all (the placement update, which reaches wards, daycares and
schools alike) is answered on the bases the receiving unit's kind replies on to the forms it
receives: a ward discloses patient data on the patient-data basis whatever it answers. A form
whose reply forms list no bases keeps its own, as its author chose.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from handover.formdefs import Choice, FormDefinition
from handover.i18n import lazy_gettext as _l
from handover.services import LifecycleError, definition_of, routing
from handover.services.policy import units_of
from handover.store.database import db
from handover.store.models import Disclosure, Handover, Reply, Unit, User
from handover.store.models.base import utcnow

#: The content fields (shared "decides" section) that say whose consent a disclosure rests on.
CONSENT_BY_FIELD = "disclosure_consent_by"
CONSENT_DATE_FIELD = "disclosure_consent_date"


@dataclass(frozen=True)
class BasisChoice:
    value: str
    label: str


def _consent(content: dict[str, Any] | None) -> tuple[str | None, date | None]:
    content = content or {}
    by = content.get(CONSENT_BY_FIELD) or None
    if by == "statutory":
        return None, None
    try:
        on = date.fromisoformat(str(content.get(CONSENT_DATE_FIELD))) if by else None
    except ValueError:
        on = None
    return (str(by)[:32] if by else None), on


def record_sent(handover: Handover, definition: FormDefinition, content: dict[str, Any],
                by_user_id: int, units: dict[int, Unit], now: datetime,
                to_unit_ids: list[int] | None = None) -> None:
    """Add the disclosure rows of a send (or, with ``to_unit_ids``, of a re-route to those
    units) to the caller's transaction."""
    consent_by, consent_on = _consent(content)
    copies = {copy.unit_id for copy in handover.copies}
    targets = to_unit_ids if to_unit_ids is not None else [
        handover.receiver_unit_id, *sorted(copies)]
    for unit_id in targets:
        if unit_id is None:
            continue
        as_copy = unit_id in copies and unit_id != handover.receiver_unit_id
        kind = units[unit_id].kind if unit_id in units else ""
        sections = definition.visible_sections(kind, as_copy)
        db.session.add(Disclosure(
            handover_id=handover.id, disclosed_at=now, by_user_id=by_user_id,
            by_unit_id=handover.sender_unit_id, to_unit_id=unit_id, as_copy=as_copy,
            form_key=f"{definition.key}:{definition.version}",
            sections=",".join(s.key for s in sections)[:2000],
            basis=handover.legal_basis or "", consent_by=consent_by, consent_on=consent_on))


def reply_bases(handover: Handover, unit_id: int | None,
                language: str = "fi") -> list[BasisChoice]:
    """The bases a reply from ``unit_id`` may rest on, labelled in ``language``: the receiving
    unit's come from the reply forms' lists when they have any."""
    definition = definition_of(handover)
    choices = list(definition.legal_bases)
    if unit_id is not None and unit_id == handover.receiver_unit_id:
        choices = _reply_bases_of([definition]) or (
            _reply_bases_of_kind(handover, unit_id) if not definition.reply_forms else []
        ) or choices
    shown: dict[str, BasisChoice] = {}
    for choice in choices:
        shown.setdefault(choice.value, BasisChoice(choice.value, choice.label_in(language)))
    return list(shown.values())


def _reply_bases_of(definitions: list[FormDefinition]) -> list[Choice]:
    return [choice for definition in definitions for reply in definition.reply_forms
            for choice in reply.legal_bases]


def _reply_bases_of_kind(handover: Handover, unit_id: int) -> list[Choice]:
    """The bases on which units of ``unit_id``'s kind reply to the forms they receive."""
    unit = units_of(handover).get(unit_id)
    return _reply_bases_of(routing.received_forms(unit.kind)) if unit is not None else []


def check_reply_basis(handover: Handover, unit_id: int | None, basis: str | None) -> str:
    """The basis a reply records: the one chosen, which must be on its list; when a caller
    (an older API client) chooses none, the first of the list."""
    allowed = [choice.value for choice in reply_bases(handover, unit_id)]
    if not basis:
        return allowed[0] if allowed else ""
    if basis not in allowed:
        raise LifecycleError(_l("Choose the basis of disclosure from the list."))
    return basis


def record_reply(handover: Handover, reply: Reply, now: datetime | None = None) -> None:
    """Add the disclosure row of a reply (to the other party) to the caller's transaction."""
    to_unit = (handover.receiver_unit_id if reply.unit_id == handover.sender_unit_id
               else handover.sender_unit_id)
    if to_unit is None:
        return
    db.session.add(Disclosure(
        handover_id=handover.id, reply_id=reply.id, disclosed_at=now or utcnow(),
        by_user_id=reply.author_id, by_unit_id=reply.unit_id, to_unit_id=to_unit,
        form_key=f"{handover.form_key}:{handover.form_version}:{reply.kind}",
        sections=reply.kind, basis=reply.legal_basis or ""))


def of_handovers(handover_ids: list[int]) -> list[Disclosure]:
    """Every disclosure of these handovers, oldest first (for the per-child report)."""
    if not handover_ids:
        return []
    return list(db.session.execute(
        select(Disclosure).where(Disclosure.handover_id.in_(handover_ids))
        .order_by(Disclosure.disclosed_at, Disclosure.id)).scalars())


def shown(handovers: list[Handover]) -> list[dict[str, Any]]:
    """`of_handovers` for the report page: each row's fields and the discloser's name."""
    rows = of_handovers([handover.id for handover in handovers])
    names: dict[int, str] = {user_id: name for user_id, name in db.session.execute(
        select(User.id, User.name).where(User.id.in_({row.by_user_id for row in rows})))
        .all()} if rows else {}
    return [{**{column: getattr(row, column) for column in _COLUMNS},
             "by_user_name": names.get(row.by_user_id, "")} for row in rows]


_COLUMNS = ("id", "handover_id", "reply_id", "disclosed_at", "by_unit_id", "to_unit_id",
            "as_copy", "form_key", "sections", "basis", "consent_by", "consent_on")
