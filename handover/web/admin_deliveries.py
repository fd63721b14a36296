"""Administration of what Handover tells the outside world: the outbox's waiting and failed
deliveries (with "try again"), and each unit's webhook endpoints.

Admins see the event, the handover id, the recipient and the outcome of a delivery, never
content. Anyone else gets 404, as on every admin page. Retrying a delivery or removing an
endpoint that does not exist is 404 too (the services raise `NotFound`, `web/errors.py` answers),
as revoking an unknown integration client is; a delivery that exists but is delivered or being
sent is told so.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.services import accounts, deliveries, policy, webhooks
from handover.store.database import db
from handover.store.models import Unit, WebhookEndpoint
from handover.web.admin_forms import ActionForm
from handover.web.definition_fields import MultiCheckboxField
from handover.web.form_base import HandoverForm

bp = Blueprint("admin_deliveries", __name__, url_prefix="/admin")

#: How many waiting or failed deliveries the page lists, newest first.
SHOWN = 200

EVENT_LABELS = {
    "arrived": _l("A handover arrived"),
    "corrected": _l("A corrected handover arrived"),
    "opened": _l("A handover was opened"),
    "acknowledged": _l("A handover was acknowledged"),
    "replied": _l("A reply was added"),
    "returned": _l("A handover was returned to its sender"),
    "withdrawn": _l("A handover was withdrawn"),
    "updated": _l("A handover was updated"),
    "overdue": _l("A handover is overdue"),
    "draft_late": _l("A draft was not sent in time"),
}
STATUS_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Being sent"),
    "failed": _l("Failed"),
    "delivered": _l("Delivered"),
}


class EndpointForm(HandoverForm):
    unit = SelectField(_l("Unit"), validators=[DataRequired()])
    url = StringField(_l("Address (https://...)"), validators=[DataRequired(), Length(max=500)])
    events = MultiCheckboxField(_l("Events"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice(str(unit.id), unit.name)
                             for unit in accounts.all_units() if unit.is_active]
        self.events.choices = [SelectChoice(event, EVENT_LABELS[event])
                               for event in webhooks.EVENTS]


@bp.before_request
@login_required
def only_admins():
    policy.require_admin(current_user)


@bp.route("/deliveries")
def deliveries_page():
    return render_template("admin_deliveries/deliveries.html", rows=deliveries.open_rows(SHOWN),
                           backlog=deliveries.backlog(), form=ActionForm(),
                           worker_beat=deliveries.last_heartbeat(),
                           worker_silent=deliveries.worker_silent(),
                           event_labels=EVENT_LABELS, status_labels=STATUS_LABELS)


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
def retry(delivery_id):
    form = ActionForm()
    if form.validate_on_submit() and deliveries.retry(delivery_id, actor=current_user):
        deliveries.dispatch([delivery_id])
        flash(_("The delivery will be tried again now."), "success")
    else:
        flash(_("This delivery cannot be retried: it was delivered or is being sent."), "error")
    return redirect(url_for(".deliveries_page"))


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks_page():
    form = EndpointForm(prefix="endpoint")
    secret = None
    if form.validate_on_submit():
        try:
            endpoint, secret = webhooks.create_endpoint(
                current_user, int(form.unit.data), form.url.data, form.events.data)
        except webhooks.WebhookError as error:
            form.url.errors = [*form.url.errors, str(error)]
        else:
            flash(_("Endpoint %(id)s added.", id=endpoint.id), "success")
            form = EndpointForm(prefix="endpoint", formdata=None)
    units = {unit.id: unit for unit in accounts.all_units()}
    return render_template("admin_deliveries/webhooks.html", form=form, secret=secret,
                           endpoints=webhooks.endpoints(), units=units,
                           action_form=ActionForm(), event_labels=EVENT_LABELS)


@bp.route("/webhooks/<int:endpoint_id>/remove", methods=["GET", "POST"])
def remove_endpoint(endpoint_id):
    """Remove asks first, on a page of its own (no JavaScript needed): the signing secret is
    lost with the endpoint. Only the confirming POST removes."""
    if request.method == "GET":
        endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
        if not endpoint.active:
            return redirect(url_for(".webhooks_page"))
        return render_template("admin_deliveries/remove_endpoint.html", endpoint=endpoint,
                               unit=db.session.get(Unit, endpoint.unit_id))
    form = ActionForm()
    if form.validate_on_submit() and webhooks.remove_endpoint(current_user, endpoint_id):
        flash(_("Endpoint removed."), "success")
    return redirect(url_for(".webhooks_page"))
