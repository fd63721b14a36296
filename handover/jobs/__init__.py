"""Background work: the job queue (huey) between the app and the `handover worker` process.

Why huey: it is a small, well-kept task queue with one dependency-free storage that needs no
server (SQLite, kept in the instance folder, so `scripts/start` runs as before) and a Redis
storage for several nodes (used when ``HANDOVER_REDIS_URL`` is set, which a multi-node
deployment already runs for the login limits), plus delayed tasks and crontab-style periodic
tasks, which is all the worker needs. Celery or RQ would bring a broker or more machinery than
this does.

The queue is never the source of truth. A task carries only outbox ids; the rows themselves
are in the database (`services.deliveries`), and the periodic sweep finds whatever a lost
enqueue, an expired claim or a killed worker left behind. So the queue's own durability does
not matter for correctness, only for promptness.
"""

import logging
import os
import socket
from datetime import timedelta

from flask import Flask
from huey import RedisHuey, SqliteHuey, crontab
from redis import ConnectionPool
from sqlalchemy import delete

from handover.services import (
    deliveries,
    kept_typing,
    late_drafts,
    notifications,
    retention,
    webhooks,
)
from handover.store.database import db, tighten_to_owner
from handover.store.models import WorkerHeartbeat
from handover.store.models.base import utcnow

log = logging.getLogger("handover.jobs")

EXTENSION = "handover.jobs"
QUEUE_FILE = "huey.sqlite3"
#: How far ahead the sweep schedules rows whose next try (or expired claim) is near.
SWEEP_HORIZON = timedelta(minutes=2)
#: Ids per queued task: one worker thread takes a batch, the next batch goes to another.
BATCH = 20
#: How long a Redis queue may take to answer (connect, queue a task) before it counts as down.
REDIS_TIMEOUT_SECONDS = 5


class Jobs:
    """The app's queue and its tasks, built on first use (a request that never enqueues, or a
    CLI command, opens no queue)."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey = None
        self._tasks = {}

    @property
    def huey(self):
        if self._huey is None:
            self._huey = self._build()
        return self._huey

    def _build(self):
        config = self.app.config
        url = config.get("JOBS_REDIS_URL") or config.get("REDIS_URL")
        if url:
            # A Redis that accepts connections but does not answer: the action that queues
            # a notice (its work already committed) fails its dispatch in seconds, as with
            # one that refuses, instead of waiting for ever (`dispatch`). Above the worker's
            # blocking read of one second.
            # (Huey takes a URL or a pool, not a URL with options.)
            huey = RedisHuey("handover", connection_pool=ConnectionPool.from_url(
                url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS))
        else:
            path = config.get("JOBS_SQLITE_PATH") or os.path.join(self.app.instance_path,
                                                                   QUEUE_FILE)
            # Created 0600 before SQLite opens it (its -wal and -shm follow the file's mode):
            # `handover check` refuses instance files others can read. An existing file is
            # only chmod-ed: opening it could drop this process's locks on it.
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                tighten_to_owner(path)
            huey = SqliteHuey("handover", filename=path, results=False)
        self._register(huey)
        return huey

    def _register(self, huey):
        app = self.app

        @huey.task(name="handover.deliver")
        def deliver(ids):
            with app.app_context():
                for delivery_id in ids:
                    row = deliveries.attempt(delivery_id)
                    if row is not None and row.status == "pending":
                        deliver.schedule(args=([delivery_id],), eta=row.next_attempt_at)
                db.session.remove()

        @huey.task(name="handover.sweep")
        def sweep():
            self.sweep()

        @huey.periodic_task(crontab(minute="*"), name="handover.tick")
        def tick():
            self.heartbeat()
            self.sweep()

        @huey.periodic_task(crontab(minute=str(app.config.get("OVERDUE_CRON_MINUTE", "*/5"))),
                            name="handover.overdue")
        def overdue():
            with app.app_context():
                told = notifications.notify_overdue()
                if told:
                    log.info("%d overdue handover(s) notified", len(told))
                late = late_drafts.notify_late()
                if late:
                    log.info("%d late draft(s) notified", len(late))
                db.session.remove()

        @huey.periodic_task(crontab(minute=str(app.config.get("PURGE_CRON_MINUTE", "7"))),
                            name="handover.purge")
        def purge():
            with app.app_context():
                erased = retention.purge()
                kept_typing.purge()   # typing kept from expired sessions, past its day
                if erased:
                    log.info("%d handover(s) erased", len(erased))
                db.session.remove()

        self._tasks = {"deliver": deliver, "sweep": sweep}

    def deliver_task(self):
        """The queue's delivery task (building the queue on first use)."""
        if self._huey is None:
            self._huey = self._build()
        return self._tasks["deliver"]

    # -- what the app and the worker call ------------------------------------------------------
    def enqueue(self, ids):
        for start in range(0, len(ids), BATCH):
            self.deliver_task()(ids[start:start + BATCH])

    def sweep(self):
        """Queue every row due now, and schedule those due within the horizon at their time."""
        with self.app.app_context():
            now = utcnow()
            due = deliveries.due(now, SWEEP_HORIZON)
            db.session.remove()
        ready = [delivery_id for delivery_id, when in due if when <= now]
        self.enqueue(ready)
        for delivery_id, when in due:
            if when > now:
                self.deliver_task().schedule(args=([delivery_id],), eta=when)
        return len(due)

    def heartbeat(self, name=None):
        """Record that this worker is alive, for `handover check`."""
        with self.app.app_context():
            name = name or worker_name()
            db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))
            db.session.add(WorkerHeartbeat(name=name, beat_at=utcnow()))
            db.session.commit()
            db.session.remove()


def worker_name():
    """One heartbeat row per host: a restarted worker takes over its predecessor's row."""
    return socket.gethostname()


def init_app(app: Flask) -> Jobs:
    jobs = Jobs(app)
    app.extensions[EXTENSION] = jobs
    app.extensions[deliveries.ENQUEUE] = jobs.enqueue
    app.extensions[deliveries.SENDERS] = {deliveries.EMAIL: notifications.send_email,
                                          deliveries.WEBHOOK: webhooks.send_webhook}
    return jobs


def jobs_of(app: Flask) -> Jobs:
    return app.extensions[EXTENSION]
