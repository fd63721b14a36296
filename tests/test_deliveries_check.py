"""`handover check` warns when the worker stops reporting and when deliveries pile up or fail:
an operator learns that notices are only on record before a unit misses one."""

from datetime import timedelta

import lifecycle_support
from lifecycle_support import login_as, send_handover
from sqlalchemy import update

from handover.cli.ops import find_problems
from handover.jobs import jobs_of
from handover.store.database import db
from handover.store.models import Delivery, WorkerHeartbeat
from handover.store.models.base import utcnow

world = lifecycle_support.world
app_config = lifecycle_support.app_config


def _warnings(app):
    return [finding.message for finding in find_problems(app) if finding.level == "warning"
            and ("worker" in finding.message or "deliveries" in finding.message)]


def _age_outbox(app, minutes):
    with app.app_context():
        db.session.execute(update(Delivery).values(
            occurred_at=utcnow() - timedelta(minutes=minutes)))
        db.session.commit()


def test_a_fresh_instance_with_nothing_to_deliver_gets_no_warning(app):
    assert _warnings(app) == []


def test_a_worker_that_reported_just_now_is_fine(app, world):
    with app.app_context():
        send_handover(world)
    jobs_of(app).heartbeat()
    assert _warnings(app) == []


def test_a_silent_worker_is_named(app):
    jobs_of(app).heartbeat()
    with app.app_context():
        db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(minutes=7)))
        db.session.commit()
    [warning] = _warnings(app)
    assert "has not reported for 7 minutes" in warning


def test_deliveries_waiting_without_any_worker_are_named(app, world):
    with app.app_context():
        send_handover(world)
    _age_outbox(app, 20)
    warnings = _warnings(app)
    assert any("has never reported" in warning for warning in warnings)
    assert any("4 deliveries are waiting, the oldest for 20 minutes" in warning
               for warning in warnings)


def test_failed_deliveries_are_counted(app, world):
    with app.app_context():
        send_handover(world, copies=False)
        db.session.execute(update(Delivery).values(status="failed"))
        db.session.commit()
    jobs_of(app).heartbeat()
    assert _warnings(app) == ["2 deliveries failed for good: see Administration, Deliveries, "
                              "and try them again once the recipient works."]


def test_the_deliveries_page_says_whether_the_worker_reports(app, client, world):
    """Only `handover check` on the server said the worker had stopped: the administrators
    looking at waiting notices were not told why they waited."""
    login_as(client, app, world.users["admin"])
    page = client.get("/admin/deliveries").get_data(as_text=True)
    assert "No worker has ever reported: notices wait" in page
    with app.app_context():
        db.session.add(WorkerHeartbeat(name="host-1", beat_at=utcnow()))
        db.session.commit()
    page = client.get("/admin/deliveries").get_data(as_text=True)
    assert "The worker last reported" in page and "notices wait" not in page
