"""E-mail to unit members: a handover has arrived, or one is overdue.

The messages say only that something is waiting and where to log in — nothing about the child,
not even the form's title, because e-mail leaves the service unencrypted. They are written in
Finnish, Swedish and English in one message (bilingual authorities serve in both languages).
Without ``SMTP_HOST`` the notification is written to the server log instead (unit id and link
only), at WARNING: the level an unconfigured Python logger shows, so an operator trying the demo
sees it on the console, and one running without SMTP by mistake is told so with every message.
"""

import smtplib
from collections.abc import Collection, Iterable
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update

from handover.services import commit_with_audit, rows_changed
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, Membership, Unit, User
from handover.store.models.base import utcnow

ARRIVAL_SUBJECT = "Uusi luovutus odottaa / En ny överlämning väntar / A new handover is waiting"
ARRIVAL_TEXT = """\
Yksikköönne on saapunut uusi luovutus Handover-palveluun. Kirjaudu sisään lukeaksesi sen:
{link}

En ny överlämning har kommit till er enhet i tjänsten Handover. Logga in för att läsa den:
{link}

A new handover is waiting for your unit in Handover. Log in to read it:
{link}
"""

OVERDUE_SUBJECT = ("Luovutusta ei ole kuitattu / Överlämningen har inte kvitterats / "
                   "A handover has not been acknowledged")
OVERDUE_TEXT = """\
Yksikkönne ei ole kuitannut vastaanotetuksi luovutusta määräajassa. Kirjaudu sisään:
{link}

Er enhet har inte kvitterat en överlämning inom utsatt tid. Logga in:
{link}

Your unit has not acknowledged a handover within the time its form sets. Log in:
{link}
"""


def handover_link(handover: Handover) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + f"/handovers/{handover.id}"


def unit_addresses(unit_id: int | None, roles: Collection[str]) -> list[str]:
    """E-mail addresses of the unit's active members with ``roles`` (and the unit's own)."""
    rows = db.session.execute(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit_id, Membership.role.in_(roles), User.active)
    ).scalars()
    addresses = set(rows)
    unit = db.session.get(Unit, unit_id)
    if unit is not None and unit.email:
        addresses.add(unit.email)
    return sorted(addresses)


def deliver(unit_id: int | None, recipients: Iterable[str], subject: str, text: str,
            link: str | None = None) -> bool:
    """Send one message per recipient; True when delivered (or logged without SMTP)."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        current_app.logger.warning(
            "notification to %s not e-mailed (HANDOVER_SMTP_HOST is not set): %s %s",
            unit_id, subject.rsplit(" / ", 1)[-1], link or "")
        return True
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25),
                          timeout=15) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            for address in recipients:
                message = EmailMessage()
                message["From"] = config["MAIL_FROM"]
                message["To"] = address
                message["Subject"] = subject
                message.set_content(text)
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # A failed e-mail must not undo the handover; the inbox still shows it.
        current_app.logger.error("notification to %s failed: %s", unit_id,
                                 type(error).__name__)
        return False
    return True


def notify_arrival(handover: Handover, unit_ids: Iterable[int | None] | None = None) -> None:
    """Tell the receiving unit and every copy unit that a handover is waiting. ``unit_ids``
    (receiver first, then copies) saves asking again when the caller has just read them."""
    link = handover_link(handover)
    if unit_ids is None:
        unit_ids = [handover.receiver_unit_id] + [
            copy.unit_id for copy in db.session.execute(
                select(HandoverCopy).where(HandoverCopy.handover_id == handover.id)
            ).scalars()
        ]
    smtp = current_app.config.get("SMTP_HOST")
    for unit_id in unit_ids:
        # Without SMTP the notice is only logged, so the addresses are not looked up.
        recipients = unit_addresses(unit_id, ("receiver", "lead")) if smtp else []
        if recipients or not smtp:
            deliver(unit_id, recipients, ARRIVAL_SUBJECT, ARRIVAL_TEXT.format(link=link), link)


def overdue(now: datetime | None = None) -> list[Handover]:
    """Handovers past their acknowledgement time whose unit lead has not been told yet."""
    now = now or utcnow()
    return list(db.session.execute(
        select(Handover).where(
            Handover.status.in_(("sent", "opened")),
            Handover.due_at.is_not(None),
            Handover.due_at < now,
            Handover.overdue_notified_at.is_(None),
        ).order_by(Handover.id)
    ).scalars())


def notify_overdue(now: datetime | None = None) -> list[int]:
    """E-mail the receiving unit's leads once per overdue handover. Returns the ids told."""
    now = now or utcnow()
    told: list[int] = []
    for handover in overdue(now):
        claimed = db.session.execute(
            update(Handover)
            .where(Handover.id == handover.id, Handover.overdue_notified_at.is_(None))
            .values(overdue_notified_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(claimed) != 1:
            db.session.rollback()
            continue
        commit_with_audit("handover.overdue_notified", handover_id=handover.id,
                          unit_id=handover.receiver_unit_id)
        recipients = unit_addresses(handover.receiver_unit_id, ("lead",))
        link = handover_link(handover)
        deliver(handover.receiver_unit_id, recipients, OVERDUE_SUBJECT,
                OVERDUE_TEXT.format(link=link), link)
        told.append(handover.id)
    return told


def is_overdue(handover: Handover, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (handover.status in ("sent", "opened") and handover.due_at is not None
            and handover.due_at < now)
