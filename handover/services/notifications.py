"""E-mail to unit members: a handover has arrived, a message waits in its thread, or one is overdue.

The messages say only that something is waiting and where to log in — nothing about the child,
not even the form's title, because e-mail leaves the service unencrypted. They are written in
Finnish, Swedish and English in one message (bilingual authorities serve in both languages).
Without ``SMTP_HOST`` the notification is written to the server log instead (unit id and link
only), at WARNING: the level an unconfigured Python logger shows, so an operator trying the demo
sees it on the console, and one running without SMTP by mistake is told so with every message.

Nothing here talks to the mail server inside a request: the action adds one outbox row per
recipient to its own transaction (`record_arrival`, `notify_overdue`), and the worker sends them
with `send_email` (see `services.deliveries`), so a mail server that is down or slow delays the
notice and nothing else.
"""

import ipaddress
import smtplib
import ssl
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, exists, select, update

from handover.formdefs.content import TIMEZONE
from handover.services import commit_with_audit, deliveries, rows_changed
from handover.services.deadlines import Deadline
from handover.store.database import db
from handover.store.models import (
    Delivery,
    Handover,
    HandoverCopy,
    Membership,
    Reply,
    Unit,
    User,
)
from handover.store.models.base import utcnow

ARRIVAL_SUBJECT = "Uusi tiedonsiirto odottaa / En ny överlämning väntar / A new handover is waiting"
ARRIVAL_TEXT = """\
Yksikköönne on saapunut uusi tiedonsiirto Handover-palveluun. Kirjaudu sisään lukeaksesi sen:
{link}

En ny överlämning har kommit till er enhet i tjänsten Handover. Logga in för att läsa den:
{link}

A new handover is waiting for your unit in Handover. Log in to read it:
{link}
"""

CORRECTION_SUBJECT = ("Korjattu tiedonsiirto odottaa / En korrigerad överlämning väntar / "
                      "A corrected handover is waiting")
CORRECTION_TEXT = """\
Yksikköönne on saapunut korjattu versio aiemmin lähetetystä tiedonsiirrosta. Kirjaudu sisään
lukeaksesi sen:
{link}

En korrigerad version av en tidigare skickad överlämning har kommit till er enhet. Logga in för
att läsa den:
{link}

A corrected version of a handover sent earlier is waiting for your unit. Log in to read it:
{link}
"""

OVERDUE_SUBJECT = ("Tiedonsiirtoa ei ole kuitattu / Överlämningen har inte kvitterats / "
                   "A handover has not been acknowledged")
OVERDUE_TEXT = """\
Yksikkönne ei ole kuitannut vastaanotetuksi tiedonsiirtoa määräajassa. Kirjaudu sisään:
{link}

Er enhet har inte kvitterat en överlämning inom utsatt tid. Logga in:
{link}

Your unit has not acknowledged a handover within the time its form sets. Log in:
{link}
"""


def unit_addresses(unit_id: int | None, roles: Collection[str]) -> list[str]:
    """E-mail addresses of the unit's active members with ``roles`` (and the unit's own); a
    membership awaiting confirmation brings no notices."""
    addresses = set(db.session.execute(
        _MEMBER_ADDRESSES, {"unit_id": unit_id, "roles": list(roles)}).scalars())
    unit = db.session.get(Unit, unit_id)
    if unit is not None and unit.email and unit.is_active:
        addresses.add(unit.email)
    return sorted(addresses)


#: Built once: every send asks it for each receiving unit. A deactivated unit's members get
#: nothing through it, as they see nothing (`User.memberships`).
_MEMBER_ADDRESSES = (
    select(User.email).join(Membership, Membership.user_id == User.id)
    .join(Unit, Unit.id == Membership.unit_id)
    .where(Membership.unit_id == bindparam("unit_id"),
           Membership.role.in_(bindparam("roles", expanding=True)),
           Membership.confirmed_at.is_not(None), User.active, Unit.is_active))
