"""Searching the audit log, for auditors: filtered pages of events, the actions in the log, and
the per-child report the client-data act asks for ("who used my child's data, when and why"),
found through the keyed identity-code hash: the events on the child's handovers (drafts too,
from the first save that typed the code, and drafts since discarded or given another code), and
those that name the child by that hash (searches, look-ups, earlier views of the report). The
report is itself audited, naming the child by the hash, never by the code.

A person searched for is found as whoever acted and as whom an administrator's or unit lead's
event was about (the ``user_id`` of its detail): "who changed Kaisa's account?" has an answer.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    cast,
    exists,
    false,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import aliased
from stdnum.fi import hetu

from handover.formdefs.content import TIMEZONE
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import earlier_handovers
from handover.services.listing import InvalidIdentityCode
from handover.store import audit
from handover.store.database import db, folded
from handover.store.models import AuditEvent, Handover, Unit, User

PER_PAGE = 50
#: The last page asked for that is still a page (a larger number reads as this one): its
#: offset must fit the database's integer, and nobody pages through 100 billion events.
LAST_PAGE = 2**31 - 1
#: The days a search may start or end on. Earlier days are no dates of this service's events,
#: and day one of year one has no midnight in Finland that is still a date in UTC.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)

#: The actions in the log, for the filter, by hopping through the index on ``action`` from one
#: value to the next (a few dozen look-ups): SELECT DISTINCT would read every event, and the
#: log grows by millions of rows a year.
DISTINCT_ACTIONS = text("""
    WITH RECURSIVE actions(action) AS (
        SELECT MIN(action) FROM audit_events
        UNION ALL
        SELECT (SELECT MIN(action) FROM audit_events WHERE action > actions.action)
        FROM actions WHERE actions.action IS NOT NULL
    )
    SELECT action FROM actions WHERE action IS NOT NULL
