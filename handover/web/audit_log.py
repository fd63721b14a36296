"""The audit log for auditors: filters, and the per-child report the client-data act asks for
("who used my child's data, when and why"), found through the keyed identity-code hash.

Only auditors see these pages; anyone else gets 404 like any page they have no business with.
The identity code is posted, never put into a URL, and the search is itself audited (without
the code).
"""

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select, text
from stdnum.fi import hetu
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, Unit
from handover.web.form_base import HandoverForm

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50

#: The actions in the log, for the filter, by hopping through the index on ``action`` from one
#: value to the next (a few dozen look-ups): SELECT DISTINCT would read every event, and the
#: log grows by millions of rows a year.
DISTINCT_ACTIONS = text("""
    WITH RECURSIVE actions(action) AS (
        SELECT MIN(action) FROM audit_events
        UNION ALL
        SELECT (SELECT MIN(action) FROM audit_events WHERE action > actions.action)
        FROM actions WHERE actions.action IS NOT NULL
    )
    SELECT action FROM actions WHERE action IS NOT NULL
""")


class FilterForm(HandoverForm):
    """GET filters: nothing secret, so no CSRF token in the URL."""

    class Meta:
        csrf = False

    user = StringField(_l("User (e-mail)"), validators=[Optional(), Length(max=254)])
    unit = SelectField(_l("Unit"), validators=[Optional()], choices=[])
    handover = IntegerField(_l("Handover number"), validators=[Optional()])
    action = SelectField(_l("Action"), validators=[Optional()], choices=[])
    since = DateField(_l("From (date)"), validators=[Optional()])
    until = DateField(_l("To (date)"), validators=[Optional()])


class ChildReportForm(HandoverForm):
    identity_code = StringField(_l("Child's personal identity code"),
                                validators=[DataRequired(), Length(max=20)])


@bp.before_request
def auditors_only():
    if not current_user.is_authenticated or not current_user.is_auditor:
        abort(404)


def _filter_form():
    form = FilterForm(request.args)
    units = db.session.execute(select(Unit).order_by(Unit.name)).scalars().all()
    form.unit.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(str(unit.id), unit.name) for unit in units]
    actions = db.session.execute(DISTINCT_ACTIONS).scalars().all()
    form.action.choices = [SelectChoice("", _("All"))] + [SelectChoice(a, a) for a in actions]
    return form


def _start_of(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


@bp.get("/")
@login_required
def index():
    form = _filter_form()
    query = select(AuditEvent)
    if form.validate():
        if form.user.data:
            query = query.where(AuditEvent.actor_label.ilike(f"%{form.user.data.strip()}%"))
        if form.unit.data:
            query = query.where(AuditEvent.unit_id == int(form.unit.data))
        if form.handover.data:
            query = query.where(AuditEvent.handover_id == form.handover.data)
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data)
        if form.since.data:
            query = query.where(AuditEvent.occurred_at >= _start_of(form.since.data))
        if form.until.data:
            query = query.where(
                AuditEvent.occurred_at < _start_of(form.until.data) + timedelta(days=1))
    query = query.order_by(AuditEvent.id.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/index.html", form=form, page=page, args=args,
                           units=_unit_names(), report_form=ChildReportForm())


@bp.post("/child-report")
@login_required
def child_report():
    """Every event on the handovers of one child, oldest first."""
    form = ChildReportForm()
    events = None
    handovers = []
    if form.validate_on_submit():
        code = form.identity_code.data.strip().upper()
        if not hetu.is_valid(code, allow_temporary=True):
            form.identity_code.errors.append(_("Check the personal identity code."))
        else:
            handovers = db.session.execute(
                select(Handover).where(Handover.identity_hash == crypto.identity_hash(code))
                .order_by(Handover.id)
            ).scalars().all()
            ids = [h.id for h in handovers]
            events = db.session.execute(
                select(AuditEvent).where(AuditEvent.handover_id.in_(ids))
                .order_by(AuditEvent.occurred_at, AuditEvent.id)
            ).scalars().all() if ids else []
            audit.record("audit.child_report", detail={"handovers": len(ids)})
            db.session.commit()
    status = 400 if form.errors or (request.method == "POST" and events is None) else 200
    return render_template("audit/report.html", form=form, events=events, handovers=handovers,
                           units=_unit_names()), status


def _unit_names():
    return dict(db.session.execute(select(Unit.id, Unit.name)).all())
