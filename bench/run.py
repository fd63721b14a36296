#!/usr/bin/env python
"""Benchmark Handover against a minimal Flask app on the same database (bench/minimal_app.py).

For each size (stored handovers) it builds a fresh instance, bulk-inserts that many rows, starts
gunicorn, and measures: send throughput (the final "Send" POST; drafts are written untimed
beforehand), open throughput (the receiver's view page: decrypt, mark opened, audit), inbox page
latency (median, p95) and resident memory per worker. The minimal app does the same inserts and
selects with no login, access checks, encryption or audit chain. Prints the ratios and the
issue's targets. Usage:

    .venv/bin/python bench/run.py --sizes 1000,100000,1000000 [--database-url postgresql://...]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import statement_counts  # noqa: E402
from sqlalchemy import text  # noqa: E402

UNITS = 100          # bulk rows are spread over this many receiving units
BATCH = 20_000


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--database-url", default=os.environ.get("HANDOVER_TEST_DATABASE_URL"),
                        help="PostgreSQL server (a fresh database is made and dropped); "
                             "SQLite when not given")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--inbox-requests", type=int, default=300)
    return parser.parse_args()


def parallel(function, items, concurrency):
    """Run ``function`` over ``items`` on ``concurrency`` threads; (per second, failures)."""
    failures = []
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for ok in pool.map(function, items):
            if not ok:
                failures.append(ok)
    return len(items) / (time.monotonic() - started), len(failures)


def latencies(get, count):
    for _ in range(5):
        get()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        assert get()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def rss_mb(pids):
    sizes = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return max(sizes)


def bulk_rows(size, unit_ids, make_row):
    """Yield batches of ``size`` rows spread over ``unit_ids``, all older than the benchmark."""
    oldest = datetime.now(UTC) - timedelta(days=30)
    batch = []
    for number in range(size):
        batch.append(make_row(unit_ids[number % len(unit_ids)],
                              oldest + timedelta(seconds=number)))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_load(server, people, size, receiving_units):
    """Insert ``size`` acknowledged handovers straight into Handover's database, spread over
    the first ``receiving_units`` of ``people`` and bench wards up to `UNITS` units."""
    from sqlalchemy import insert

    from handover.extensions import db
    from handover.models import Handover, Unit

    with server.app.app_context():
        extra = [Unit(name=f"Bench ward {n}", kind="psychiatric_ward")
                 for n in range(UNITS - receiving_units)]
        db.session.add_all(extra)
        db.session.commit()
        unit_ids = people.receiving_unit_ids[:receiving_units] + [unit.id for unit in extra]
        sender_id = people.senders[0]["id"]
        blob = os.urandom(700)

        def row(unit_id, sent_at):
            return {"form_key": harness.FORM_KEY, "form_version": 1, "status": "acknowledged",
                    "sender_unit_id": people.sending_unit_id, "receiver_unit_id": unit_id,
                    "created_by_id": sender_id, "sent_by_id": sender_id,
                    "legal_basis": "lsl_disclosure", "created_at": sent_at,
                    "updated_at": sent_at, "sent_at": sent_at, "due_at": sent_at,
                    "kek_id": "bulk", "wrapped_key": blob[:60], "content": blob,
                    "summary": blob[:120]}

        for batch in bulk_rows(size, unit_ids, row):
            db.session.execute(insert(Handover.__table__), batch)
            db.session.commit()
    with server.app.app_context():
        analyze(db.engine)


def analyze(engine):
    """PostgreSQL's autovacuum would soon vacuum and analyze the freshly loaded table (which
    lets counts use index-only scans); do it now for both apps so that they are measured in
    that steady state. SQLite is measured as an instance runs it, without ANALYZE."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def handover_run(size, args, workdir):
    database = harness.PostgresDatabase(args.database_url).create() if args.database_url else None
    server = harness.Server(workdir / "handover", workers=args.workers,
                            database_url=database and database.url).init()
    try:
        # One sender and one receiver more than the load uses: they count the statements.
        people = harness.People(server, args.concurrency + 1, args.concurrency + 1)
        started = time.monotonic()
        bulk_load(server, people, size, args.concurrency)
        bulk_seconds = time.monotonic() - started
        statements = statement_counts.per_operation(
            server.app, people.senders[-1], people.receivers[-1], people.sending_unit_id,
            people.receiving_unit_ids[-1])
        server.dispose()
        server.start()
        senders = [harness.Client(server.url).login(p)
                   for p in people.senders[:args.concurrency]]
        receivers = [harness.Client(server.url).login(p)
                     for p in people.receivers[:args.concurrency]]
        per = args.operations // args.concurrency
        jobs = []   # (sender client, draft id, receiver index)
        for index, client in enumerate(senders):
            for number in range(per):
                draft = client.start_draft(people.sending_unit_id,
                                           people.receiving_unit_ids[index])
                assert draft and client.fill(draft, f"bench-{index}-{number}").status == 302
                token = harness.TOKEN.search(client.get(f"/handovers/{draft}/preview").text)
                jobs.append((client, draft, token.group(1), index))
        # Each thread works with its own client (cookie jars are not shared between threads).
        by_client = [[job for job in jobs if job[3] == i] for i in range(args.concurrency)]

        def send_all(own):
            return all(c.post(f"/handovers/{d}/send", {"submission_token": t}).status == 302
                       for c, d, t, _ in own)

        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            ok = all(pool.map(send_all, by_client))
        send_rate = len(jobs) / (time.monotonic() - started)

        def open_all(own):
            return all(receivers[i].get(f"/handovers/{d}").status == 200 for _, d, _, i in own)

        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            ok = all(pool.map(open_all, by_client)) and ok
        open_rate = len(jobs) / (time.monotonic() - started)
        median, p95 = latencies(lambda: receivers[0].get("/handovers/inbox").status == 200,
                                args.inbox_requests)
        return {"bulk_seconds": bulk_seconds, "send": send_rate, "open": open_rate,
                "inbox_median": median, "inbox_p95": p95,
                "rss_mb": rss_mb(server.worker_pids()), "ok": ok, "statements": statements}
    finally:
        server.kill()
        server.dispose()
        if database:
            database.drop()