#: Every role a notice goes to: whoever is still a member of the row's unit in any of them may
#: get a notice queued for them (`_still_a_recipient`).
_ANY_ROLE = ("sender", "receiver", "lead")


def _still_a_recipient(row: Delivery, also: Iterable[int | None] = ()) -> bool:
    """Whether the address a notice was queued for is still the unit's, when the worker comes
    to send it: not a person deactivated or removed from the unit since (nor a deactivated
    unit's address). A person is told once however many of the handover's units they are in
    (`record_email`), under the first: the others the notice was for (``also``) count too."""
    if row.unit_id is None:
        return True
    if row.recipient in unit_addresses(row.unit_id, _ANY_ROLE):
        return True
    # Through another unit only as one who sees what came to it (a receiver or lead; a
    # sender of a copy unit sees nothing of it).
    return any(row.recipient in unit_addresses(unit_id, ("receiver", "lead"))
               for unit_id in dict.fromkeys(also) if unit_id not in (None, row.unit_id))


def _copy_units_address(handover: Handover, row: Delivery) -> bool:
    """Whether the notice's address is of a unit that got a copy (an arrival notice, told once
    under the receiving unit to someone of both)."""
    return any(row.recipient in unit_addresses(copy.unit_id, ("receiver", "lead"))
               for copy in handover.copies)


#: Subject and text (with ``{link}``) of each e-mail event; another service adds its own with
#: `register_text` and then records its notices with `record_email`.
TEXTS: dict[str, tuple[str, str]] = {
    "arrived": (ARRIVAL_SUBJECT, ARRIVAL_TEXT),
    "corrected": (CORRECTION_SUBJECT, CORRECTION_TEXT),
    "overdue": (OVERDUE_SUBJECT, OVERDUE_TEXT),
}


#: The page an event's e-mail links to, when it is not the handover's own: ``path(row)``.
PATHS: dict[str, Callable[[Delivery], str]] = {}


def register_text(event: str, subject: str, text: str,
                  path: Callable[[Delivery], str] | None = None,
                  still_due: Callable[[Handover, Delivery], str | None] | None = None) -> None:
    """Another service's notice: its words, the page it leads to, and why it no longer
    applies when the worker comes to send it (`STILL_DUE`)."""
    TEXTS[event] = (subject, text)
    if path is not None:
        PATHS[event] = path
    if still_due is not None:
        STILL_DUE[event] = still_due


def _link_of(row: Delivery) -> str:
    path = PATHS[row.event](row) if row.event in PATHS else f"/handovers/{row.handover_id}"
    return current_app.config["BASE_URL"].rstrip("/") + path


def _text_of(row: Delivery) -> tuple[str, str]:
    """Subject and body for one e-mail row, written when it is sent: the row keeps only the
    event and the handover id."""
    subject, text = TEXTS.get(row.event, TEXTS["arrived"])
    return subject, text.format(link=_link_of(row))


def _message(to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


#: Hosts a password may go to without TLS: the connection never leaves the machine.
LOOPBACK_HOSTS = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str | None) -> bool:
    """True when ``host`` names this machine (``localhost``, 127.0.0.0/8, ::1)."""
    host = (host or "").strip().strip("[]").lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def implicit_tls(config: Mapping[str, Any]) -> bool:
    """Whether the connection is TLS from its first byte (SMTPS): ``SMTP_SSL`` when set,
    otherwise port 465, the submission port for implicit TLS (RFC 8314)."""
    setting = config.get("SMTP_SSL")
    if setting is None:
        return int(config.get("SMTP_PORT") or 25) == 465
    return bool(setting)


