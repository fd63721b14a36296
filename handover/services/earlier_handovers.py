"""Earlier handovers of the same child, for a sender or receiver: those their own units sent or
received (as main receiver or copy), matched by the keyed identity-code hash.

Nothing here reveals a handover the user's units had no part in, not even that it exists: the
query asks only for the child's handovers in which one of the user's units is the sender, the
receiver or a copy unit, and the answer carries metadata only (form, units, dates, status),
never content. A unit that returned a handover is no longer its receiver, so it is not shown
it either. Every look-up is audited (``handover.earlier_looked_up``, with how many were found,
never the code), also when it finds nothing, and so is each handover it shows
(``handover.earlier_shown``), so that the child's access report names every one of them.
An event about a child that is on none of the child's handovers (a look-up from a draft, a
search by identity code) names the child by the keyed hash (`naming_child`), never by the code.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from handover.formdefs import FormDefinition, UnknownForm
from handover.security import crypto
from handover.services import definition_of, policy, prefill
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, Unit

#: The most a look-up lists: a child's journey, not a search engine.
LIMIT = 50
#: Where a draft's look-up is anchored: every sent handover came before it.
_LAST_MOMENT = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class EarlierHandover:
    """One earlier handover as the list shows it: no content, only who, what and when."""

    id: int
    form_key: str
    form_title: str
    sender_unit: str
    receiver_unit: str
    #: "sent", "received" or "copy": the part the user's unit had in it.
    part: str
    status: str
    sent_at: datetime | None
    acknowledged_at: datetime | None
    closed_at: datetime | None
    erased: bool
    #: The user's unit through which the list shows it (the one that had that part).
    unit_id: int | None = None


class Shown(list[EarlierHandover]):
    """The child's other handovers a look-up shows, newest first; ``more`` when the child has
    more in the user's units than `LIMIT` (the page says so: the rest are found by the code);
    ``later`` when some were sent after the handover on the page (the panel is then headed
    "other", not "earlier", handovers)."""

    more: bool = False
    later: bool = False


def hash_of_code(code: str | None) -> str | None:
    """The keyed hash of an identity code (None for none); the code itself goes nowhere."""
    code = (code or "").strip().upper()
    return crypto.identity_hash(code) if code else None


#: The key of an audit event's detail that names the child the event was about: the keyed
#: hash of the identity code (`crypto.identity_hash`), as the child's handovers carry it.
CHILD = "child"


def naming_child(identity_hash: str) -> dict[str, str]:
    """The part of an audit event's detail that names a child by the keyed hash, for an event
    that no handover of the child ties to them (a search, a look-up from a draft)."""
    return {CHILD: identity_hash}


def naming_pattern(identity_hash: str) -> str:
    """A LIKE pattern matching the detail (JSON, as `store.audit` writes it) of an event that
    `naming_child` the child of ``identity_hash``."""
    return f"%{json.dumps(naming_child(identity_hash))[1:-1]}%"


def look_up(user: Any, identity_hash: str | None, *, language: str = "fi",
            current: Handover | None = None) -> Shown:
    """The child's earlier handovers that ``user``'s units sent or received, newest first,
    without ``current`` (the draft being started); audited whether or not anything is found:
    the look-up on ``current`` and each handover shown, for the draft's sending unit, in one
    statement."""
    shown = find(user, identity_hash, language=language, current=current)
    acting_for = current.sender_unit_id if current is not None \
        and current.status == "draft" else None
    audit.record_all(audit_events(shown, current, identity_hash), actor=user,
                     unit_id=acting_for)
    db.session.commit()
    return shown


def find(user: Any, identity_hash: str | None, *, language: str = "fi",
         current: Handover | None = None) -> Shown:
    """`look_up` without its audit event: for a caller that logs `audit_event` in the
    transaction it commits anyway (the reading view logs it with the view itself)."""
    found = _query(user, identity_hash, current)
    shown = Shown(sorted(_shown(user, found[:LIMIT], language),
                         key=lambda earlier: (earlier.sent_at or _LAST_MOMENT, earlier.id),
                         reverse=True))
    shown.more = len(found) > LIMIT
    anchor = current.sent_at if current is not None else None
    shown.later = anchor is not None and any(
        earlier.sent_at is not None and earlier.sent_at > anchor for earlier in shown)
    return shown


def audit_event(shown: list[EarlierHandover], current: Handover | None,
                identity_hash: str | None = None) -> tuple[str, int | None, dict[str, Any]]:
    """The audit event of one look-up as ``(action, handover_id, detail)``: how many were
    found, never the code. When ``current`` is not a handover of the child looked up (a
    draft, or none), the detail names the child by ``identity_hash``, so that the look-up is
    in that child's access report even when it found nothing."""
    detail: dict[str, Any] = {"found": len(shown)}
    if identity_hash and (current is None or current.identity_hash != identity_hash):
        detail.update(naming_child(identity_hash))
    return ("handover.earlier_looked_up", current.id if current is not None else None, detail)


