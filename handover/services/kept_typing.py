"""Nothing typed is lost when a session ends (issue 14): what a section page posts after its
session expired is kept, sealed, for the person who typed it, and given back once they log in.

Without a session the server must still know, safely, whose typing it is and which draft it
belongs to. The section page carries a *keep token* for that: signed with the app's secret,
naming the user, the draft and the section, issued only into the page that user was shown. A
forged post cannot name anybody (it has no valid token), and a post whose token names a user
who may no longer edit the draft keeps nothing. The token also names (by a hash) the session the
page was shown in, and only a session that ended by a timeout keeps anything: after logging out
on a shared computer, whoever uses the page left open there cannot leave text for the person
who logged out. The token also proves the post came from our own
page when the session's CSRF token has changed under it (the user logged in again in another
tab), so it is accepted in place of the CSRF token for that user, draft and section only.

The kept copy is sealed under the handover's data key with the user's id as its record (a blob
moved to another person's row fails to open), lives at most `keep_for()` (a day by default;
`purge` deletes what nobody came back for), and is deleted when given back. The keep and the
restore are audited, naming the section only, never what was typed.
"""

import hashlib
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from handover.security import crypto
from handover.services import (
    commit_with_audit,
    open_json,
    policy,
    record_integrity_failure,
    rows_changed,
    seal_json,
)
from handover.store.database import db
from handover.store.models import Handover, KeptTyping, User, UserSession
from handover.store.models.base import utcnow

#: Default lifetime of a kept copy and of a section page's keep token (`KEPT_TYPING_FOR`).
KEEP_FOR = timedelta(hours=24)
_SALT = "handover.kept-typing"

#: One posted field: its name and the value as typed.
Pair = tuple[str, str]


def keep_for() -> timedelta:
    return current_app.config.get("KEPT_TYPING_FOR", KEEP_FOR)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


class KeepClaim(NamedTuple):
    """Whom a valid keep token names: the user, and a fingerprint of the session the page was
    shown in (a hash: the token is readable in the page, the session id must never be)."""

    user_id: int
    session: str


def _fingerprint(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def token_for(user: User, handover_id: int, section_key: str) -> str:
    """The keep token a section page carries for ``user`` in their current session."""
    session = user.current_session
    if session is None:
        raise ValueError("a keep token is issued only inside a logged-in session")
    return _signer().dumps([user.id, handover_id, section_key, _fingerprint(session.id)])


def token_owner(token: str | None, handover_id: int, section_key: str) -> KeepClaim | None:
    """Whom a valid, unexpired token for this draft and section names, or None (no token, a
    forged or altered one, one for another draft or section, or too old)."""
    if not token:
        return None
    try:
        user_id, for_handover, for_section, session = _signer().loads(
            token, max_age=int(keep_for().total_seconds()))
    except (BadSignature, TypeError, ValueError):
        return None
    if (for_handover != handover_id or for_section != section_key
            or not isinstance(user_id, int) or not isinstance(session, str)):
        return None
    return KeepClaim(user_id, session)


def _ended_by_the_clock(claim: KeepClaim, now: datetime) -> bool:
    """Whether the session the page was shown in ended because of a timeout. A session ended
    by logging out (or by a password change or deactivation) keeps nothing: whoever uses the
    page after that is not the person it was shown to."""
    config = current_app.config
    for row in db.session.execute(select(UserSession).where(
            UserSession.user_id == claim.user_id)).scalars():
        if _fingerprint(row.id) == claim.session:
            ends = min(row.last_seen_at + config["IDLE_TIMEOUT"],
                       row.created_at + config["ABSOLUTE_TIMEOUT"])
            return (row.revoked_at or now) >= ends
    return False


def keep(claim: KeepClaim, handover_id: int, section_key: str, fields: list[Pair]) -> bool:
    """Keep ``fields`` for the user the claim names, if their session ended by a timeout and
    they still may edit the draft; replaces an earlier copy of the same section. Returns
    whether anything was kept. Commits."""
    user = db.session.get(User, claim.user_id)
    if user is None or not user.active or not _ended_by_the_clock(claim, utcnow()):
        return False
    try:
        handover = policy.require(user, handover_id, "edit").handover
    except (policy.NotFound, policy.WrongState):
        db.session.commit()   # the refusal's audit event
        return False
    now = utcnow()
    _purge_expired(now)
    db.session.execute(delete(KeptTyping).where(
        KeptTyping.user_id == user.id, KeptTyping.handover_id == handover.id,
        KeptTyping.section_key == section_key))
    row = KeptTyping(user_id=user.id, handover_id=handover.id, section_key=section_key,
                     fields=_seal(handover, user, fields), kept_at=now,
                     expires_at=now + keep_for())
    db.session.add(row)
    commit_with_audit("handover.typing_kept", actor=user, unit_id=handover.sender_unit_id,
                      handover_id=handover.id, detail={"section": section_key})
    return True


def take(user: User, handover: Handover, section_key: str) -> list[Pair] | None:
    """The user's kept copy of this section, deleted as it is given back (audited), or None.
    The caller has asked the policy that ``user`` may edit ``handover``. Commits."""
    row = db.session.execute(select(KeptTyping).where(
        KeptTyping.user_id == user.id, KeptTyping.handover_id == handover.id,
        KeptTyping.section_key == section_key, KeptTyping.expires_at > utcnow())
    ).scalar_one_or_none()
    if row is None:
        return None
    row_id = row.id
    try:
        fields = _open(handover, user, row.fields)
    except crypto.TamperedRecord:
        record_integrity_failure(handover.id, actor=user)
        db.session.execute(delete(KeptTyping).where(KeptTyping.id == row_id))
        db.session.commit()
        return None
    db.session.delete(row)
    commit_with_audit("handover.typing_restored", actor=user, unit_id=handover.sender_unit_id,
                      handover_id=handover.id, detail={"section": section_key})
    return fields


def newest_for(user: User) -> tuple[int, str] | None:
    """Where the user's newest kept copy waits (draft id, section key): the page to land on
    after logging in when nothing else was asked for. Every login also deletes what is past its
    time (as every keep does), so a copy nobody comes back for does not outlive the next
    login of anyone. Commits."""
    if _purge_expired(utcnow()):
        db.session.commit()
    row = db.session.execute(
        select(KeptTyping.handover_id, KeptTyping.section_key)
        .where(KeptTyping.user_id == user.id, KeptTyping.expires_at > utcnow())
        .order_by(KeptTyping.kept_at.desc(), KeptTyping.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def purge(now: datetime | None = None) -> int:
    """Delete every kept copy past its time. Returns how many. Commits."""
    count = _purge_expired(now or utcnow())
    db.session.commit()
    return count


def _purge_expired(now: datetime) -> int:
    return rows_changed(db.session.execute(
        delete(KeptTyping).where(KeptTyping.expires_at <= now)))


def _seal(handover: Handover, user: User, fields: list[Pair]) -> bytes:
    return seal_json(handover, [[name, value] for name, value in fields],
                     crypto.Purpose.KEPT_TYPING, record_id=user.id)


def _open(handover: Handover, user: User, blob: bytes) -> list[Pair]:
    value = open_json(handover, blob, crypto.Purpose.KEPT_TYPING, record_id=user.id)
    if not isinstance(value, list):
        raise crypto.TamperedRecord("kept typing is not a list")
    return [(str(name), str(text)) for name, text in value]