def minimal_run(size, args, workdir, statements):
    """Both yardsticks on one bulk-loaded database: ``{"minimal": ..., "matched": ...}``;
    "matched" issues ``statements`` (Handover's, counted in this run) per operation."""
    from sqlalchemy import insert

    sys.path.insert(0, str(HERE))
    import minimal_app

    database = harness.PostgresDatabase(args.database_url).create() if args.database_url else None
    url = database.url if database else f"sqlite:///{workdir / 'minimal.sqlite3'}"
    engine = minimal_app.engine_for(url)
    try:
        started = time.monotonic()
        minimal_app.metadata.create_all(engine)
        blob = os.urandom(700)
        with engine.begin() as connection:
            for batch in bulk_rows(size, list(range(1, UNITS + 1)), lambda unit, at: {
                    "unit_id": unit, "status": "sent", "sent_at": at, "body": blob}):
                connection.execute(insert(minimal_app.items), batch)
        analyze(engine)
        bulk_seconds = time.monotonic() - started
        engine.dispose()
        results = {}
        for name, wanted in (("minimal", ""), ("matched", json.dumps(statements))):
            results[name] = _measure_minimal(url, wanted, args)
            results[name]["bulk_seconds"] = bulk_seconds
        return results
    finally:
        if database:
            database.drop()


