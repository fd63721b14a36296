"""The home page: the newest handovers in and out of the user's units, and their units; for an
administrator or an auditor, who work in no unit, what their role is for, with its pages."""

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user, login_required

from handover.i18n import lazy_gettext as _l
from handover.services import listing, policy
from handover.services.accounts import all_units
from handover.services.sections import draft_rows
from handover.web.ui import language, status_label

bp = Blueprint("home", __name__)

LATEST = 5

#: What an administrator does, each with its page: (endpoint, link text, what it is for).
ADMIN_TASKS = (
    ("admin.users", _l("Users"),
     _l("Create accounts, add people to units with their roles, reset passwords, deactivate "
        "accounts of people who left.")),
    ("admin.units", _l("Units"),
     _l("Create the units that send and receive handovers, and set each unit's kind.")),
    ("plugins_admin.index", _l("Plugins"),
     _l("Which forms are in use and which unit kind may send which form to whom; switch a "
        "plugin off or on.")),
    ("admin_form_uploads.index", _l("Uploaded forms"),
     _l("Upload a new form or a new version, preview it and put it to use.")),
    ("admin_clients.index", _l("Integration clients"),
     _l("Let another system (a patient record, a case management system) use Handover.")),
    ("admin_deliveries.deliveries_page", _l("Deliveries"),
     _l("Messages to integrations and their webhooks: what was delivered, what failed.")),
    ("admin.statistics", _l("Statistics"),
     _l("How many handovers there are per form and state; numbers only.")),
)

#: What an auditor does.
AUDITOR_TASKS = (
    ("audit.index", _l("Audit log"),
     _l("Who did what and when; and the report for one child: everyone who used the child's "
        "data, answering a request under the client-data act.")),
)


def tasks(chosen):
    """(url, link text, what it is for) of ``chosen`` tasks whose page this app has."""
    return [(url_for(endpoint), label, purpose) for endpoint, label, purpose in chosen
            if endpoint in current_app.view_functions]


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
                           admin_tasks=tasks(ADMIN_TASKS) if policy.is_admin(user) else [],
                           auditor_tasks=tasks(AUDITOR_TASKS) if policy.is_auditor(user) else [],
                           can_send=bool(policy.sending_units(user)))
