"""Searching the audit log, for auditors: filtered pages of events, the actions in the log, and
the per-child report the client-data act asks for ("who used my child's data, when and why"),
found through the keyed identity-code hash: the events on the child's handovers (drafts too,
from the first save that typed the code, and drafts since discarded or given another code, for
the time they named the child), and
those that name the child by that hash (searches, look-ups, earlier views of the report). The
report is itself audited, naming the child by the hash, never by the code.

A person searched for is found as whoever acted and as whom an administrator's or unit lead's
event was about (the ``user_id`` of its detail): "who changed Kaisa's account?" has an answer.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
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
from handover.services import commit_keeping_loaded, earlier_handovers
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
        query = query.where(in_unit(chosen.unit_id))
    if chosen.handover_id:
        query = query.where(AuditEvent.handover_id == chosen.handover_id)
    if chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.since:
        query = query.where(AuditEvent.occurred_at >= _start_of(chosen.since))
    if chosen.until:
        query = query.where(AuditEvent.occurred_at < _end_of(chosen.until))
    return db.paginate(query.order_by(AuditEvent.id.desc()),
                       page=min(max(page or 1, 1), LAST_PAGE),
                       per_page=PER_PAGE, error_out=False)


def in_unit(unit_id: int) -> ColumnElement[bool]:
    """The events of unit ``unit_id``: those naming it, and the searches by identity code of
    someone in several units that looked through it too (`_searched_through`). The log's
    filter and the API's export select by it alike."""
    return or_(AuditEvent.unit_id == unit_id, _searched_through(unit_id))


def _searched_through(unit_id: int) -> ColumnElement[bool]:
    """Searches by identity code by someone of several units, which looked through all of
    them: the event names no one unit but lists them in its detail (``"units": [3, 7]``,
    JSON written by `store.audit`), and each unit's filter finds it."""
    listed = '%"units": ['
    return (AuditEvent.unit_id.is_(None) & (AuditEvent.action == "handover.searched")
            & or_(*[AuditEvent.detail.like(listed + pattern) for pattern in (
                f"{unit_id}]%", f"{unit_id}, %", f"%, {unit_id}, %", f"%, {unit_id}]%")]))


def _about_person(words: str) -> Any:
    """Events by, or about, a person whose e-mail address or name holds every word of
    ``words``, in any order ("Mäkelä, Tiina" finds Tiina Mäkelä), regardless of capitals,
    ä, ö and å too, on either database (`folded`). What was typed is first read as the
    stored names are written (`person_words`): a name pasted in decomposed form ("a" and a
    combining diaeresis) or with two spaces finds the same person as one typed plainly."""
    typed = person_words(words)
    if not typed:
        return literal(True)
    patterns = [_contains(word) for word in typed]
    named = and_(*[folded(User.email).like(pattern, escape="\\")
                   | folded(User.name).like(pattern, escape="\\") for pattern in patterns])
    acted_as = and_(*[folded(AuditEvent.actor_label).like(pattern, escape="\\")
                      for pattern in patterns])
    # The detail is JSON written with sort_keys: the id is followed by "," or "}".
    key = literal('%"user_id": ') + cast(User.id, String)
    about = exists().where(named, or_(AuditEvent.detail.like(key + literal(",%")),
                                      AuditEvent.detail.like(key + literal("}%"))))
    return or_(acted_as,
               AuditEvent.actor_id.in_(select(User.id).where(named)),
               AuditEvent.detail.like('%"user_id": %') & about)


#: What separates the words of a person searched for: white space of any kind, and the comma
#: of "Surname, Given name".
_BETWEEN_WORDS = re.compile(r"[\s,;]+")


def person_words(typed: str) -> list[str]:
    """The words of a person searched for, each lower-cased and in NFC (as a keyboard
    writes names), without repeats: "Mäkelä,  Tiina", typed with
    decomposed letters or not, reads as ``["mäkelä", "tiina"]``."""
    words: list[str] = []
    for word in _BETWEEN_WORDS.split(unicodedata.normalize("NFC", typed or "").lower()):
        if word and word not in words:
            words.append(word)
    return words


