"""Keyset pages of the inbox and outbox: the page after a given handover rather than page N.

An offset counts the matches before it anew on every request, so when reading the handovers of
one page takes them out of the filter ("sent" becomes "opened"), the next offset skips as many
that were never shown. A keyset page starts after the last handover shown, by its place in
the newest-first order (sending time, then id), which reading does not change: following the
pages lists every handover that matches at the time, each once.

Each unit's branch is read from its index on (unit, sending time) from that place on, as
`listing._page_of` reads the first pages, so a page costs the same at any depth.
"""

from datetime import datetime

from sqlalchemy import ColumnElement

from handover.services import listing
from handover.services.listing import COUNT_LIMIT, PER_PAGE, Page
from handover.store.models import Handover, User


def older_than(key: tuple[datetime, int]) -> ColumnElement[bool]:
    """Handovers after ``key`` in the newest-first order. The plain ``sent_at <=`` bound lets
    the database start its index scan there; the rest breaks ties of one moment by id."""
    sent_at, handover_id = key
    return (Handover.sent_at <= sent_at) & (
        (Handover.sent_at < sent_at) | (Handover.id < handover_id))


def inbox_after(user: User, after: tuple[datetime, int] | None, *, status: str = "",
                form_key: str = "", language: str = "fi", sent_from: datetime | None = None,
                sent_until: datetime | None = None, number: int = 0) -> Page:
    """The page of the user's inbox that follows the handover at ``after`` (from the newest
    when None), with the filters of `listing.inbox`. ``total`` counts every match now, not
    only those after ``after``; ``number`` is the page's number as its pager shows it (0, the
    JSON API's, when it shows none)."""
    return _after(user, listing.inbox_branches(user), after, number,
                  listing.filters(status, form_key, sent_from, sent_until), language)


def outbox_after(user: User, after: tuple[datetime, int] | None, *, status: str = "",
                 form_key: str = "", language: str = "fi", number: int = 0) -> Page:
    """`inbox_after` for the handovers the user's units sent (`listing.outbox`)."""
    return _after(user, listing.outbox_branches(user), after, number,
                  listing.filters(status, form_key), language)


def _after(user: User, branches: list[ColumnElement[bool]], after: tuple[datetime, int] | None,
           number: int, chosen: list[ColumnElement[bool]], language: str) -> Page:
    filtered = [[where, *chosen] for where in branches]
    following = ([[*branch, older_than(after)] for branch in filtered] if after
                 else filtered)
    candidates = listing.newest_ids(following, PER_PAGE + 1)
    items = listing.handovers_in_order(candidates[:PER_PAGE])
    has_next = len(candidates) > PER_PAGE
    counted = listing.count_of(filtered)
    page = Page(items, min(counted, COUNT_LIMIT), number, PER_PAGE,
                more=counted > COUNT_LIMIT, has_next=has_next,
                next_key=listing.sort_key(items[-1]) if has_next and items else None,
                from_place=after is not None)
    page.rows = listing.rows_for(user, items, language)
    return page
