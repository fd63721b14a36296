"""The thread on a handover: free-text messages both ways, and the reply forms the handover's
definition offers the receiver (e.g. the ward's "received, primary nurse, care meeting").

Each reply is sealed on its own with its row id in the associated data, so that two replies'
blobs cannot be swapped without the swap being detected.

A reply form may declare that it ``acknowledges``: sending it is the receiving unit's
acknowledgement too (the ward's receipt), through the same `reading.acknowledge` as the button,
with the same capability and the same audit event. Fields with a ``prefill`` start with what the
server knows (the replier's name, today's date).
"""

from datetime import date
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handover.formdefs import FormDefinition
from handover.formdefs.content import today
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    AlreadyAcknowledged,
    ContentErased,
    LifecycleError,
    commit_with_audit,
    definition_of,
    deliveries,
    disclosures,
    notifications,
    open_json,
    policy,
    reading,
    retention,
    seal_json,
    webhooks,
)
from handover.services.policy import RECEIVING, HandoverAccess
from handover.store.database import db
from handover.store.models import Delivery, Handover, Reply, User
from handover.store.models.base import utcnow

MESSAGE = "message"
MESSAGE_MAX_LENGTH = 5000


class ReplyBody(TypedDict, total=False):
    """What a reply holds, sealed: a message's text, or a reply form's content."""

    text: str
    content: dict[str, Any]


def reply_forms(handover: Handover) -> list[FormDefinition]:
    """The reply form definitions the receiver may answer with."""
    return list(getattr(definition_of(handover), "reply_forms", None) or [])


def reply_form(handover: Handover, key: str) -> FormDefinition | None:
    for definition in reply_forms(handover):
        if definition.key == key:
            return definition
    return None


def add_message(access: HandoverAccess, user: User, text: str | None,
                legal_basis: str | None = None, *,
                submission_token: str | None = None) -> Reply:
    """A free-text reply from the sending or the receiving unit, on its own basis of
    disclosure (`services.disclosures`). A ``submission_token`` makes a repeat of the same
    post (a double click, a retry after a timeout) return the reply it made the first time."""
    text = (text or "").strip()
    if not text:
        raise LifecycleError(_l("Write a message."))
    if len(text) > MESSAGE_MAX_LENGTH:
        raise LifecycleError(_l("The message is too long."))
    return _add(access, user, MESSAGE, {"text": text}, legal_basis, submission_token)[0]


def prefilled(definition: FormDefinition, user: User,
              on: date | None = None) -> dict[str, Any]:
    """{field key: value} of the reply form's fields the server fills in: the replier's name
    (``prefill = "user_name"``) and today's date in Finland (``"today"``), as content."""
    known = {"user_name": user.name, "today": (on or today()).isoformat()}
    return {f.key: known[f.prefill] for f in definition.fields()
            if f.prefill in known and known[f.prefill]}


def add_form_reply(access: HandoverAccess, user: User, form_key: str,
                   content: dict[str, Any], legal_basis: str | None = None, *,
                   submission_token: str | None = None) -> Reply:
    """A filled reply form; only the receiving unit answers with the definition's reply forms.

    A form that ``acknowledges`` also acknowledges the handover while it awaits that: refused
    as a whole to someone who may not acknowledge, so that nobody acknowledges by the back door.
    A ``submission_token`` works as in `add_message`.
    """
    definition = reply_form(access.handover, form_key)
    if access.relation != RECEIVING or definition is None:
        raise LifecycleError(_l("This reply form is not available here."))
    acknowledging = (definition.acknowledges
                     and access.handover.status in ("sent", "opened"))
    if acknowledging and not access.can("acknowledge"):
        raise LifecycleError(_l("Only the receiving unit can acknowledge this handover."))
    reply, made_now = _add(access, user, form_key, {"content": content}, legal_basis,
                           submission_token)
    if acknowledging and made_now:
        try:
            reading.acknowledge(access, user)
        except AlreadyAcknowledged:
            pass  # someone acknowledged it meanwhile: the receipt stands as a reply
    return reply