def _contains(word: str) -> str:
    """A LIKE pattern (escaped with a backslash) for text containing ``word``."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: The events that name a child by the keyed hash in their detail (`naming_child`) rather
#: than through a handover: searches by identity code, look-ups of the child's earlier
#: handovers from a draft, and views of this report.
NAMING_ACTIONS = ("handover.searched", "handover.earlier_looked_up", "audit.child_report")


#: A keyed identity-code hash as `crypto.identity_hash` writes it: nothing else names a child.
CHILD_HASH = re.compile(r"[0-9a-f]{64}")


def about_child(child: str) -> ColumnElement[bool]:
    """The events about the child of the keyed hash ``child``: the events on the child's
    handovers while they named the child (a draft's from its save with the child's code, a
    draft discarded or given another code up to then: `_while_naming`), and the searches,
    look-ups and views of the access report that named the child by the hash, whatever they
    found. The one definition of what the child's report shows and what the audit export
    filtered by the child gives. A value that is no such hash (one
    typed into the export) names no child: it must not be read as a pattern."""
    if not CHILD_HASH.fullmatch(child or ""):
        return false()
    pattern = earlier_handovers.naming_pattern(child)
    # The action narrows the detail's LIKE to the few kinds of event that name a child.
    return or_(AuditEvent.handover_id.in_(_named_by_row_only(child)),
               AuditEvent.handover_id.in_(_drafts_that_named(pattern))
               & _while_naming(pattern),
               AuditEvent.action.in_(NAMING_ACTIONS) & AuditEvent.detail.like(pattern))


#: The events of a draft that name the child it is about: a save that typed (or changed to)
#: the child's identity code, and the discard of a draft naming the child.
DRAFT_NAMING_ACTIONS = ("handover.draft_saved", "handover.draft_discarded")
#: A LIKE pattern for the detail of an event naming any child (`naming_child`).
ANY_CHILD = earlier_handovers.naming_pattern("%")


def _naming_events() -> Any:
    """An alias of the events, for the events of `DRAFT_NAMING_ACTIONS` that name a child,
    not correlated with the events being chosen; and that condition."""
    named = aliased(AuditEvent)
    return named, (named.action.in_(DRAFT_NAMING_ACTIONS) & named.detail.like(ANY_CHILD)
                   & named.handover_id.is_not(None))


def _drafts_that_named(pattern: str) -> Any:
    """The handovers that named the child as drafts (`DRAFT_NAMING_ACTIONS`): a discarded
    draft has no row left to carry the hash, and a draft whose code was changed or removed
    carries another child's or none, yet colleagues opened it, attached and downloaded files
    and previewed it while it named this child; the access report must show them."""
    named, naming = _naming_events()
    return select(named.handover_id).where(naming, named.detail.like(pattern))


def _while_naming(pattern: str) -> ColumnElement[bool]:
    """Whether the handover of the event being chosen named the child (``pattern``) when the
    event happened: the child named by the latest save (or discard) naming a child at or
    before it, and for the events before its first code (its creation, its routing) the
    child it first named. A save with another child's code ends this child's period, so a
    draft whose code was corrected is in each child's report only for its own time.

    The naming events of the drafts that ever named the child are few; each, with the id of
    the next one on its handover, is a period. An event is the child's when a period of its
    handover that names the child holds it: a look-up among a few rows per event. (Asking
    each event for "the latest naming event before me" walked back through every event of
    its handover: a year of a ward's inbox listing one handover made the child's report
    quadratic in its events.)"""
    named, naming = _naming_events()
    order = {"partition_by": named.handover_id, "order_by": named.id}
    periods = (select(named.handover_id.label("handover_id"), named.id.label("start"),
                      func.lead(named.id).over(**order).label("end"),
                      func.row_number().over(**order).label("number"),
                      case((named.detail.like(pattern), 1), else_=0).label("names_child"))
               .where(naming, named.handover_id.in_(_drafts_that_named(pattern)))
               .subquery())
    held = and_(periods.c.start <= AuditEvent.id,
                or_(periods.c.end.is_(None), AuditEvent.id < periods.c.end))
    before_the_first = and_(periods.c.number == 1, AuditEvent.id < periods.c.start)
    return exists().where(periods.c.handover_id == AuditEvent.handover_id,
                          periods.c.names_child == 1, or_(held, before_the_first))


def _named_by_row_only(child: str) -> Any:
    """The handovers whose row names the child while no event of theirs names any child: one
    sent, or last saved, before drafts' saves named the child in their event. All of their
    events are the child's."""
    named, naming = _naming_events()
    return select(Handover.id).where(
        Handover.identity_hash == child,
        ~exists().where(naming, named.handover_id == Handover.id))


#: The detail of a view of the child's report that downloaded it as a file (CSV).
DOWNLOADED = {"format": "csv"}


def child_report(actor: Any, identity_code: str, *, download: bool = False,
                 ) -> tuple[list[Handover], list[AuditEvent]]:
    """Every handover of one child and every event that concerned the child, oldest first:
    the events on those handovers, and the searches, look-ups and views of this report that
    named the child by the keyed hash, whatever they found (also for a child with no
    handovers). Audited, naming the child the same way; a ``download`` (the report as a
    file) says so in the event's detail (`DOWNLOADED`)."""
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
                 detail={"handovers": len(handovers), **earlier_handovers.naming_child(child),
                         **(DOWNLOADED if download else {})})
    commit_keeping_loaded()   # what was read stays loaded: no statement per row after
    return handovers, events


def _start_of(day: date) -> datetime:
    """Midnight starting ``day`` in Finland: the page shows each event's time in Finnish
    time, so a day searched for is that day as the page shows it, not a UTC day. A day
    outside `FIRST_DAY`..`LAST_DAY` counts as the nearest of them."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return datetime.combine(day, time.min, tzinfo=TIMEZONE).astimezone(UTC)


def _end_of(day: date) -> datetime:
    """Midnight ending ``day`` in Finland: the next day's start, not 24 hours on, for the days
    the clocks turn are 23 and 25 hours long."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=TIMEZONE).astimezone(UTC)