def audit_events(shown: list[EarlierHandover], current: Handover | None,
                 identity_hash: str | None = None) -> list[tuple[Any, ...]]:
    """`audit_event` and one ``handover.earlier_shown`` event on each handover ``shown`` (its
    form, units and status were on the page), for `store.audit.record_all`: the child's access
    report finds each of them by its handover, as it finds a list's ``handover.listed``, and
    names the user's unit through which it was shown."""
    on = {"looked_up_on": current.id} if current is not None else {}
    return [audit_event(shown, current, identity_hash),
            *[("handover.earlier_shown", earlier.id, on, earlier.unit_id)
              for earlier in shown]]


#: The look-up, built once (a request builds no statement, and finds it compiled for each
#: number of units it asks about): only the columns the list shows, with the two units' names
#: joined in, never the sealed content. ``exclude_id`` 0 excludes nothing (ids start at 1).
_SENDERS, _RECEIVERS = aliased(Unit), aliased(Unit)
_BEFORE_ANCHOR = Handover.sent_at <= bindparam("anchor")
_EARLIER = (
    select(Handover.id, Handover.form_key, Handover.form_version, Handover.status,
           Handover.sender_unit_id, Handover.receiver_unit_id, Handover.sent_at,
           Handover.acknowledged_at, Handover.closed_at, Handover.erased_at,
           _SENDERS.name.label("sender_name"), _RECEIVERS.name.label("receiver_name"),
           # The user's unit that got it as a copy, for a handover shown for that part.
           select(func.min(HandoverCopy.unit_id))
           .where(HandoverCopy.handover_id == Handover.id,
                  HandoverCopy.unit_id.in_(bindparam("copy_units", expanding=True)))
           .correlate(Handover).scalar_subquery().label("copy_unit_id"))
    .outerjoin(_SENDERS, _SENDERS.id == Handover.sender_unit_id)
    .outerjoin(_RECEIVERS, _RECEIVERS.id == Handover.receiver_unit_id)
    .where(Handover.identity_hash == bindparam("identity_hash"),
           Handover.status != "draft",
           Handover.id != bindparam("exclude_id"),
           or_(Handover.sender_unit_id.in_(bindparam("sent_by", expanding=True)),
               Handover.receiver_unit_id.in_(bindparam("received_by", expanding=True)),
               Handover.id.in_(select(HandoverCopy.handover_id).where(
                   HandoverCopy.unit_id.in_(bindparam("copied_to", expanding=True))))))
    # Nearest to the handover on the page first: those sent before it, the latest first (a
    # draft's: all of them), then those after it, the earliest first. Cut at `LIMIT`, a long
    # journey keeps the handovers around this one, not only the newest fifty; the page shows
    # them newest first. One more than shown says whether any were left out.
    .order_by(_BEFORE_ANCHOR.desc(),
              case((_BEFORE_ANCHOR, Handover.sent_at)).desc(),
              case((~_BEFORE_ANCHOR, Handover.sent_at)).asc(), Handover.id.desc())
    .limit(bindparam("limit")))


def _query(user: Any, identity_hash: str | None, current: Handover | None) -> list[Any]:
    sent_by = policy.outbox_unit_ids(user)
    received_by = policy.inbox_unit_ids(user)
    if not identity_hash or not (sent_by or received_by):
        return []
    anchor = current.sent_at if current is not None and current.sent_at else _LAST_MOMENT
    return list(db.session.execute(_EARLIER, {
        "identity_hash": identity_hash, "anchor": anchor, "limit": LIMIT + 1,
        "exclude_id": current.id if current is not None else 0,
        "sent_by": list(sent_by), "received_by": list(received_by),
        "copied_to": list(received_by), "copy_units": list(received_by)}).all())


