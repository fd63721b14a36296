"""The home page: the newest handovers in and out of the user's units, and their units."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from handover.services import policy as access
from handover.store.database import db
from handover.store.models import Unit

bp = Blueprint("home", __name__)

LATEST = 5


@bp.get("/")
@login_required
def index():
    from handover.web.handover_views import status_label
    from handover.web.handovers import _rows, newest

    units = sorted({m.unit for m in current_user.memberships}, key=lambda unit: unit.name)
    inbox = _rows(newest(access.inbox_branches(current_user), LATEST), current_user)
    outbox = _rows(newest(access.outbox_branches(current_user), LATEST), current_user)
    all_units = {unit.id: unit for unit in db.session.execute(select(Unit)).scalars()}
    return render_template("home/index.html", units=units, inbox=inbox, outbox=outbox,
                           all_units=all_units, status_label=status_label,
                           can_send=any(m.role == "sender" for m in current_user.memberships))
