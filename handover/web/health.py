"""`/healthz` for load balancers: database state only, no versions, no authentication.

Not ready either while the database is at another migration than this code's (a new release
started before `handover db upgrade`, or an old one after it): its pages would fail, so the
balancer must not send people to it. A database never migrated (the tests' own, made from
the models) is not told apart from a migrated one."""

from flask import Blueprint, current_app, jsonify

from handover.services.backup_facts import head_revision, schema_revision
from handover.store.database import db
from handover.web.csrf import csrf

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.get("/healthz")
def healthz():
    try:
        revision = schema_revision()
        db.session.rollback()
    except Exception:  # any database failure means "not ready", whatever the driver raised
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    if revision is not None and revision != head_revision(current_app):
        current_app.logger.error("not ready: the database schema is at %s, this code expects "
                                 "%s; run `handover db upgrade`", revision,
                                 head_revision(current_app))
        return jsonify(status="unavailable", database="not migrated"), 503
    return jsonify(status="ok", database="ok")