""")


@dataclass(frozen=True)
class EventFilter:
    """What an auditor narrows the log by; every part is optional."""

    user: str = ""
    unit_id: int | None = None
    handover_id: int | None = None
    action: str = ""
    since: date | None = None
    until: date | None = None


def actions_in_log() -> list[str]:
    return list(db.session.execute(DISTINCT_ACTIONS).scalars())


def unit_names() -> dict[int, str]:
    return dict(db.session.execute(select(Unit.id, Unit.name).order_by(Unit.name)).all())


def search(chosen: EventFilter, page: int = 1) -> Any:
    """Page ``page`` of the events matching ``chosen``, newest first (a Flask-SQLAlchemy
    pagination: ``items``, ``pages``, ``has_next`` …)."""
    query = select(AuditEvent)
    if chosen.user.strip():
        query = query.where(_about_person(chosen.user))
    if chosen.unit_id:
        query = query.where(AuditEvent.unit_id == chosen.unit_id)
    if chosen.handover_id:
        query = query.where(AuditEvent.handover_id == chosen.handover_id)
    if chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.since:
        query = query.where(AuditEvent.occurred_at >= _start_of(chosen.since))
    if chosen.until:
        query = query.where(AuditEvent.occurred_at < _start_of(chosen.until) + timedelta(days=1))
    return db.paginate(query.order_by(AuditEvent.id.desc()),
                       page=min(max(page or 1, 1), LAST_PAGE),
                       per_page=PER_PAGE, error_out=False)


def _about_person(words: str) -> Any:
    """Events by, or about, a person whose e-mail address or name contains ``words``
    (regardless of capitals, ä, ö and å too, on either database: `folded`)."""
    escaped = words.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    named = (folded(User.email).like(pattern, escape="\\")
             | folded(User.name).like(pattern, escape="\\"))
    # The detail is JSON written with sort_keys: the id is followed by "," or "}".
    key = literal('%"user_id": ') + cast(User.id, String)
    about = exists().where(named, or_(AuditEvent.detail.like(key + literal(",%")),
                                      AuditEvent.detail.like(key + literal("}%"))))
    return or_(folded(AuditEvent.actor_label).like(pattern, escape="\\"),
               AuditEvent.actor_id.in_(select(User.id).where(named)),
               AuditEvent.detail.like('%"user_id": %') & about)


#: The events that name a child by the keyed hash in their detail (`naming_child`) rather
#: than through a handover: searches by identity code, look-ups of the child's earlier
#: handovers from a draft, and views of this report.
NAMING_ACTIONS = ("handover.searched", "handover.earlier_looked_up", "audit.child_report")


#: A keyed identity-code hash as `crypto.identity_hash` writes it: nothing else names a child.
CHILD_HASH = re.compile(r"[0-9a-f]{64}")


def about_child(child: str) -> ColumnElement[bool]:
    """The events about the child of the keyed hash ``child``: the events on the child's
    handovers (a draft's as soon as it is saved with the child's code, and those of a draft
    that named the child before it was discarded or its code changed), and the searches,
    look-ups and views of the access report that named the child by the hash, whatever they
    found. The one definition of what the child's report shows and what the audit export
    filtered by the child gives. A value that is no such hash (one
    typed into the export) names no child: it must not be read as a pattern."""
    if not CHILD_HASH.fullmatch(child or ""):
        return false()
    pattern = earlier_handovers.naming_pattern(child)
    # The action narrows the detail's LIKE to the few kinds of event that name a child.
    return or_(AuditEvent.handover_id.in_(select(Handover.id)
                                          .where(Handover.identity_hash == child)),
               AuditEvent.handover_id.in_(_drafts_that_named(pattern)),
               AuditEvent.action.in_(NAMING_ACTIONS) & AuditEvent.detail.like(pattern))


#: The events of a draft that name the child it is about: a save that typed (or changed to)
#: the child's identity code, and the discard of a draft naming the child.
DRAFT_NAMING_ACTIONS = ("handover.draft_saved", "handover.draft_discarded")


def _drafts_that_named(pattern: str) -> Any:
    """The handovers that named the child as drafts (`DRAFT_NAMING_ACTIONS`): a discarded
    draft has no row left to carry the hash, and a draft whose code was changed or removed
    carries another child's or none, yet colleagues opened it, attached and downloaded files
    and previewed it while it named this child; the access report must show them."""
    named = aliased(AuditEvent)   # not correlated with the events being chosen
    return select(named.handover_id).where(named.action.in_(DRAFT_NAMING_ACTIONS),
                                           named.detail.like(pattern),
                                           named.handover_id.is_not(None))


def child_report(actor: Any, identity_code: str) -> tuple[list[Handover], list[AuditEvent]]:
    """Every handover of one child and every event that concerned the child, oldest first:
    the events on those handovers, and the searches, look-ups and views of this report that
    named the child by the keyed hash, whatever they found (also for a child with no
    handovers). Audited, naming the child the same way."""
    code = (identity_code or "").strip().upper()
    if not hetu.is_valid(code, allow_temporary=True):
        raise InvalidIdentityCode(_l("Check the personal identity code."))
    child = crypto.identity_hash(code)
    handovers = list(db.session.execute(
        select(Handover).where(Handover.identity_hash == child).order_by(Handover.id)
    ).scalars())
    events = list(db.session.execute(
        select(AuditEvent).where(about_child(child))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).scalars())
    audit.record("audit.child_report", actor=actor,
                 detail={"handovers": len(handovers), **earlier_handovers.naming_child(child)})
    db.session.commit()
    return handovers, events


def _start_of(day: date) -> datetime:
    """Midnight starting ``day`` in Finland: the page shows each event's time in Finnish
    time, so a day searched for is that day as the page shows it, not a UTC day. A day
    outside `FIRST_DAY`..`LAST_DAY` counts as the nearest of them."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return datetime.combine(day, time.min, tzinfo=TIMEZONE).astimezone(UTC)