def _add(access: HandoverAccess, user: User, kind: str, value: ReplyBody,
         legal_basis: str | None = None,
         submission_token: str | None = None) -> tuple[Reply, bool]:
    """(the reply, whether this call made it): a repeated ``submission_token`` answers with
    the reply the first post made, and writes nothing."""
    handover = access.handover
    if not access.can("reply"):
        raise LifecycleError(_l("You cannot reply to this handover."))
    earlier = _reply_made_with(handover, user, submission_token)
    if earlier is not None:
        return earlier, False
    # Decided again on the handover as it is now, held until the commit: a colleague's return
    # or close, or the retention rule's erasure, committed since the page loaded it.
    access = policy.hold(access, user, "reply")
    if handover.status in ("draft", "withdrawn"):
        raise LifecycleError(_l("This handover cannot be replied to."))
    if handover.erased_at is not None or handover.wrapped_key is None:
        raise ContentErased()
    reply = Reply(handover_id=handover.id, author_id=user.id, unit_id=access.unit_id, kind=kind,
                  legal_basis=disclosures.check_reply_basis(handover, access.unit_id,
                                                            legal_basis),
                  submission_token=submission_token or None)
    db.session.add(reply)
    try:
        db.session.flush()
    except IntegrityError:
        # The same post, arriving at the same moment, inserted its reply first.
        db.session.rollback()
        earlier = _reply_made_with(handover, user, submission_token)
        if earlier is None:   # a token that was never this user's page's
            raise LifecycleError(_l("This reply could not be saved. Send it again.")) from None
        return earlier, False
    reply.body = seal_json(handover, value, crypto.Purpose.REPLY, record_id=reply.id)
    retention.record_activity(handover, reply.created_at or utcnow())
    disclosures.record_reply(handover, reply)
    notices = webhooks.record("replied", handover, occurrence=str(reply.id))
    notices += _tell_the_other_side(handover, access.unit_id, user, str(reply.id))
    commit_with_audit("handover.replied", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id, detail={"reply": reply.id, "kind": kind})
    deliveries.dispatch(notices)
    return reply, True


def _tell_the_other_side(handover: Handover, unit_id: int | None, user: User,
                         occurrence: str) -> list[int]:
    """E-mail to the unit at the other end of the thread that a message waits there: the
    receiving unit's receivers and leads hear of the sender's messages, the sending unit's
    senders and leads of the receiver's (its receipt too). A copy unit has no thread."""
    if unit_id == handover.sender_unit_id:
        unit, roles = handover.receiver_unit_id, ("receiver", "lead")
    else:
        unit, roles = handover.sender_unit_id, ("sender", "lead")
    return notifications.record_email("replied", handover.id, [unit], roles,
                                      occurrence=occurrence, actor=user)


def _reply_notice_gone_by(handover: Handover, row: Delivery) -> str | None:
    """A "new message" notice applies while its unit is still at an end of the thread: not
    once that unit returned the handover (or it was routed on), which leaves it no access."""
    gone = notifications.gone_by(handover, row)
    if gone is None and row.unit_id is not None and \
            row.unit_id not in (handover.sender_unit_id, handover.receiver_unit_id):
        return "unit no longer at the other end of the thread"
    return gone


notifications.register_text(
    "replied",
    "Uusi viesti tiedonsiirrossa / Ett nytt meddelande i en överlämning / "
    "A new message on a handover",
    "Tiedonsiirtoon on tullut uusi viesti toisesta yksiköstä. Kirjaudu sisään lukeaksesi "
    "sen:\n{link}\n\n"
    "En överlämning har fått ett nytt meddelande från den andra enheten. Logga in för att "
    "läsa det:\n{link}\n\n"
    "A handover has a new message from the other unit. Log in to read it:\n{link}\n",
    still_due=_reply_notice_gone_by)


def _reply_made_with(handover: Handover, user: User, token: str | None) -> Reply | None:
    """The reply this user already made on this handover with ``token``, if any. A token is
    only ever shown in one page to one user, so another user's or handover's reply is never
    answered with."""
    if not token:
        return None
    return db.session.execute(select(Reply).where(
        Reply.submission_token == token, Reply.handover_id == handover.id,
        Reply.author_id == user.id)).scalar_one_or_none()


def thread(handover: Handover) -> list[tuple[Reply, ReplyBody | None]]:
    """[(reply, value)] oldest first; value is None when erased. Raises TamperedRecord."""
    entries: list[tuple[Reply, ReplyBody | None]] = []
    for reply in handover.replies:
        if reply.body is None or handover.wrapped_key is None:
            entries.append((reply, None))
        else:
            entries.append((reply, open_json(handover, reply.body, crypto.Purpose.REPLY,
                                             record_id=reply.id)))
    return entries


def replied_by_receiver(handover: Handover) -> bool:
    return any(reply.unit_id == handover.receiver_unit_id for reply in handover.replies)
