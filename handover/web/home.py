"""The home page: the newest handovers in and out of the user's units, and their units."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from handover.services import listing, policy
from handover.services.accounts import all_units
from handover.services.sections import draft_rows
from handover.web.ui import language, status_label

bp = Blueprint("home", __name__)

LATEST = 5


@bp.get("/")
@login_required
def index():
    user = current_user._get_current_object()
    # Administrators and auditors work in no unit: no unit section, nothing listed, no button.
    units = policy.member_units(user) if policy.works_in_units(user) else None
    inbox = listing.newest(user, listing.inbox_branches(user), LATEST, language())
    outbox = listing.newest(user, listing.outbox_branches(user), LATEST, language())
    drafts = draft_rows(user, language()) if units else []
    return render_template("home/index.html", units=units, inbox=inbox, outbox=outbox,
                           drafts=drafts,
                           all_units={unit.id: unit for unit in all_units()},
                           status_label=status_label,
                           can_send=bool(policy.sending_units(user)))
