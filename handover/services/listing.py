"""Lists of handovers: the inbox, the outbox, the user's drafts, the newest few for the home page
and a child's handovers found by identity code.

Shared by the web pages, the CLI and the JSON API. A list row may show a summary that names the
child: that is a read of client data, so every row whose summary is shown gets its own audit
event, written and committed before the caller renders anything. The same read gives
what the row marks: whether the handover is urgent (the form's ``urgency`` field, in a section
this reader may see) and which location flags hold (the case, never the location).

Which units' handovers a person sees comes from the access policy (`policy.inbox_unit_ids` and
the like), never from their memberships: administrators and auditors see none, even
through a membership left from before they were refused one.

This module pages the lists (each a few index-following reads, counted up to `COUNT_LIMIT`) and
searches by identity code. The rest lives beside it by concern and is answered here too, so
callers ask this one module: `listing_scope` (which handovers a person's lists draw from:
`inbox_branches`, `outbox_filter`, `drafts_of`, ...) and `listing_rows` (what each row shows,
and the audit of it: `Row`, `rows_for`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from handover.formdefs.content import identity_code_problem, normalised_identity_code
from handover.security import crypto
from handover.services import commit_keeping_loaded, policy
from handover.services.earlier_handovers import naming_child
from handover.services.listing_rows import REPLIES_MARKED, Row, rows_for
from handover.services.listing_scope import (  # noqa: F401  (asked through here)
    drafts_of,
    inbox_branches,
    inbox_filter,
    outbox_branches,
    outbox_filter,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, User

PER_PAGE = 20
#: The statuses a list can be filtered by (drafts have their own list). "closed" is no stored
#: status: an acknowledged handover whose thread the receiving unit closed (`filters`).
LIST_STATUSES = ("sent", "opened", "acknowledged", "closed", "returned", "withdrawn")
#: Matches counted per list for the pager (50 pages); filters and search find older ones.
COUNT_LIMIT = 1000
#: The highest page number a list answers (the JSON API's bound too): a larger one, typed into
#: the address, shows this page, empty like any page past the last; unbounded, it would
#: overflow the database's integer in the LIMIT.
LAST_PAGE = 1000


class InvalidIdentityCode(ValueError):
    """The identity code searched for is not a valid Finnish personal identity code, or no
    child can have it yet (born in the future); the message says which, as the form does."""


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
    #: Read from a place (`listing_keyset`), not counted from the first: its number is where
    #: the reader is in their walk, and "of N" (what matches now) would not fit it.
    from_place: bool = False

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
    # The search looks through every unit whose handovers the user sees (`visible`): the
    # event names that unit, or all of them in its detail when there are several, so that
    # the audit log filtered by a unit finds its people's searches (`audit_search.search`).
    units = sorted({*policy.inbox_unit_ids(user), *policy.outbox_unit_ids(user)})
    audit.record("handover.searched", actor=user,
                 unit_id=units[0] if len(units) == 1 else None,
                 detail={"found": len(found), **naming_child(child),
                         **({"units": units} if len(units) > 1 else {})})
    commit_keeping_loaded()   # what was read stays loaded: no statement per row after
    return rows_for(user, found, language)


def _list(user: User, branches: list[ColumnElement[bool]], number: int, status: str,
          form_key: str, language: str, sent_from: datetime | None = None,
          sent_until: datetime | None = None) -> Page:
    chosen = filters(status, form_key, sent_from, sent_until)
    page = _page_of([[where, *chosen] for where in branches],
                    min(max(int(number or 1), 1), LAST_PAGE))
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
        .options(selectinload(Handover.copies), REPLIES_MARKED)
    ).scalars()} if ids else {}
    return [found[i] for i in ids if i in found]
