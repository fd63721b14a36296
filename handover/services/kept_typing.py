"""Nothing typed is lost when a session ends (issue 14): what a page where staff type posts
after its session expired is kept, sealed, for the person who typed it, and given back once they
log in.

The places that keep typing: each section page of a draft (its section key), the whole form of
a draft on one page (`WHOLE_FORM`), a reply form (`reply_form_place`), the free-text reply on
a handover's page (`REPLY_MESSAGE`) and the note on acknowledging receipt (`ACKNOWLEDGE_NOTE`).
A form's section and reply-form keys are lower-case letters, digits and "_" (at most 63,
`formdefs.checker.KEY_PATTERN`), so the other places, with "-" or ":", never meet a section's
key, and "reply:" and a form key fit the table's 100 characters.

Without a session the server must still know, safely, whose typing it is and which handover it
belongs to. The page carries a *keep token* for that: signed with the app's secret, naming the
user, the handover and the place, issued only into the page that user was shown. A forged post
cannot name anybody (it has no valid token), and a post whose token names a user who may no
longer do what the place is for (`action_for`: edit the draft, reply, acknowledge; the policy
decides) keeps nothing. The token also names (by a hash) the session the page was shown in, and
only a session that ended by a timeout keeps anything: after logging out on a shared computer,
whoever uses the page left open there cannot leave text for the person who logged out. The
token also proves the post came from our own page when the session's CSRF token has changed
under it (the user logged in again in another tab), so it is accepted in place of the CSRF token
for that user, handover and place only.

The kept copy is sealed under the handover's data key with the user's id as its record (a blob
moved to another person's row fails to open), lives at most `keep_for()` (a day by default;
`purge` deletes what nobody came back for), and is deleted when given back. Nothing is sent or
acknowledged with it: it only fills the page again. The keep and the restore are audited,
naming the place only, never what was typed.
"""

import hashlib
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from handover.security import crypto
from handover.services import (
    LifecycleError,
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

#: The places other than a draft's sections (whose keys are the section keys).
WHOLE_FORM = "whole-form"
REPLY_MESSAGE = "reply-message"
ACKNOWLEDGE_NOTE = "acknowledge-note"
_REPLY_FORM = "reply:"
#: The handover's page holds two places (the note on receipt and the reply) and carries one
#: keep token for both: signing a token costs a noticeable part of showing the page.
HANDOVER_PAGE = "handover-page"
_PLACES_OF_PAGE = {HANDOVER_PAGE: frozenset({ACKNOWLEDGE_NOTE, REPLY_MESSAGE})}


def reply_form_place(form_key: str) -> str:
    """The place of the reply form ``form_key`` of a handover."""
    return _REPLY_FORM + form_key


def reply_form_key(place: str) -> str | None:
    """The key of the reply form whose place ``place`` is, or None for any other place."""
    return place.removeprefix(_REPLY_FORM) if place.startswith(_REPLY_FORM) else None


def action_for(place: str) -> str:
    """What the policy must still let the typist do for a post at ``place`` to be kept: a
    sent handover's typing is kept only for someone who may still reply or acknowledge it."""
    if place == REPLY_MESSAGE:
        return "reply"
    if place == ACKNOWLEDGE_NOTE:
        return "acknowledge"
    if reply_form_key(place) is not None:
        return "reply_form"
    return "edit"   # the whole form or a section of a draft


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
    """The keep token a page carries for ``user`` in their current session, for one place."""
    session = user.current_session
    if session is None:
        raise ValueError("a keep token is issued only inside a logged-in session")
    return _signer().dumps([user.id, handover_id, section_key, _fingerprint(session.id)])


def token_owner(token: str | None, handover_id: int, section_key: str) -> KeepClaim | None:
    """Whom a valid, unexpired token for this handover and place names, or None (no token, a
    forged or altered one, one for another handover or place, or too old)."""
    if not token:
        return None
    try:
        user_id, for_handover, for_section, session = _signer().loads(
            token, max_age=int(keep_for().total_seconds()))
    except (BadSignature, TypeError, ValueError):
        return None
    if (for_handover != handover_id or not _token_covers(for_section, section_key)
            or not isinstance(user_id, int) or not isinstance(session, str)):
        return None
    return KeepClaim(user_id, session)


def _token_covers(token_place: object, place: str) -> bool:
    """Whether a token issued for ``token_place`` stands for a post to ``place``."""
    return token_place == place or (isinstance(token_place, str)
                                    and place in _PLACES_OF_PAGE.get(token_place, ()))


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
    the policy still lets them do what the place is for (`action_for`); replaces an earlier
    copy of the same place. Returns whether anything was kept. Commits."""
    user = db.session.get(User, claim.user_id)
    if user is None or not user.active or not _ended_by_the_clock(claim, utcnow()):
        return False
    action = action_for(section_key)
    try:
        # Held: the same page posted twice at once (two tabs, a double click) is kept once,
        # the later copy in place of the earlier, instead of two rows for one place.
        granted = policy.hold(policy.require(user, handover_id, action), user, action)
    except (policy.NotFound, LifecycleError):
        db.session.commit()   # the refusal's audit event
        return False
    handover = granted.handover
    now = utcnow()
    _purge_expired(now)
    db.session.execute(delete(KeptTyping).where(
        KeptTyping.user_id == user.id, KeptTyping.handover_id == handover.id,
        KeptTyping.section_key == section_key))
    row = KeptTyping(user_id=user.id, handover_id=handover.id, section_key=section_key,
                     fields=_seal(handover, user, fields), kept_at=now,
                     expires_at=now + keep_for())
    db.session.add(row)
    commit_with_audit("handover.typing_kept", actor=user, unit_id=granted.unit_id,
                      handover_id=handover.id, detail={"section": section_key})
    return True


def waiting(user: User, handover_id: int) -> set[str]:
    """The places of this handover where a kept copy of the user's waits: one query, so that
    a page with several places (a handover's page) asks once and takes only what is there."""
    return set(db.session.execute(select(KeptTyping.section_key).where(
        KeptTyping.user_id == user.id, KeptTyping.handover_id == handover_id,
        KeptTyping.expires_at > utcnow())).scalars())


def take(user: User, handover: Handover, section_key: str,
         unit_id: int | None = None) -> list[Pair] | None:
    """The user's kept copy of this place, deleted as it is given back (audited), or None.
    The caller has asked the policy that ``user`` may still do what the place is for
    (`action_for`); ``unit_id`` is the unit the policy says they act for (by default the
    sending unit, a draft's). Commits."""
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
    commit_with_audit("handover.typing_restored", actor=user,
                      unit_id=unit_id or handover.sender_unit_id,
                      handover_id=handover.id, detail={"section": section_key})
    return fields


def newest_for(user: User) -> tuple[int, str] | None:
    """Where the user's newest kept copy waits (handover id, place): the page to land on
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
