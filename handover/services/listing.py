"""Lists of handovers: the inbox, the outbox, the user's drafts, the newest few for the home page
and a child's handovers found by identity code.

Shared by the web pages, the CLI and the JSON API. A list row may show a summary that names the
child: that is a read of client data, so every row whose summary is shown gets its own audit
event, written here and committed before the caller renders anything. The same read gives
what the row marks: whether the handover is urgent (the form's ``urgency`` field, in a section
this reader may see) and which location flags hold (the case, never the location).

Which units' handovers a person sees comes from the access policy (`policy.inbox_unit_ids` and
the like), never from their memberships read here: administrators and auditors see none, even
through a membership left from before they were refused one.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from handover.formdefs import FormDefinition
from handover.formdefs.content import identity_code_problem, normalised_identity_code
from handover.security import crypto
from handover.services import commit_keeping_loaded, definition_of, policy
from handover.services.list_marks import mark_urgency_and_location
from handover.services.notifications import is_overdue
from handover.services.policy import evaluate
from handover.services.reader_view import due_on_page, shows_content
from handover.services.reading import summary_for_reader
from handover.services.replies import replied_by_receiver
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, User

PER_PAGE = 20
#: The statuses a list can be filtered by (drafts have their own list). "closed" is no stored
#: status: an acknowledged handover whose thread the receiving unit closed (`filters`).
LIST_STATUSES = ("sent", "opened", "acknowledged", "closed", "returned", "withdrawn")
#: Matches counted per list for the pager (50 pages); filters and search find older ones.
COUNT_LIMIT = 1000


class InvalidIdentityCode(ValueError):
    """The identity code searched for is not a valid Finnish personal identity code, or no
    child can have it yet (born in the future); the message says which, as the form does."""


@dataclass
class Row:
    """What a list shows of one handover; ``summary`` only to those who may read it."""

    handover: Handover
    title: str
    overdue: bool
    replied: bool
    summary: dict | None = None
    tampered: bool = False
    #: True urgent, False planned; None when the form does not say or this reader may not see.
    urgent: bool | None = None
    #: (flag key, label) of each location flag that holds: which case hides where the child
    #: lives (a non-disclosure marking, a placement hidden from the parents), never where.
    location_cases: list = field(default_factory=list)
    #: Whether the row shows the date to acknowledge by, and ``overdue`` as a mark
    #: (`reader_view.due_on_page`: not to a copy unit, which cannot acknowledge).
    due_on_page: bool = False
    overdue_on_page: bool = False
    #: Whether the row is marked new: the reader's unit is to acknowledge it and nobody there
    #: has opened it yet.
    new: bool = False
    #: The sender withdrew it before this reader's unit read it: no child is shown, by design
    #: (`reader_view.shows_content`), and the list says so instead of leaving a blank.
    withdrawn_unread: bool = False

    def __getitem__(self, key: str) -> Any:   # templates written for dict rows keep working
        return getattr(self, key)


@dataclass
class Page:
    """One page of a list, with what a pager needs (the names of Flask-SQLAlchemy's Pagination).

    ``total`` is exact up to `COUNT_LIMIT`; beyond it ``more`` is True and the pager says "page
    N" without "of M": counting every one of a unit's 10,000 handovers on each page view would
    make the inbox slower the longer the service runs, for a number nobody pages through.
    """

    items: list
    total: int
    page: int
    per_page: int
    more: bool
    has_next: bool
    rows: list = field(default_factory=list)
    #: (sent_at, id) of the last item when another page follows: where a keyset walk goes on
    #: (`listing_keyset`), which reading a listed handover cannot shift as it shifts an offset.
    next_key: tuple[datetime, int] | None = None

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


# --- which handovers ------------------------------------------------------------------------


def inbox_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause matching handovers that came to the user's units (receiver or copy)."""
    units = policy.inbox_unit_ids(user)
    copied = select(HandoverCopy.handover_id).where(HandoverCopy.unit_id.in_(units))
    return (Handover.status != "draft") & or_(
        Handover.receiver_unit_id.in_(units), Handover.id.in_(copied))


def inbox_branches(user: User) -> list[ColumnElement[bool]]:
    """`inbox_filter` split into disjoint WHERE clauses that each follow one index, so that a
    page of the inbox costs the same however many handovers are stored: one per receiving unit
    (index on receiver unit and sending time), and one for copies not also received. None at
    all for someone with no such unit: their inbox is empty without asking the database."""
    units = policy.inbox_unit_ids(user)
    if not units:
        return []
    sent = Handover.status != "draft"
    branches: list[ColumnElement[bool]] = [
        sent & (Handover.receiver_unit_id == unit_id) for unit_id in units]
    copied = select(HandoverCopy.handover_id).where(HandoverCopy.unit_id.in_(units))
    branches.append(sent & Handover.id.in_(copied) & or_(
        Handover.receiver_unit_id.is_(None), Handover.receiver_unit_id.not_in(units)))
    return branches


def outbox_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause matching handovers sent (or drafted) by the user's units."""
    return Handover.sender_unit_id.in_(policy.outbox_unit_ids(user))


def outbox_branches(user: User) -> list[ColumnElement[bool]]:
    """`outbox_filter` (sent handovers only) as one WHERE clause per sending unit."""
    return [(Handover.sender_unit_id == unit_id) & (Handover.status != "draft")
            for unit_id in policy.outbox_unit_ids(user)]


def drafts_of(user: User) -> list[Handover]:
    """Drafts the user may continue: those of units where they have the sender role."""
    units = policy.draft_unit_ids(user)
    if not units:
        return []
    return list(db.session.execute(
        select(Handover).where(Handover.status == "draft", Handover.erased_at.is_(None),
                               Handover.sender_unit_id.in_(units))
        .order_by(Handover.updated_at.desc())
    ).scalars())


# --- pages ----------------------------------------------------------------------------------


def inbox(user: User, *, page: int = 1, status: str = "", form_key: str = "",
          language: str = "fi", sent_from: datetime | None = None,
          sent_until: datetime | None = None) -> Page:
    """Page ``page`` of the handovers that came to the user's units, newest first; only those
    sent in [``sent_from``, ``sent_until``) when given (the JSON API's date filter)."""
    return _list(user, inbox_branches(user), page, status, form_key, language,
                 sent_from, sent_until)


def outbox(user: User, *, page: int = 1, status: str = "", form_key: str = "",
           language: str = "fi") -> Page:
    """Page ``page`` of the handovers the user's units sent, newest first."""
    return _list(user, outbox_branches(user), page, status, form_key, language)


def newest(user: User, branches: list[ColumnElement[bool]], count: int,
           language: str = "fi") -> list[Row]:
    """Rows of the ``count`` newest handovers of ``branches`` (`inbox_branches` and the like),
    at the same cost however many are stored."""
    return rows_for(user, handovers_in_order(newest_ids(branches, count)), language)


def find_by_identity_code(user: User, code: str, language: str = "fi") -> list[Row]:
    """The handovers of one child that the user may see, by exact identity code (through its
    keyed hash), newest first. The search itself is audited, without the code: its detail
    names the child by the keyed hash, so that the search is in that child's access report
    even when it found nothing. A code the handover form would refuse (a wrong check
    character, a birth date in the future) is refused with the form's message, searches
    nothing and is not audited."""
    from handover.services.earlier_handovers import naming_child

    code = (code or "").strip()
    problem = identity_code_problem(code)
    if problem is not None:
        raise InvalidIdentityCode(problem)
    child = crypto.identity_hash(normalised_identity_code(code))
    visible = inbox_filter(user) | (outbox_filter(user) & (Handover.status != "draft"))
    found = db.session.execute(
        select(Handover).where(Handover.identity_hash == child, visible)
        .order_by(Handover.sent_at.desc())
    ).scalars().all()
    audit.record("handover.searched", actor=user,
                 detail={"found": len(found), **naming_child(child)})
    db.session.commit()
    return rows_for(user, found, language)


def _list(user: User, branches: list[ColumnElement[bool]], number: int, status: str,
          form_key: str, language: str, sent_from: datetime | None = None,
          sent_until: datetime | None = None) -> Page:
    chosen = filters(status, form_key, sent_from, sent_until)
    page = _page_of([[where, *chosen] for where in branches], max(int(number or 1), 1))
    page.rows = rows_for(user, page.items, language)
    return page


def filters(status: str = "", form_key: str = "", sent_from: datetime | None = None,
            sent_until: datetime | None = None) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a list's filters, the same for offset and keyset pages."""
    chosen = []
    if status == "closed":
        chosen += [Handover.status == "acknowledged", Handover.closed_at.is_not(None)]
    elif status in LIST_STATUSES:
        chosen.append(Handover.status == status)
    if form_key:
        chosen.append(Handover.form_key == form_key)
    if sent_from is not None:
        chosen.append(Handover.sent_at >= sent_from)
    if sent_until is not None:
        chosen.append(Handover.sent_at < sent_until)
    return chosen


def rows_for(user: User, handovers: Iterable[Handover], language: str = "fi") -> list[Row]:
    """The list rows of ``handovers`` for ``user``; each summary shown is audited, with the
    unit of the user's through which the list shows it."""
    handovers = list(handovers)
    _load_copies_and_replies(handovers)
    rows = []
    listed: list[tuple[str, int, str, int | None]] = []
    kinds: dict[int, str] = {}
    for handover in handovers:
        definition = _definition(handover)
        title = definition.title_in(language) if definition else handover.form_key
        access = evaluate(user, handover)
        overdue, due = is_overdue(handover), due_on_page(access)
        row = Row(handover, title, overdue, replied_by_receiver(handover),
                  due_on_page=due, overdue_on_page=due and overdue,
                  new=access.allows("acknowledge") and handover.opened_at is None,
                  withdrawn_unread=access.allows("view") and not shows_content(access)
                  and handover.status == "withdrawn")
        if access.allows("view") and shows_content(access):
            try:
                row.summary = summary_for_reader(handover)
                if row.summary is not None and definition is not None:
                    mark_urgency_and_location(row, definition, access, language, kinds)
            except crypto.TamperedRecord:
                row.tampered = True
                audit.record("handover.integrity_failed", handover_id=handover.id,
                             outcome="failed", detail={"part": "summary"})
                db.session.commit()
        if row.summary is not None:
            listed.append(("handover.listed", handover.id, "", access.unit_id))
        rows.append(row)
    if listed:
        audit.record_all(listed)
        commit_keeping_loaded()
    return rows


def _definition(handover: Handover) -> FormDefinition | None:
    try:
        return definition_of(handover)
    except Exception:  # a form whose plugin is gone still lists, under its key
        return None


def _load_copies_and_replies(handovers: list[Handover]) -> None:
    """Two queries for the whole list instead of two per row (access needs the copies, the
    "replied" mark the replies)."""
    missing = [h for h in handovers if "copies" not in h.__dict__ or "replies" not in h.__dict__]
    if missing:
        db.session.execute(
            select(Handover).where(Handover.id.in_([h.id for h in missing]))
            .options(selectinload(Handover.copies), selectinload(Handover.replies))
        ).scalars().all()


def _newest_first(row: Any) -> tuple[bool, float, int]:
    return (row.sent_at is not None, row.sent_at.timestamp() if row.sent_at else 0, row.id)


def _page_of(branches: list[list[ColumnElement[bool]]], number: int) -> Page:
    """Page ``number`` of the union of disjoint ``branches`` (lists of WHERE conditions).

    Each branch is read newest first and cut one row after the page ends (to know whether
    another page follows), then the few candidates are merged here; one query over the union
    would have to sort every match (or scan the table) before it could cut a page, and so grow
    with the number of stored handovers. Counts stop at `COUNT_LIMIT` for the same reason.
    """
    end = number * PER_PAGE
    candidates = newest_ids(branches, end + 1)
    items = handovers_in_order(candidates[end - PER_PAGE:end])
    counted = count_of(branches)
    has_next = len(candidates) > end
    return Page(items, min(counted, COUNT_LIMIT), number, PER_PAGE,
                more=counted > COUNT_LIMIT, has_next=has_next,
                next_key=sort_key(items[-1]) if has_next and items else None)


def count_of(branches: list[list[ColumnElement[bool]]]) -> int:
    """How many handovers match the disjoint ``branches``, counting each only up to
    `COUNT_LIMIT` (past it the caller says "more")."""
    return sum((db.session.execute(select(func.count()).select_from(
        select(Handover.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery())).scalar() or 0)
        for conditions in branches)


def sort_key(handover: Handover) -> tuple[datetime, int] | None:
    """Where ``handover`` stands in a newest-first list (sending time, then id); None for
    one never sent, which no paged list holds (the lists leave drafts out)."""
    return (handover.sent_at, handover.id) if handover.sent_at is not None else None


def newest_ids(branches: Sequence[Any], count: int) -> list[int]:
    """Ids of the newest ``count`` handovers matching any of the disjoint ``branches``."""
    candidates: list[Any] = []
    for conditions in branches:
        if not isinstance(conditions, list | tuple):
            conditions = [conditions]
        candidates += db.session.execute(
            select(Handover.id, Handover.sent_at).where(*conditions)
            .order_by(Handover.sent_at.desc(), Handover.id.desc()).limit(count)
        ).all()
    candidates.sort(key=_newest_first, reverse=True)
    return [row.id for row in candidates[:count]]


def handovers_in_order(ids: list[int]) -> list[Handover]:
    """The handovers ``ids`` in that order, with the copies and replies the list shows."""
    found = {handover.id: handover for handover in db.session.execute(
        select(Handover).where(Handover.id.in_(ids))
        .options(selectinload(Handover.copies), selectinload(Handover.replies))
    ).scalars()} if ids else {}
    return [found[i] for i in ids if i in found]
