"""The worker's schedule: the sweep and heartbeat every minute, overdue notices every five
minutes, the retention purge hourly; the enqueue after a send puts the new rows on the queue,
and the sweep finds rows that a lost enqueue or a vanished worker left behind."""

from datetime import datetime, timedelta

import lifecycle_support
from lifecycle_support import send_handover
from sqlalchemy import select, update

from handover.jobs import jobs_of
from handover.services import deliveries
from handover.store.database import db
from handover.store.models import Delivery, WorkerHeartbeat
from handover.store.models.base import utcnow

world = lifecycle_support.world
app_config = lifecycle_support.app_config


def _due_names(huey, hour, minute):
    return sorted(task.name for task in huey.read_periodic(datetime(2026, 1, 5, hour, minute)))


def test_the_schedule(app):
    huey = jobs_of(app).huey
    assert _due_names(huey, 10, 1) == ["handover.tick"]
    assert _due_names(huey, 10, 5) == ["handover.overdue", "handover.tick"]
    assert _due_names(huey, 10, 7) == ["handover.purge", "handover.tick"]


def test_the_queue_lives_in_the_instance_readable_by_nobody_else(app, instance_path):
    jobs_of(app).huey
    assert (instance_path / "huey.sqlite3").stat().st_mode & 0o077 == 0


def test_a_send_enqueues_its_notices(app, world):
    huey = jobs_of(app).huey
    huey.flush()
    with app.app_context():
        send_handover(world)
        ids = sorted(db.session.execute(select(Delivery.id)).scalars())
    queued = sorted(i for task in huey.pending() for i in task.args[0])
    assert queued == ids


def test_the_overdue_job_queues_the_leads_notice(app, world):
    huey = jobs_of(app).huey
    with app.app_context():
        send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
    huey.flush()
    overdue = next(task for task in huey.read_periodic(datetime(2026, 1, 5, 10, 5))
                   if task.name == "handover.overdue")
    huey.execute(overdue)
    with app.app_context():
        rows = db.session.execute(select(Delivery).where(Delivery.event == "overdue")).scalars()
        assert [row.recipient for row in rows] == ["receiving.lead@example.test"]


def test_the_tick_beats_and_sweeps_up_what_a_lost_enqueue_left(app, world):
    jobs = jobs_of(app)
    with app.app_context():
        send_handover(world, copies=False)
        # A worker that died holding one row: its claim runs out in a minute.
        first = db.session.execute(select(Delivery.id).order_by(Delivery.id)).scalars().first()
        db.session.execute(update(Delivery).where(Delivery.id == first).values(
            status="sending", locked_until=utcnow() + timedelta(minutes=1)))
        db.session.commit()
    jobs.huey.flush()  # the enqueue after the send was lost
    tick = next(task for task in jobs.huey.read_periodic(datetime(2026, 1, 5, 10, 1))
                if task.name == "handover.tick")
    jobs.huey.execute(tick)
    # A task for later is queued with its time; the consumer holds it until then.
    queued = [i for task in jobs.huey.pending() if task.eta is None for i in task.args[0]]
    scheduled = [i for task in jobs.huey.pending() if task.eta for i in task.args[0]]
    with app.app_context():
        ids = sorted(db.session.execute(select(Delivery.id)).scalars())
        assert db.session.execute(select(WorkerHeartbeat)).scalar_one().beat_at > (
            utcnow() - timedelta(minutes=1))
    assert sorted(queued + scheduled) == ids and scheduled == [first]
    # The queued task delivers its rows; the held one waits for its claim to run out.
    for task in jobs.huey.pending():
        if task.eta is None:
            jobs.huey.execute(task)
    with app.app_context():
        assert deliveries.backlog()["pending"] == 0
        assert deliveries.attempt(first) is None  # still held until its claim runs out
