"""The audit log for an auditor's archiving system (scope ``audit:read``)."""

from flask_login import current_user
from marshmallow import RAISE

from handover.services import audit_export
from handover.web.api import bp
from handover.web.api.auth import auth
from handover.web.api.handovers import refusals
from handover.web.api.schemas import AuditPage, AuditQuery


@bp.get("/audit/events")
@bp.auth_required(auth, roles=["audit:read"])
@bp.input(AuditQuery, location="query", unknown=RAISE)
@bp.output(AuditPage)
@bp.doc(summary="Export the audit log with its chain hashes", responses=refusals(403, 404, 422))
def audit_events(query_data):
    """Events in id order, from ``after_id`` on (pass the answer's ``next_after_id`` for the
    next page), filtered by time, action, unit and child (the keyed hash of the identity
    code, as stored on handovers: the events of the child's access report, those on the
    child's handovers and the searches, look-ups and reports that named the child, also
    those that found nothing). Each event has every field its hash covers, the previous
    event's hash and its own: recompute SHA-256 over the fields joined by U+001F to verify."""
    return audit_export.export(current_user._get_current_object(),
                               audit_export.ExportFilter(**query_data))
