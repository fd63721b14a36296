#!/usr/bin/env python
"""Benchmark the outbox (issue 18): send throughput with notifications on and off, and how long
the worker's scheduled jobs take on a large instance. Usage:

    .venv/bin/python bench/deliveries.py [--size 1000000] [--sends 200] [--database-url ...]

1. Send throughput under gunicorn (2 workers): ``--sends`` final "Send" POSTs on
   ``--concurrency`` threads (the drafts are written untimed first), once with notifications
   off (no SMTP configured, no worker) and once on (an aiosmtpd server and `handover worker`
   running beside gunicorn on the same cores). Also: how long until every notice of the "on"
   run was accepted by the mail server.
2. At ``--size`` stored handovers (bulk-inserted, spread over 100 units: 0.1 % overdue and not
   yet notified, 0.1 % past their retention, the rest acknowledged, each with a delivered
   outbox row, plus 1,000 deliveries waiting): the overdue job (finding and queueing 0.1 %), the
   retention purge (finding and erasing 0.1 %) and the delivery sweep (finding the waiting rows
   and queueing them), each timed in process as the worker runs them.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE.parent / "tests"))

import harness  # noqa: E402
from outbox_support import Mailbox, Worker, configure, outbox, smtp_server  # noqa: E402

BATCH = 20_000
UNITS = 100


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server (a fresh database is made and dropped); "
                             "SQLite when not given")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    return parser.parse_args()


def make_server(args, workdir, name):
    database = None
    url = None
    if args.database_url:
        database = harness.PostgresDatabase(args.database_url).create()
        url = database.url
    server = harness.Server(Path(workdir) / name, database_url=url, workers=2)
    server.database = database
    server.init()
    return server


def drop(server):
    server.kill()
    server.dispose()
    if server.database:
        server.database.drop()


# -- 1. send throughput ----------------------------------------------------------------------
def send_rate(server, args):
    """Sends per second of the final POST, ``args.sends`` over ``args.concurrency`` senders."""
    people = harness.People(server, args.concurrency, 4)
    per_client = args.sends // args.concurrency
    prepared = []

    def prepare(index, person):
        client = harness.Client(server.url).login(person)
        tokens = []
        for number in range(per_client):
            receiver = people.receiving_unit_ids[number % len(people.receiving_unit_ids)]
            draft_id = client.start_draft(people.sending_unit_id, receiver)
            client.fill(draft_id, f"bench-{index}-{number}")
            page = client.get(f"/handovers/{draft_id}/preview")
            tokens.append((draft_id, harness.TOKEN.search(page.text).group(1)))
        prepared.append((client, tokens))

    threads = [threading.Thread(target=prepare, args=(i, p))
               for i, p in enumerate(people.senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failures = []

    def send(client, tokens):
        for draft_id, token in tokens:
            answer = client.post(f"/handovers/{draft_id}/send", {"submission_token": token})
            if answer.status != 302:
                failures.append(answer.status)

    threads = [threading.Thread(target=send, args=item) for item in prepared]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    assert not failures, failures
    return per_client * args.concurrency / seconds


def throughput(args, workdir):
    off = make_server(args, workdir, "off")
    try:
        off.start()
        rate_off = send_rate(off, args)
    finally:
        drop(off)

    on = make_server(args, workdir, "on")
    mailbox = Mailbox()
    port = harness.free_port()
    controller = smtp_server(port, mailbox)
    configure(on, port)
    worker = Worker(on)
    try:
        on.start()
        worker.start()
        rate_on = send_rate(on, args)
        sent_at = time.monotonic()
        harness.wait_until(lambda: set(outbox(on)) <= {"delivered"}, timeout=600, interval=0.5)
        drained = time.monotonic() - sent_at
        delivered = outbox(on).get("delivered", 0)
    finally:
        worker.stop()
        controller.stop()
        drop(on)
    print(f"send throughput, {args.sends} sends on {args.concurrency} threads, gunicorn 2 "
          f"workers: notifications off {rate_off:.1f}/s, on (SMTP + worker running) "
          f"{rate_on:.1f}/s (ratio {rate_on / rate_off:.2f}); {delivered} notices accepted by "
          f"the mail server {drained:.1f} s after the last send answered; "
          f"{len(mailbox.messages)} messages received")


# -- 2. the scheduled jobs at size -----------------------------------------------------------
def bulk_load(server, size):
    """``size`` handovers with a delivered arrival notice each: 0.1 % overdue, 0.1 % due for
    erasure, the rest acknowledged; plus 1,000 waiting deliveries."""
    from sqlalchemy import func, insert, select

    from handover.store.database import db
    from handover.store.models import Delivery, Handover, Unit

    people = harness.People(server, 1, 1)
    now = datetime.now(UTC)
    special = max(1, size // 1000)
    with server.app.app_context():
        units = [Unit(name=f"Bench ward {n}", kind="psychiatric_ward") for n in range(UNITS)]
        db.session.add_all(units)
        db.session.commit()
        unit_ids = [unit.id for unit in units]
        sender = people.senders[0]["id"]
        blob = os.urandom(64)
        done = 0
        while done < size:
            batch, deliveries = [], []
            first_id = (db.session.execute(select(func.max(Handover.id))).scalar() or 0) + 1
            for number in range(done, min(size, done + BATCH)):
                sent_at = now - timedelta(days=20, seconds=number)
                overdue = number % 1000 == 1 and number // 1000 < special
                expired = number % 1000 == 2 and number // 1000 < special
                batch.append({
                    "form_key": harness.FORM_KEY, "form_version": 1,
                    "status": "sent" if overdue else "acknowledged",
                    "sender_unit_id": people.sending_unit_id,
                    "receiver_unit_id": unit_ids[number % UNITS],
                    "created_by_id": sender, "sent_by_id": sender,
                    "legal_basis": "lsl_disclosure", "created_at": sent_at,
                    "updated_at": sent_at, "sent_at": sent_at,
                    "due_at": sent_at + timedelta(hours=24),
                    "acknowledged_at": None if overdue else sent_at + timedelta(hours=1),
                    "erase_after": now - timedelta(hours=1) if expired
                    else now + timedelta(days=10),
                    "kek_id": "bulk", "wrapped_key": blob[:60], "content": blob,
                    "summary": blob[:32]})
                handover_id = first_id + number - done
                deliveries.append({
                    "channel": "email", "event": "arrived", "handover_id": handover_id,
                    "unit_id": unit_ids[number % UNITS], "recipient": f"ward{number % UNITS}@b",
                    "dedupe_key": f"email:arrived:{handover_id}:ward{number % UNITS}@b:",
                    "status": "delivered", "attempts": 1, "occurred_at": sent_at,
                    "next_attempt_at": sent_at, "delivered_at": sent_at})
            db.session.execute(insert(Handover.__table__), batch)
            db.session.execute(insert(Delivery.__table__), deliveries)
            db.session.commit()
            done += len(batch)
        waiting = [{"channel": "email", "event": "arrived", "handover_id": None,
                    "unit_id": unit_ids[0], "recipient": f"late{n}@b",
                    "dedupe_key": f"email:arrived:late:{n}", "status": "pending",
                    "attempts": 0, "occurred_at": now, "next_attempt_at": now}
                   for n in range(1000)]
        db.session.execute(insert(Delivery.__table__), waiting)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()
    return special


def timed(label, function):
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    count = len(result) if hasattr(result, "__len__") else result
    print(f"  {label}: {seconds * 1000:.0f} ms ({count})")
    return result


def jobs_at_size(args, workdir):
    from handover.jobs import jobs_of
    from handover.services import deliveries, notifications, retention
    from handover.store.database import db

    server = make_server(args, workdir, "jobs")
    try:
        started = time.monotonic()
        special = bulk_load(server, args.size)
        kind = "PostgreSQL" if args.database_url else "SQLite"
        print(f"at {args.size:,} stored handovers ({kind}, loaded in "
              f"{time.monotonic() - started:.0f} s; {special} overdue, {special} "
              f"due for erasure, 1,000 deliveries waiting):")
        app = server.app
        with app.app_context():
            timed("overdue: find (the query of each run)", notifications.overdue)
            timed("overdue: notify (claim, outbox rows, audit, per handover)",
                  notifications.notify_overdue)
            timed("overdue: the next run, nothing left", notifications.overdue)
            timed("purge: find", retention.expired)
            timed("purge: erase (one transaction per handover)", retention.purge)
            timed("purge: the next run, nothing left", retention.expired)
            timed("sweep: find waiting deliveries", lambda: deliveries.due(
                horizon=timedelta(minutes=2)))
            db.session.remove()
        timed("sweep: find and queue (huey SQLite storage)", jobs_of(app).sweep)
        with app.app_context():
            timed("deliveries backlog (handover check, the admin page)", lambda: sum(
                deliveries.backlog().values()))
            db.session.remove()
    finally:
        drop(server)


def main():
    args = parse()
    with tempfile.TemporaryDirectory(prefix="handover-bench-") as workdir:
        if not args.skip_throughput:
            throughput(args, workdir)
        if not args.skip_jobs:
            jobs_at_size(args, workdir)


if __name__ == "__main__":
    main()
