"""The home page: the newest handovers in and out of the user's units, and their units."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from handover import access
from handover.extensions import db
from handover.models import Handover, Unit

bp = Blueprint("home", __name__)

LATEST = 5


def _latest(where):
    return db.session.execute(
        select(Handover).where(where)
        .order_by(Handover.sent_at.desc().nulls_last(), Handover.id.desc()).limit(LATEST)
    ).scalars().all()


@bp.get("/")
@login_required
def index():
    from handover.web.handover_views import status_label
    from handover.web.handovers import _rows

    units = sorted({m.unit for m in current_user.memberships}, key=lambda unit: unit.name)
    inbox = _rows(_latest(access.inbox_filter(current_user)), current_user)
    outbox = _rows(_latest(access.outbox_filter(current_user) & (Handover.status != "draft")),
                   current_user)
    all_units = {unit.id: unit for unit in db.session.execute(select(Unit)).scalars()}
    return render_template("home/index.html", units=units, inbox=inbox, outbox=outbox,
                           all_units=all_units, status_label=status_label,
                           can_send=any(m.role == "sender" for m in current_user.memberships))
