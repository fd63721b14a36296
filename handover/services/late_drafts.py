"""Drafts not sent in time: each form's timing gives a draft a send-by time, a draft still
unsent after it is late, and the sending unit's leads are told once.

Why: a form has its moment relative to the placement or admission (the ward's pre-information
before a planned arrival or within 24 hours of an emergency one, the school's during planning;
`formdefs.notices.Timing`). The acknowledgement deadline holds the receiver to time; this holds
the sender, whose late form leaves a ward or a school receiving a child without knowing them.

The send-by time is computed from the draft's content on every save (`drafts.save`), where the
content is open anyway, and stored in the clear as the acknowledgement deadline ``due_at`` is:
a time, never the date it counts from nor which case of the timing applied, so that the overdue
job finds late drafts without opening any sealed content. Sending clears it.

Dates in forms are Finnish calendar days: a draft due on a day is late from the midnight that
ends that day in Finland. The forms record no time of arrival, so "within 24 hours of an
emergency admission" is the day after the arrival day (the latest an admission that day can
have been told about), which the ward form's timing says with its ``offset_days = 1`` case.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from handover.formdefs import UnknownForm, display
from handover.formdefs.content import TIMEZONE
from handover.services import (
    commit_with_audit,
    definition_of,
    deliveries,
    notifications,
    rows_changed,
)
from handover.store.database import db
from handover.store.models import Handover, User
from handover.store.models.base import utcnow

#: The e-mail event of the notice to the sending unit's leads (`notifications.TEXTS`).
EVENT = "draft_late"
LATE_SUBJECT = ("Luonnosta ei ole lähetetty ajoissa / Utkastet har inte skickats i tid / "
                "A draft has not been sent in time")
LATE_TEXT = """\
Yksikkönne luonnosta ei ole lähetetty lomakkeen ohjeen mukaisessa ajassa. Kirjaudu sisään:
{link}

Ett utkast i er enhet har inte skickats inom den tid blanketten anger. Logga in:
{link}

A draft of your unit has not been sent within the time its form sets. Log in:
{link}
"""

def _lead_page(row: Any) -> str:
    """The notice leads to the sending unit's page for its leads, which lists the late drafts
    (`late_of_unit`): a lead who is not also a sender may not open a draft."""
    return f"/lead/units/{row.unit_id}"


def _sent_meanwhile(handover: Handover, row: Any) -> str | None:
    """A late draft's notice applies while it is still a draft (not sent, not deleted)."""
    return None if handover.status == "draft" else f"handover {handover.status}"


notifications.register_text(EVENT, LATE_SUBJECT, LATE_TEXT, path=_lead_page,
                            still_due=_sent_meanwhile)


def send_by_of(definition: Any, content: Mapping[str, Any]) -> datetime | None:
    """The moment after which a draft of ``definition`` with ``content`` is late: the start
    (in Finland) of the day after its due date; None when the form sets no timing or the date
    it counts from is not filled in."""
    timing = getattr(definition, "timing", None)
    due = timing.due_date(content) if timing is not None else None
    if due is None:
        return None
    return datetime.combine(due + timedelta(days=1), time(), TIMEZONE).astimezone(UTC)


def send_by_for(handover: Handover, content: Mapping[str, Any]) -> datetime | None:
    """`send_by_of` for a draft of ``handover``'s form; None when its plugin is gone (the
    draft is still saved, as before, and has no deadline)."""
    try:
        definition = definition_of(handover)
    except UnknownForm:
        return None
    return send_by_of(definition, content)


def due_day(send_by_at: datetime) -> date:
    """The last day on which a draft with this send-by time is in time (the date shown)."""
    return send_by_at.astimezone(TIMEZONE).date() - timedelta(days=1)


def is_late(handover: Handover, now: datetime | None = None) -> bool:
    return (handover.status == "draft" and handover.erased_at is None
            and handover.send_by_at is not None and handover.send_by_at <= (now or utcnow()))


@dataclass(frozen=True)
class SendBy:
    """What a sender is shown of a draft's deadline: the last day in time, and whether it is
    past."""

    day: date
    late: bool

    @property
    def shown(self) -> str:
        """The day as the forms show dates, d.m.yyyy in every language."""
        return display.date_text(self.day)


def send_by(handover: Handover, now: datetime | None = None) -> SendBy | None:
    """A draft's deadline for its senders' pages, or None (sent, or no deadline)."""
    if handover.status != "draft" or handover.send_by_at is None:
        return None
    return SendBy(due_day(handover.send_by_at), is_late(handover, now))


@dataclass(frozen=True)
class LateDraft:
    """What a unit's leads see of a late draft: never its content, not even the child's name."""

    handover_id: int
    form_title: str
    started_by: str
    send_by: SendBy


def late_of_unit(unit_id: int, language: str, now: datetime | None = None) -> list[LateDraft]:
    """The unit's late drafts, the longest late first, for its leads' page (the caller has
    checked that the user leads the unit)."""
    now = now or utcnow()
    found = db.session.execute(
        select(Handover, User.name).join(User, User.id == Handover.created_by_id).where(
            Handover.sender_unit_id == unit_id,
            Handover.status == "draft",
            Handover.erased_at.is_(None),
            Handover.send_by_at.is_not(None),
            Handover.send_by_at <= now,
        ).order_by(Handover.send_by_at, Handover.id)
    ).all()
    rows = []
    for draft, name in found:
        try:
            title = definition_of(draft).title_in(language)
        except UnknownForm:
            title = draft.form_key
        deadline = send_by(draft, now)
        if deadline is not None:
            rows.append(LateDraft(draft.id, title, name, deadline))
    return rows


def late(now: datetime | None = None) -> list[Handover]:
    """Drafts past their send-by time whose unit's leads have not been told yet."""
    now = now or utcnow()
    return list(db.session.execute(
        select(Handover).where(
            Handover.send_by_at.is_not(None),
            Handover.send_by_at <= now,
            Handover.status == "draft",
            Handover.erased_at.is_(None),
            Handover.late_notified_at.is_(None),
        ).order_by(Handover.id)
    ).scalars())


def notify_late(now: datetime | None = None) -> list[int]:
    """Queue the late-draft notice to the sending unit's leads once per late draft: the claim,
    the outbox rows (one per recipient, deduplicated) and the audit event commit together, as
    `notifications.notify_overdue` does for the receiver's side. Returns the drafts' ids."""
    now = now or utcnow()
    told: list[int] = []
    for draft in late(now):
        claimed = db.session.execute(
            update(Handover)
            .where(Handover.id == draft.id, Handover.status == "draft",
                   Handover.late_notified_at.is_(None))
            .values(late_notified_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(claimed) != 1:
            db.session.rollback()
            continue
        # The unit's leads; a unit without one its senders (as an overdue notice goes to the
        # receivers then), or the draft was marked as told while nobody was.
        ids = (notifications.record_email(EVENT, draft.id, [draft.sender_unit_id], ("lead",),
                                          now)
               or notifications.record_email(EVENT, draft.id, [draft.sender_unit_id],
                                             ("sender",), now))
        if ids:
            commit_with_audit("handover.late_notified", handover_id=draft.id,
                              unit_id=draft.sender_unit_id)
        else:
            commit_with_audit("handover.late_notified", handover_id=draft.id,
                              unit_id=draft.sender_unit_id, outcome="failed",
                              detail={"reason": "no_recipient"})
        deliveries.dispatch(ids)
        told.append(draft.id)
    return told
