"""Which threads hold a message a person has not seen: each time a handover's page (or its
print) shows them its thread, the newest reply shown is kept for them (`mark_shown`, in the
transaction that logs the view; not for an API read, nor a page that shows no thread); a list
marks a handover whose thread has a newer reply from another unit than the reader's own, of
those the reader is shown (`unseen_messages`). The e-mail says that a message came; the list
says where.

Kept per person, not per unit: a nurse who was off shift has not read what her colleague did.
Only ids are kept, and nothing is written for a thread without replies."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from handover.services import returning
from handover.services.policy import SENDING
from handover.store.database import db
from handover.store.models import Handover, Reply, ThreadRead


def mark_shown(user: Any, handover: Handover, shown: Iterable[Reply]) -> None:
    """Keep the newest of the replies ``shown`` to ``user`` as read, in the caller's
    transaction; no statement when none was shown."""
    newest = max((reply.id for reply in shown), default=None)
    if newest is None or getattr(user, "id", None) is None:
        return
    table = ThreadRead.__table__
    upsert: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(table) if db.session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)).values(
        user_id=user.id, handover_id=handover.id, last_reply_id=newest)
    db.session.execute(upsert.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.handover_id],
        set_={"last_reply_id": upsert.excluded.last_reply_id},
        where=table.c.last_reply_id < upsert.excluded.last_reply_id))


def unseen_messages(user: Any, handovers: Iterable[Handover], own_units: set[int],
                    in_thread: dict[int, str | None]) -> set[int]:
    """The ids of ``handovers`` whose thread has a reply from a unit not in ``own_units``
    newer than the newest one shown to ``user``: of those in ``in_thread`` (the ones whose
    thread the user may read, with their relation to it: a receiver is not shown what a unit
    that returned it wrote), with their replies loaded. One query, none without such a
    reply."""
    newest: dict[int, int] = {}
    for handover in handovers:
        if handover.id not in in_thread:
            continue
        shown = returning.visible_replies(handover.replies, handover, in_thread[handover.id],
                                          SENDING)
        theirs = [reply.id for reply in shown if reply.unit_id not in own_units
                  and reply.kind != returning.RETURN_KIND]
        if theirs:
            newest[handover.id] = max(theirs)
    if not newest:
        return set()
    read = dict(db.session.execute(
        select(ThreadRead.handover_id, ThreadRead.last_reply_id)
        .where(ThreadRead.user_id == user.id, ThreadRead.handover_id.in_(newest))).all())
    return {handover_id for handover_id, reply_id in newest.items()
            if reply_id > read.get(handover_id, 0)}
