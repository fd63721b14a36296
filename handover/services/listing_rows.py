"""What a list shows of each handover (`Row`), built for one reader (`rows_for`): the form's
title, the marks (overdue, replied, new, withdrawn unread) and, to a reader who may see it, the
summary that names the child with the urgency and location cases read with it.

Showing a summary is a read of client data, so every row whose summary is shown gets its own
audit event, written and committed here before the caller renders anything. Apart from
`services.listing`, which chooses and pages the handovers, because this is what one page of
them says; `listing` answers for these names too: callers import them from there.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handover.formdefs import FormDefinition
from handover.security import crypto
from handover.services import (
    commit_keeping_loaded,
    definition_of,
    record_integrity_failure,
    thread_reads,
)
from handover.services.list_marks import mark_urgency_and_location
from handover.services.notifications import is_overdue
from handover.services.policy import HandoverAccess, evaluate
from handover.services.reader_view import due_on_page, shows_content
from handover.services.reading import summary_for_reader
from handover.services.replies import replied_by_receiver
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, Reply, User

#: The replies a row needs: which unit wrote each and of what kind (the "replied" and "new
#: message" marks), never their sealed
#: bodies (a thread of a hundred replies is megabytes, and a list shows none of it).
REPLIES_MARKED = selectinload(Handover.replies).load_only(Reply.unit_id, Reply.kind)


@dataclass
class Row:
    """What a list shows of one handover; ``summary`` only to those who may read it."""

    handover: Handover
    title: str
    overdue: bool
    #: The receiving unit replied; never said to a copy unit, which sees no thread.
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
    #: Whether the row is marked new: nobody of the reader's unit has opened it yet (the
    #: receiving unit, or a copy unit its copy; `_unread_by_unit`).
    new: bool = False
    #: The thread has a message from another unit than the reader's that was not yet shown
    #: to this reader (`thread_reads`); never to a copy unit, which sees no thread.
    new_message: bool = False
    #: The sender withdrew it before this reader's unit read it: no child is shown, by design
    #: (`reader_view.shows_content`), and the list says so instead of leaving a blank.
    withdrawn_unread: bool = False
    #: How this reader's units stand to it (`policy`: receiving, sending, copy; None: no
    #: relation): a list that mixes them (finding a child's handovers) says which were sent
    #: and which received.
    relation: str | None = None
    #: The reader's unit the row is for, when the reader works in several (a nurse of two
    #: wards): without it, two wards' handovers looked alike. In a list of what came in, the
    #: unit it came to (receiving, or a copy); in one of what went out, the unit that sent
    #: it. None for someone of one unit.
    own_unit_in: int | None = None
    own_unit_out: int | None = None

    def __getitem__(self, key: str) -> Any:   # templates written for dict rows keep working
        return getattr(self, key)


def rows_for(user: User, handovers: Iterable[Handover], language: str = "fi") -> list[Row]:
    """The list rows of ``handovers`` for ``user``; each summary shown is audited, with the
    unit of the user's through which the list shows it."""
    handovers = list(handovers)
    _load_copies_and_replies(handovers)
    rows = []
    listed: list[tuple[str, int, str, int | None]] = []
    in_thread: dict[int, str | None] = {}
    kinds: dict[int, str] = {}
    mine = {membership.unit_id for membership in user.memberships}
    several = len(mine) > 1
    for handover in handovers:
        definition = _definition(handover)
        title = definition.title_in(language) if definition else handover.form_key
        access = evaluate(user, handover)
        overdue, due = is_overdue(handover), due_on_page(access)
        # A copy unit gets no thread (`reader_view`): its row says nothing of replies either.
        replied = replied_by_receiver(handover) and not access.as_copy
        row = Row(handover, title, overdue, replied,
                  due_on_page=due, overdue_on_page=due and overdue,
                  new=_unread_by_unit(handover, access),
                  withdrawn_unread=access.allows("view") and not shows_content(access)
                  and handover.status == "withdrawn", relation=access.relation)
        if several:
            row.own_unit_in = next((unit_id for unit_id in (
                handover.receiver_unit_id, *(copy.unit_id for copy in handover.copies))
                if unit_id in mine), None)
            row.own_unit_out = handover.sender_unit_id if handover.sender_unit_id in mine \
                else None
        if access.allows("view") and shows_content(access):
            if not access.as_copy:
                in_thread[handover.id] = access.relation
            try:
                row.summary = summary_for_reader(handover)
                if row.summary is not None and definition is not None:
                    mark_urgency_and_location(row, definition, access, language, kinds)
            except crypto.TamperedRecord:
                row.tampered = True
                record_integrity_failure(handover.id, actor=user, part="summary")
        if row.summary is not None:
            listed.append(("handover.listed", handover.id, "", access.unit_id))
        rows.append(row)
    unseen = thread_reads.unseen_messages(user, handovers, mine, in_thread)
    for row in rows:
        row.new_message = row.handover.id in unseen
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
            .options(selectinload(Handover.copies), REPLIES_MARKED)
        ).scalars().all()


def _unread_by_unit(handover: Handover, access: HandoverAccess) -> bool:
    """Whether nobody of the reader's unit has opened it yet: the receiving unit's opening is
    the handover's own; a copy unit's is its copy's (the receiver's opening says nothing of
    whether anyone at the copy unit has looked)."""
    if access.allows("acknowledge"):
        return handover.opened_at is None
    if access.as_copy and handover.status != "withdrawn" and handover.erased_at is None:
        return any(copy.unit_id == access.unit_id and copy.opened_at is None
                   for copy in handover.copies)
    return False