def _measure_minimal(url, statements, args):
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603  (our own venv's gunicorn, fixed arguments)
        [str(harness.VENV_BIN / "gunicorn"), "--workers", str(args.workers), "--bind",
         f"127.0.0.1:{port}", "--chdir", str(HERE), "--log-level", "warning",
         "minimal_app:create_app()"],
        env={**os.environ, "MINIMAL_DATABASE_URL": url, "MINIMAL_STATEMENTS": statements},
        start_new_session=True)
    try:
        def get(path, data=None):
            body = None if data is None else urllib.parse.urlencode(data).encode()
            try:
                with urllib.request.urlopen(base + path, data=body, timeout=30) as answer:  # noqa: S310
                    return answer.status, answer.read()
            except OSError:
                return 0, b""

        assert harness.wait_until(lambda: get("/healthz")[0] == 200, 30, 0.2)
        ids = []
        lock = threading.Lock()

        def send(number):
            status, body = get("/send", {"unit": 1 + number % args.concurrency,
                                         "body": "x" * 600})
            with lock:
                ids.append(int(body.split(b'"id":')[1].split(b"}")[0].strip()))
            return status == 201

        send_rate, send_failed = parallel(send, range(args.operations), args.concurrency)
        open_rate, open_failed = parallel(lambda i: get(f"/open/{i}")[0] == 200, ids,
                                          args.concurrency)
        median, p95 = latencies(lambda: get("/inbox?unit=1")[0] == 200, args.inbox_requests)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        return {"send": send_rate, "open": open_rate,
                "inbox_median": median, "inbox_p95": p95, "rss_mb": rss_mb(children),
                "ok": not (send_failed or open_failed)}
    finally:
        process.kill()
        process.wait(timeout=20)


def main():
    args = parse()
    sizes = [int(size) for size in args.sizes.split(",")]
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(f"Handover benchmark on {kind}, {args.workers} gunicorn workers, "
          f"{args.operations} sends/opens on {args.concurrency} threads, "
          f"bulk rows spread over {UNITS} receiving units; yardsticks: 'minimal' does one or "
          f"two statements per operation, 'matched' as many of each kind (and commits) as "
          f"Handover, counted in the same run")
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            workdir = Path(folder)
            started = time.monotonic()
            handover = handover_run(size, args, workdir)
            minimal = minimal_run(size, args, workdir, handover["statements"])
            results[size] = (handover, minimal)
            print(f"\n== {size:,} stored handovers (run took {time.monotonic() - started:.0f} s;"
                  f" bulk insert {handover['bulk_seconds']:.0f} s Handover, "
                  f"{minimal['minimal']['bulk_seconds']:.0f} s minimal)")
            print(f"{'':22}{'Handover':>10}{'minimal':>10}{'ratio':>7}{'matched':>10}{'ratio':>7}")
            for key, label, unit in (("send", "send", "/s"), ("open", "open", "/s"),
                                     ("inbox_median", "inbox median", " ms"),
                                     ("inbox_p95", "inbox p95", " ms"),
                                     ("rss_mb", "RSS per worker", " MB")):
                line = f"{label + unit:22}{handover[key]:10.1f}"
                for name in ("minimal", "matched"):
                    line += f"{minimal[name][key]:10.1f}{handover[key] / minimal[name][key]:7.2f}"
                print(line)
            for operation, counts in handover["statements"].items():
                shown = ", ".join(f"{n:g} {kind}" for kind, n in counts.items() if n)
                print(f"  Handover {operation} per request: {shown}")
            if not (handover["ok"] and all(m["ok"] for m in minimal.values())):
                print("!! some requests failed")
    print("\n== Targets (ratio to minimal / to matched)")
    smallest, largest = sizes[0], sizes[-1]
    for size, (handover, minimal) in results.items():
        ratios = {key: "/".join(f"{handover[key] / minimal[name][key]:.2f}"
                                for name in ("minimal", "matched")) for key in ("send", "open")}
        print(f"{size:>9,}: send {ratios['send']} (>= 0.5), open {ratios['open']} (>= 0.5), "
              f"RSS {handover['rss_mb']:.0f} MB (< 150)")
    growth = results[largest][0]["inbox_p95"] / results[smallest][0]["inbox_p95"]
    print(f"inbox p95 at {largest:,} / at {smallest:,}: {growth:.2f} (<= 1.5)")


if __name__ == "__main__":
    main()