def unencrypted_login_problem(config: Mapping[str, Any]) -> str | None:
    """Why the configured SMTP login would send its password in the clear; None when it would
    not (no user name, TLS on, or a server on this machine). `handover check` reports the same
    words, and the worker refuses to log in."""
    if not config.get("SMTP_HOST") or not config.get("SMTP_USERNAME"):
        return None
    if config.get("SMTP_STARTTLS") or implicit_tls(config) or is_loopback(config["SMTP_HOST"]):
        return None
    return ("HANDOVER_SMTP_USERNAME is set but the connection to the SMTP server "
            f"{config['SMTP_HOST']} is not encrypted, so the password would cross the network "
            "in the clear. Set HANDOVER_SMTP_STARTTLS=1 (port 587), or HANDOVER_SMTP_SSL=1 "
            "(implicit TLS; on by itself on port 465).")


def _smtp_send(messages: Iterable[EmailMessage]) -> None:
    """Hand ``messages`` to the configured server on one connection; raises `OSError` or
    `smtplib.SMTPException` when it does not accept them, and `deliveries.DeliveryFailed`
    before connecting when it would log in with a password over an unencrypted connection.
    TLS checks the server's certificate against the system's trusted authorities."""
    config = current_app.config
    problem = unencrypted_login_problem(config)
    if problem:
        current_app.logger.error("e-mail not sent: %s", problem)
        raise deliveries.DeliveryFailed("refused: SMTP password without TLS (see the worker's log)")
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25)
    timeout = float(config.get("SMTP_TIMEOUT") or 15)
    tls = implicit_tls(config)
    starttls = bool(config.get("SMTP_STARTTLS")) and not tls
    # Loading the system's trusted authorities takes tens of milliseconds: only for TLS.
    context = ssl.create_default_context() if tls or starttls else None
    # The whole exchange within the timeout, not each wait (`deadlines`): a server answering
    # a line at a time held the worker's thread as long as it liked.
    with Deadline(timeout) as deadline:
        connection = (smtplib.SMTP_SSL(timeout=deadline.remaining(), context=context)
                      if tls else smtplib.SMTP(timeout=deadline.remaining()))
        deadline.watch(lambda: getattr(connection, "sock", None))
        try:
            connection.connect(host, port)
            with connection as smtp:
                if starttls:
                    smtp.starttls(context=context)
                if config.get("SMTP_USERNAME"):
                    smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
                for message in messages:
                    smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            if deadline.expired:
                raise deliveries.DeliveryFailed("timeout") from error
            raise


def send_email(row: Delivery) -> None:
    """Hand one message to the SMTP server; `DeliveryFailed` when it is not accepted. The
    worker calls this (through `deliveries.attempt`), never a request. A notice that no
    longer applies to its handover as it is now (`no_longer_due`) is not sent:
    `deliveries.NoLongerDue` drops its row."""
    reason = no_longer_due(row)
    if reason is not None:
        raise deliveries.NoLongerDue(reason)
    subject, text = _text_of(row)
    if not current_app.config.get("SMTP_HOST"):
        current_app.logger.warning(
            "notification to %s not e-mailed (HANDOVER_SMTP_HOST is not set): %s %s",
            row.unit_id, subject.rsplit(" / ", 1)[-1], _link_of(row))
        return
    message = _message(row.recipient, subject, text)
    message["Message-ID"] = deliveries.message_id(row)
    # When it happened, in Finnish time: a notice retried for hours still says when.
    message["Date"] = format_datetime(row.occurred_at.astimezone(TIMEZONE))
    try:
        _smtp_send([message])
    except smtplib.SMTPRecipientsRefused as error:
        # The server's code, never the address: 5xx says the mailbox will never take it
        # (no such user), and trying it for three days helps nobody; 4xx may pass later.
        code = min((int(answer[0]) for answer in error.recipients.values()), default=0)
        # 552 (mailbox full) may pass later (RFC 5321 lets a client take it as 452).
        raise deliveries.DeliveryFailed(f"SMTP {code}: recipient refused",
                                        permanent=500 <= code < 600 and code != 552) from error
    except (OSError, smtplib.SMTPException) as error:
        raise deliveries.DeliveryFailed(type(error).__name__) from error


