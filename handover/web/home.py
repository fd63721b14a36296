"""The home page: the units a user belongs to (later: inbox and outbox)."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    units = sorted({m.unit for m in current_user.memberships}, key=lambda unit: unit.name)
    return render_template("home/index.html", units=units)
