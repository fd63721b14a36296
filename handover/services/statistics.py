"""Numbers for administrators: how many handovers there are per form and status, units and
active users. Counts only — never content — so an administrator, who may not read handovers,
may see them."""

from dataclasses import dataclass

from sqlalchemy import func, select

from handover.store.database import db
from handover.store.models import Handover, Unit, User


@dataclass(frozen=True)
class HandoverCounts:
    """``table`` maps form key -> status -> count; ``statuses`` are those that occur."""

    table: dict
    statuses: list
    total: int
    unit_count: int
    user_count: int


def handover_counts() -> HandoverCounts:
    rows = db.session.execute(
        select(Handover.form_key, Handover.status, func.count(Handover.id))
        .group_by(Handover.form_key, Handover.status)
        .order_by(Handover.form_key, Handover.status)
    ).all()
    table: dict = {}
    for form_key, status, count in rows:
        table.setdefault(form_key, {})[status] = count
    return HandoverCounts(
        table=table, statuses=sorted({status for _form, status, _count in rows}),
        total=sum(count for _form, _status, count in rows),
        unit_count=db.session.scalar(select(func.count(Unit.id))) or 0,
        user_count=db.session.scalar(select(func.count(User.id)).where(User.active)) or 0,
    )