def gone_by(handover: Handover, row: Delivery) -> str | None:
    """Why no notice about ``handover`` applies any more: it was withdrawn, or its content
    erased (there is nothing left to log in for); None while it stands."""
    if handover.status == "withdrawn":
        return "handover withdrawn"
    if handover.erased_at is not None:
        return "handover erased"
    return None


def _arrival_gone_by(handover: Handover, row: Delivery) -> str | None:
    """A "new handover is waiting" notice applies while the handover is sent and the row's
    unit still receives it (as receiver or copy): not once it was withdrawn, returned (and
    perhaps routed to another unit) or erased."""
    gone = gone_by(handover, row)
    if gone is not None:
        return gone
    if handover.status == "returned" and row.unit_id in {copy.unit_id for copy in handover.copies}:
        return None   # returned by its receiver: a copy unit keeps its copy, and is told of it
    if handover.status in ("returned", "draft"):
        return f"handover {handover.status}"
    if row.unit_id is not None and row.unit_id != handover.receiver_unit_id and \
            row.unit_id not in {copy.unit_id for copy in handover.copies}:
        return "unit no longer receives the handover"
    if row.unit_id == handover.receiver_unit_id and (
            handover.status == "acknowledged" or handover.closed_at is not None) and \
            not _copy_units_address(handover, row):
        # Its receiving unit has it in hand; a copy unit may not have looked yet.
        return "handover acknowledged"
    return None


def _overdue_gone_by(handover: Handover, row: Delivery) -> str | None:
    """An overdue notice applies while the handover still waits for its acknowledgement."""
    gone = gone_by(handover, row)
    if gone is None and handover.status not in ("sent", "opened"):
        return f"handover {handover.status}"
    if gone is None and any(reply.unit_id == handover.receiver_unit_id
                            for reply in handover.replies):
        return "the receiving unit has replied"   # as `overdue` leaves it out
    if gone is None and row.unit_id is not None and row.unit_id != handover.receiver_unit_id:
        return "unit no longer receives the handover"   # returned and routed elsewhere
    return gone


#: Why an e-mail event's notice no longer applies, by the event: ``reason(handover, row)``,
#: None while it does. An event not named here applies until its handover is withdrawn or
#: erased (`gone_by`).
STILL_DUE: dict[str, Callable[[Handover, Delivery], str | None]] = {
    "arrived": _arrival_gone_by,
    "corrected": _arrival_gone_by,
    "overdue": _overdue_gone_by,
}


def no_longer_due(row: Delivery) -> str | None:
    """Why the notice of ``row`` no longer applies to its handover as it is when the worker
    sends it (the handover read afresh), in a few words with no child data; None when it
    still does, or is about no handover. An e-mail's address must still be the unit's
    (`_still_a_recipient`)."""
    handover = (db.session.get(Handover, row.handover_id, populate_existing=True)
                if row.handover_id is not None else None)
    # An arrival is for the receiving unit and the copy units alike.
    also = ([handover.receiver_unit_id, *(copy.unit_id for copy in handover.copies)]
            if handover is not None and row.event in ("arrived", "corrected") else [])
    if row.channel == deliveries.EMAIL and not _still_a_recipient(row, also):
        return "recipient no longer in the unit"
    if row.handover_id is None:
        return None
    if handover is None:
        return "handover gone"
    return STILL_DUE.get(row.event, gone_by)(handover, row)


def record_email(event: str, handover_id: int, unit_ids: Iterable[int | None],
                 roles: Collection[str], now: datetime | None = None,
                 occurrence: str = "", actor: User | None = None) -> list[int]:
    """Add one outbox row per address of each unit (the caller commits them with its action).
    ``occurrence`` tells apart an event that happens again on the same handover (a second
    return, an arrival after a reroute): the same key would be taken for a repeat and dropped.
    The ``actor`` who did it, when one of the units too, is not told of what they did."""
    added = []
    seen: set[str] = {actor.email} if actor is not None and actor.email else set()
    for unit_id in unit_ids:
        for address in unit_addresses(unit_id, roles):
            if address not in seen:
                seen.add(address)
                added.append(deliveries.add(deliveries.EMAIL, event, handover_id, address,
                                            unit_id=unit_id, now=now, occurrence=occurrence))
    return [delivery_id for delivery_id in added if delivery_id is not None]