def latest_sent_by(user: Any, identity_hash: str | None,
                   exclude_id: int | None = None) -> Handover | None:
    """The newest handover of the child that one of ``user``'s sending units sent and that
    the draft ``exclude_id`` can take answers from (`prefill.scopes`): a placement update, or
    any handover whose form shares no section with the draft's, is passed over for an older
    one. `services.prefill` takes the answers; not audited here, its caller audits the use."""
    units = policy.draft_unit_ids(user)
    if not identity_hash or not units:
        return None
    draft = db.session.get(Handover, exclude_id) if exclude_id is not None else None
    draft_form = _definition(draft.form_key, draft.form_version) if draft is not None else None
    fits: dict[tuple[str, int], bool] = {}
    for row in db.session.execute(_SOURCES, {
            "identity_hash": identity_hash, "units": list(units),
            "exclude_id": exclude_id or 0}).all():
        form = (row.form_key, row.form_version)
        if form not in fits:
            source_form = _definition(*form)
            fits[form] = source_form is not None and bool(
                prefill.scopes_between(draft_form, source_form))
        if fits[form]:
            return db.session.get(Handover, row.id)
    return None


def source_to_take_over(user: Any, draft: Handover, draft_child: str | None,
                        source_id: object) -> Handover:
    """The handover ``source_id`` whose answers ``user`` asks to take over into ``draft``, when
    it is the one the draft's journey page offers: `latest_sent_by` for the child named in the
    draft (``draft_child``, its keyed hash), or for the source's own child when the draft names
    none yet. Any other id (another unit's handover, another child's, an older one) is refused
    as the policy refuses a handover one may not see: audited, `NotFound`."""
    source = db.session.get(Handover, source_id) if policy.is_handover_id(source_id) else None
    child = draft_child or (source.identity_hash if source is not None else None)
    latest = (latest_sent_by(user, child, draft.id)
              if source is not None and source.identity_hash == child else None)
    if latest is None or source is None or latest.id != source.id:
        policy.deny(user, source_id, "take_over", exists=source is not None)
    return latest


#: The candidates `latest_sent_by` chooses from, newest first: ids and forms only (the form
#: decides), built once like `_EARLIER`.
_SOURCES = (
    select(Handover.id, Handover.form_key, Handover.form_version)
    .where(Handover.identity_hash == bindparam("identity_hash"),
           Handover.sender_unit_id.in_(bindparam("units", expanding=True)),
           Handover.status.notin_(("draft", "withdrawn")),
           Handover.erased_at.is_(None),
           Handover.id != bindparam("exclude_id"))
    .order_by(Handover.sent_at.desc(), Handover.id.desc())
    .limit(LIMIT))


def _definition(key: str, version: int) -> FormDefinition | None:
    try:
        return definition_of(key, version)
    except UnknownForm:   # a form no longer installed
        return None


def _shown(user: Any, found: list[Any], language: str) -> list[EarlierHandover]:
    if not found:
        return []
    sent_by = set(policy.outbox_unit_ids(user))
    received_by = set(policy.inbox_unit_ids(user))
    shown = []
    for row in found:
        if row.sender_unit_id in sent_by:
            part, unit_id = "sent", row.sender_unit_id
        elif row.receiver_unit_id in received_by:
            part, unit_id = "received", row.receiver_unit_id
        else:
            part, unit_id = "copy", row.copy_unit_id
        try:
            title = definition_of(row.form_key, row.form_version).title_in(language)
        except Exception:  # a form no longer installed: its key says what it was
            title = row.form_key
        shown.append(EarlierHandover(
            id=row.id, form_key=row.form_key, form_title=title,
            sender_unit=row.sender_name or "", receiver_unit=row.receiver_name or "",
            part=part, status=row.status, sent_at=row.sent_at,
            acknowledged_at=row.acknowledged_at, closed_at=row.closed_at,
            erased=row.erased_at is not None, unit_id=unit_id))
    return shown
