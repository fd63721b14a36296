"""Numbers for administrators: how many handovers there are per form and status, units and
active people (never the accounts integration clients act under). Counts only — never
content — so an administrator, who may not read handovers, may see them. Forms are named by
their titles in the reader's language, never by their keys."""

from dataclasses import dataclass

from sqlalchemy import func, select

from handover.services.access_report import form_title
from handover.services.accounts import IS_CLIENT_ACCOUNT
from handover.store.database import db
from handover.store.models import Handover, Unit, User


@dataclass(frozen=True)
class HandoverCounts:
    """``table`` maps form key -> status -> count, in the order of ``titles`` (form key ->
    title); ``statuses`` are those that occur."""

    table: dict
    titles: dict
    statuses: list
    total: int
    unit_count: int
    user_count: int


def handover_counts(language: str = "fi") -> HandoverCounts:
    rows = db.session.execute(
        select(Handover.form_key, Handover.status, func.count(Handover.id))
        .group_by(Handover.form_key, Handover.status)
        .order_by(Handover.form_key, Handover.status)
    ).all()
    counted: dict = {}
    for form_key, status, count in rows:
        counted.setdefault(form_key, {})[status] = count
    titles = {key: form_title(key, None, language) for key in counted}
    table = {key: counted[key] for key in sorted(counted, key=lambda k: titles[k].lower())}
    return HandoverCounts(
        table=table, titles=titles, statuses=sorted({status for _form, status, _count in rows}),
        total=sum(count for _form, _status, count in rows),
        unit_count=db.session.scalar(select(func.count(Unit.id))) or 0,
        user_count=db.session.scalar(
            select(func.count(User.id)).where(User.active, ~IS_CLIENT_ACCOUNT)) or 0,
    )
