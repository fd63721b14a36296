"""`/healthz` for load balancers: database state only, no versions, no authentication."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from handover.store.database import db
from handover.web.csrf import csrf

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:  # any database failure means "not ready", whatever the driver raised
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
