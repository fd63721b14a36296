"""`handover worker`: delivers the outbox and runs the scheduled jobs (overdue notices, the
retention purge, the delivery sweep), so that cron is no longer needed. Run one per
deployment beside the app nodes; `handover check` warns when its heartbeat stops."""

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from handover import jobs as background


@click.command("worker")
# At least one: with none the worker would report its heartbeat and deliver nothing.
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True,
              help="Deliveries tried at the same time (each waits on SMTP or HTTP).")
@with_appcontext
def worker_command(threads):
    """Deliver notices and webhooks and run the scheduled jobs until stopped (Ctrl+C)."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # huey logs every task it runs at INFO; Handover's own lines say what was delivered.
    logging.getLogger("huey").setLevel(logging.WARNING)
    app = current_app._get_current_object()
    jobs = background.jobs_of(app)
    redis = bool(app.config.get("JOBS_REDIS_URL") or app.config.get("REDIS_URL"))
    consumer = jobs.huey.create_consumer(
        workers=threads, worker_type="thread", periodic=True,
        # SQLite storage is polled: keep the wait after an empty poll short (Redis blocks).
        max_delay=10.0 if redis else 1.0, check_worker_health=True)
    jobs.heartbeat()
    found = jobs.sweep()  # what the last worker left, and what was queued while none ran
    click.echo(f"handover worker: {threads} threads, queue on "
               f"{'Redis' if redis else 'SQLite'}, {found} deliveries waiting.", err=True)
    consumer.run()


COMMANDS = (worker_command,)