def record_arrival(handover: Handover, unit_ids: Iterable[int | None] | None = None,
                   now: datetime | None = None) -> list[int]:
    """The arrival notices of a handover being sent, added to the send's transaction: the
    receiving unit's receivers and leads and every copy unit's. ``unit_ids`` (receiver first,
    then copies) saves asking again when the caller has just read them."""
    if unit_ids is None:
        unit_ids = [handover.receiver_unit_id] + [
            copy.unit_id for copy in db.session.execute(
                select(HandoverCopy).where(HandoverCopy.handover_id == handover.id)
            ).scalars()
        ]
    # A correction says so: the receiving unit has already read (and acted on) the earlier one.
    event = "corrected" if handover.replaces_id is not None else "arrived"
    return record_email(event, handover.id, unit_ids, ("receiver", "lead"), now)


#: The receiving unit has written in the handover's thread: it has the handover in hand, even
#: if nobody pressed "acknowledge", and its lead is not told that it lies unread.
_RECEIVER_REPLIED = exists().where(Reply.handover_id == Handover.id,
                                   Reply.unit_id == Handover.receiver_unit_id)


def overdue(now: datetime | None = None) -> list[Handover]:
    """Handovers past their acknowledgement time whose unit lead has not been told yet (and
    whose receiving unit has not replied)."""
    now = now or utcnow()
    return list(db.session.execute(
        select(Handover).where(
            Handover.status.in_(("sent", "opened")),
            Handover.due_at.is_not(None),
            Handover.due_at < now,
            Handover.overdue_notified_at.is_(None),
            ~_RECEIVER_REPLIED,
        ).order_by(Handover.id)
    ).scalars())


def notify_overdue(now: datetime | None = None) -> list[int]:
    """Queue the overdue notice to the receiving unit's leads once per overdue handover: the
    claim, the outbox rows and the audit event commit together. Returns the ids told."""
    now = now or utcnow()
    told: list[int] = []
    # As listed: each commit below expires the loaded handovers, and read again, a receiver
    # would always equal itself.
    for handover_id, unit_id in [(handover.id, handover.receiver_unit_id)
                                 for handover in overdue(now)]:
        # Claimed only while it is still overdue at the same unit: an acknowledgement, a
        # return or a reroute committed since the list was read is not told as overdue.
        claimed = db.session.execute(
            update(Handover)
            .where(Handover.id == handover_id, Handover.overdue_notified_at.is_(None),
                   Handover.status.in_(("sent", "opened")), Handover.due_at < now,
                   Handover.receiver_unit_id == unit_id, ~_RECEIVER_REPLIED)
            .values(overdue_notified_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(claimed) != 1:
            db.session.rollback()
            continue
        # The unit's leads; a unit without one (a ward may have none) its receivers, or the
        # notice reached nobody while the handover was marked as told. Each deadline's own:
        # a rerouted handover's new unit is told of its deadline too.
        occurrence = f"{unit_id}:{now.isoformat()}"
        ids = (record_email("overdue", handover_id, [unit_id], ("lead",), now, occurrence)
               or record_email("overdue", handover_id, [unit_id], ("receiver",), now,
                               occurrence))
        if ids:
            commit_with_audit("handover.overdue_notified", handover_id=handover_id,
                              unit_id=unit_id)
        else:   # told to nobody (no lead, no receiver): the log says so
            commit_with_audit("handover.overdue_notified", handover_id=handover_id,
                              unit_id=unit_id, outcome="failed",
                              detail={"reason": "no_recipient"})
        deliveries.dispatch(ids)
        told.append(handover_id)
    return told


def is_overdue(handover: Handover, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (handover.status in ("sent", "opened") and handover.due_at is not None
            and handover.due_at < now)
