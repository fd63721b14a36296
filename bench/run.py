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
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import statement_counts  # noqa: E402
from cpu_per_request import cpu_seconds, postgres_cpu_seconds  # noqa: E402
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
    parser.add_argument("--operations", type=int, default=200,
                        help="sends (then opens) per target and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--inbox-requests", type=int, default=300)
    return parser.parse_args()


class LeanClient:
    """What the timed requests of every target go through: one request per connection
    (gunicorn's sync workers close it after each answer anyway), a browser's cookies as one
    fixed header, and only the status and body read back.

    The load comes from this machine, whose two cores the servers also use, so what the
    client spends per request is taken from the servers. Through urllib, with a cookie jar
    for Handover's browsers, the client spent 0.52 ms of CPU per Handover send and 0.39 per
    open against 0.27 per yardstick request; the same lean client for all three leaves the
    servers the same share of the machine. A send's new session cookie (its flash message)
    is not kept: a browser would follow the redirect and the page would take the message
    out again (as `statement_counts.TestClient.post_followed` does in process)."""

    def __init__(self, base_url, cookies=""):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Cookie": cookies} if cookies else {}

    @classmethod
    def like(cls, browser):
        """A lean client with the cookies of ``browser`` (a logged-in `harness.Client`)."""
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.jar)
        return cls(browser.base_url, cookies)

    def request(self, method, path, data=None):
        """(status, body); status 0 when the connection failed."""
        headers = dict(self.headers)
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read()
        except OSError:
            return 0, b""
        finally:
            connection.close()


def parallel(function, items, concurrency):
    """Run ``function`` over ``items`` on ``concurrency`` threads; (per second, failures)."""
    failures = []
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for ok in pool.map(function, items):
            if not ok:
                failures.append(ok)
    return len(items) / (time.monotonic() - started), len(failures)


def latency_samples(get, count):
    """Milliseconds of ``count`` calls of ``get`` (after five untimed ones)."""
    for _ in range(5):
        get()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        assert get()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median_and_p95(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def rss_mb(pids):
    sizes = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return max(sizes)


def timed_with_cpu(target, operation, database_server):
    """Run one timed operation of ``target``: (rate, {where: CPU ms per operation}) with the
    CPU its gunicorn workers, the PostgreSQL server (when measured) and this load generator
    spent on it. All three share the machine's cores, so their sum is what a rate costs."""
    pids = target.worker_pids()
    before = (cpu_seconds(pids), postgres_cpu_seconds() if database_server else 0,
              time.process_time())
    rate = getattr(target, operation)()
    after = (cpu_seconds(pids), postgres_cpu_seconds() if database_server else 0,
             time.process_time())
    spent = [(end - start) * 1000 / target.args.operations
             for start, end in zip(before, after, strict=True)]
    return rate, dict(zip(("workers", "database", "client"), spent, strict=True))


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
    the first ``receiving_units`` of ``people`` and bench wards up to `UNITS` units, each with
    the audit event of its sending (`bulk_audit_events`)."""
    from sqlalchemy import func, insert, select

    from handover.store.database import db
    from handover.store.models import Handover, Unit

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

        chain = {"previous": None}
        for batch in bulk_rows(size, unit_ids, row):
            db.session.execute(insert(Handover.__table__), batch)
            newest = db.session.execute(select(func.max(Handover.id))).scalar()
            bulk_audit_events(range(newest - len(batch) + 1, newest + 1), batch, sender_id,
                              people.sending_unit_id, chain)
            db.session.commit()
    with server.app.app_context():
        analyze(db.engine)


def bulk_audit_events(handover_ids, rows, actor_id, unit_id, chain):
    """A stored handover comes with its audit trail: at least the event of its sending
    (drafting, opening, each view and acknowledging add more in real use). These continue the
    hash chain (``chain["previous"]``), so the measured requests append to a real one.

    Without them the log would hold a handful of rows when the measurement starts, which no
    running instance has: PostgreSQL would plan the chain-head look-up (newest row by id) as a
    scan of that tiny table, keep the plan in each worker's prepared statement, and scan the
    whole growing log on every write until autovacuum analyzes it."""
    from types import SimpleNamespace

    from sqlalchemy import insert, select

    from handover.store import audit
    from handover.store.database import db
    from handover.store.models import AuditEvent

    if chain["previous"] is None:   # the events the set-up logged come first
        chain["previous"] = db.session.execute(
            select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
        ).scalar() or audit.GENESIS
    events = []
    for handover_id, row in zip(handover_ids, rows, strict=True):
        event = {"occurred_at": row["sent_at"], "actor_id": actor_id,
                 "actor_label": "bench@example.org", "unit_id": unit_id,
                 "action": "handover.sent", "handover_id": handover_id, "outcome": "ok",
                 "client_address": "127.0.0.1", "detail": "", "previous_hash": chain["previous"]}
        event["row_hash"] = chain["previous"] = audit.event_hash(SimpleNamespace(**event))
        events.append(event)
    db.session.execute(insert(AuditEvent.__table__), events)


def analyze(engine):
    """PostgreSQL's autovacuum would soon vacuum and analyze the freshly loaded table (which
    lets counts use index-only scans); do it now for both apps so that they are measured in
    that steady state. SQLite is measured as an instance runs it, without ANALYZE."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


class HandoverTarget:
    """Handover under gunicorn on a bulk-loaded instance, its people logged in, its statements
    per operation counted in process first (for the matched yardstick)."""

    name = "Handover"

    def __init__(self, size, args, workdir):
        self.args = args
        self.database = (harness.PostgresDatabase(args.database_url).create()
                         if args.database_url else None)
        self.server = harness.Server(workdir / "handover", workers=args.workers,
                                     database_url=self.database and self.database.url).init()
        # One sender and one receiver more than the load uses: they count the statements.
        self.people = harness.People(self.server, args.concurrency + 1, args.concurrency + 1)
        started = time.monotonic()
        bulk_load(self.server, self.people, size, args.concurrency)
        self.bulk_seconds = time.monotonic() - started
        self.statements = statement_counts.per_operation(
            self.server.app, self.people.senders[-1], self.people.receivers[-1],
            self.people.sending_unit_id, self.people.receiving_unit_ids[-1])
        self.server.dispose()
        self.server.start()
        self.senders = [harness.Client(self.server.url).login(p)
                        for p in self.people.senders[:args.concurrency]]
        self.receivers = [harness.Client(self.server.url).login(p)
                          for p in self.people.receivers[:args.concurrency]]
        self.lean_senders = [LeanClient.like(client) for client in self.senders]
        self.lean_receivers = [LeanClient.like(client) for client in self.receivers]
        self.by_client = []
        self.ok = True

    def prepare(self, round_number):
        """Drafts for this round's sends, filled and previewed (untimed). Each thread works
        with its own client: cookie jars are not shared between threads."""
        per = self.args.operations // self.args.concurrency
        self.by_client = []
        for index, client in enumerate(self.senders):
            own = []
            for number in range(per):
                draft = client.start_draft(self.people.sending_unit_id,
                                           self.people.receiving_unit_ids[index])
                marker = f"bench-{round_number}-{index}-{number}"
                assert draft and client.fill(draft, marker).status == 302
                token = harness.TOKEN.search(client.get(f"/handovers/{draft}/preview").text)
                own.append((client, draft, token.group(1), index))
            self.by_client.append(own)

    def send(self):
        def send_all(own):
            return all(self.lean_senders[i].request(
                "POST", f"/handovers/{d}/send",
                {"csrf_token": c.csrf, "submission_token": t})[0] == 302
                for c, d, t, i in own)

        return self._timed(send_all)

    def open(self):
        def open_all(own):
            return all(self.lean_receivers[i].request("GET", f"/handovers/{d}")[0] == 200
                       for _, d, _, i in own)

        return self._timed(open_all)

    def _timed(self, work):
        started = time.monotonic()
        with ThreadPoolExecutor(self.args.concurrency) as pool:
            self.ok = all(pool.map(work, self.by_client)) and self.ok
        return sum(len(own) for own in self.by_client) / (time.monotonic() - started)

    def inbox(self):
        return self.lean_receivers[0].request("GET", "/handovers/inbox")[0] == 200

    def worker_pids(self):
        return self.server.worker_pids()

    def rss_mb(self):
        return rss_mb(self.worker_pids())

    def close(self):
        self.server.kill()
        self.server.dispose()
        if self.database:
            self.database.drop()


class MinimalTarget:
    """bench/minimal_app.py under gunicorn: "minimal" when ``statements`` is empty, "matched"
    when it carries Handover's counts."""

    def __init__(self, name, url, statements, args):
        self.name, self.args = name, args
        self.port = harness.free_port()
        self.client = LeanClient(f"http://127.0.0.1:{self.port}")
        self.process = subprocess.Popen(  # noqa: S603  (our own venv's gunicorn, fixed arguments)
            [str(harness.VENV_BIN / "gunicorn"), "--workers", str(args.workers), "--bind",
             f"127.0.0.1:{self.port}", "--chdir", str(HERE), "--log-level", "warning",
             "minimal_app:create_app()"],
            env={**os.environ, "MINIMAL_DATABASE_URL": url, "MINIMAL_STATEMENTS": statements},
            start_new_session=True)
        assert harness.wait_until(lambda: self._get("/healthz")[0] == 200, 30, 0.2)
        self.ids = []
        self.ok = True

    def _get(self, path, data=None):
        return self.client.request("GET" if data is None else "POST", path, data)

    def prepare(self, round_number):
        self.ids = []

    def send(self):
        lock = threading.Lock()

        def send_one(number):
            status, body = self._get("/send", {"unit": 1 + number % self.args.concurrency,
                                               "body": "x" * 600})
            with lock:
                self.ids.append(int(body.split(b'"id":')[1].split(b"}")[0].strip()))
            return status == 201

        rate, failed = parallel(send_one, range(self.args.operations), self.args.concurrency)
        self.ok = self.ok and not failed
        return rate

    def open(self):
        rate, failed = parallel(lambda i: self._get(f"/open/{i}")[0] == 200, self.ids,
                                self.args.concurrency)
        self.ok = self.ok and not failed
        return rate

    def inbox(self):
        return self._get("/inbox?unit=1")[0] == 200

    def worker_pids(self):
        return Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children"
                    ).read_text().split()

    def rss_mb(self):
        return rss_mb(self.worker_pids())

    def close(self):
        self.process.kill()
        self.process.wait(timeout=20)


def minimal_database(size, args, workdir):
    """The yardsticks' database, bulk-loaded like Handover's: (url, database or None, seconds)."""
    import minimal_app
    from sqlalchemy import insert

    database = harness.PostgresDatabase(args.database_url).create() if args.database_url else None
    url = database.url if database else f"sqlite:///{workdir / 'minimal.sqlite3'}"
    engine = minimal_app.engine_for(url)
    started = time.monotonic()
    minimal_app.metadata.create_all(engine)
    blob = os.urandom(700)
    with engine.begin() as connection:
        for batch in bulk_rows(size, list(range(1, UNITS + 1)), lambda unit, at: {
                "unit_id": unit, "status": "sent", "sent_at": at, "body": blob}):
            connection.execute(insert(minimal_app.items), batch)
            # One logged view per stored item, as Handover's stored handovers carry an event.
            connection.execute(insert(minimal_app.views), [{"at": row["sent_at"]} for row in batch])
    analyze(engine)
    engine.dispose()
    return url, database, time.monotonic() - started


def measure(targets, args):
    """Interleaved rounds: in each, every target sends, then every target opens what it sent,
    then every target serves its share of inbox pages, in an order that rotates from round to
    round. A shared machine speeds up and slows down over minutes; measured side by side, each
    round's ratios compare like with like. Returns {name: {"send": [per round], "open": [...],
    "inbox": [latency samples ms]}}."""
    found = {target.name: {"send": [], "open": [], "inbox": []} for target in targets}
    per_round = max(args.inbox_requests // args.rounds, 1)
    # One untimed round first: a freshly started worker compiles its templates, builds its
    # form classes and prepares its statements on its first requests, work a running server
    # has long done (and a yardstick hardly has).
    for target in targets:
        target.prepare("warm-up")
        target.send()
        target.open()
    for number in range(args.rounds):
        order = targets[number % len(targets):] + targets[:number % len(targets)]
        for target in order:
            target.prepare(number)
        for operation in ("send", "open"):
            for target in order:
                rate, cpu = timed_with_cpu(target, operation, args.database_url)
                found[target.name][operation].append(rate)
                found[target.name].setdefault("cpu " + operation, []).append(cpu)
        for target in order:
            found[target.name]["inbox"].extend(latency_samples(target.inbox, per_round))
    return found


def run_size(size, args, workdir):
    """Handover and both yardsticks on ``size`` stored handovers, measured side by side."""
    handover = HandoverTarget(size, args, workdir)
    yardsticks = []
    database = None
    try:
        url, database, minimal_bulk_seconds = minimal_database(size, args, workdir)
        yardsticks = [MinimalTarget("minimal", url, "", args),
                      MinimalTarget("matched", url, json.dumps(handover.statements), args)]
        targets = [handover, *yardsticks]
        found = measure(targets, args)
        for target in targets:
            found[target.name]["rss_mb"] = target.rss_mb()
            found[target.name]["ok"] = target.ok
        found["statements"] = handover.statements
        found["bulk_seconds"] = (handover.bulk_seconds, minimal_bulk_seconds)
        return found
    finally:
        for target in yardsticks:
            target.close()
        handover.close()
        if database:
            database.drop()


def ratios(found, operation, yardstick):
    """Handover's rate over the yardstick's, round by round."""
    return [mine / theirs for mine, theirs in zip(found["Handover"][operation],
                                                  found[yardstick][operation], strict=True)]


def report(size, found, seconds):
    handover_bulk, minimal_bulk = found["bulk_seconds"]
    print(f"\n== {size:,} stored handovers (run took {seconds:.0f} s; bulk insert "
          f"{handover_bulk:.0f} s Handover, {minimal_bulk:.0f} s minimal)")
    print("rates are medians over rounds; ratios are medians of each round's ratio "
          "(lowest-highest round)")
    print(f"{'':20}{'Handover':>10}{'minimal':>10}{'ratio':>18}{'matched':>10}{'ratio':>18}")
    names = ("minimal", "matched")
    for operation in ("send", "open"):
        line = f"{operation + '/s':20}{statistics.median(found['Handover'][operation]):10.1f}"
        for name in names:
            each = ratios(found, operation, name)
            line += (f"{statistics.median(found[name][operation]):10.1f}"
                     f"{statistics.median(each):7.2f} ({min(each):.2f}-{max(each):.2f})")
        print(line)
    latency = {name: median_and_p95(found[name]["inbox"]) for name in ("Handover", *names)}
    for index, label in ((0, "inbox median ms"), (1, "inbox p95 ms")):
        line = f"{label:20}{latency['Handover'][index]:10.1f}"
        for name in names:
            line += (f"{latency[name][index]:10.1f}"
                     f"{latency['Handover'][index] / latency[name][index]:7.2f}{'':11}")
        print(line)
    line = f"{'RSS per worker MB':20}{found['Handover']['rss_mb']:10.1f}"
    for name in names:
        line += f"{found[name]['rss_mb']:10.1f}{'':18}"
    print(line)
    for operation in ("send", "open"):
        parts = []
        for name in ("Handover", *names):
            cpu = found[name]["cpu " + operation]
            each = {where: statistics.median(c[where] for c in cpu) for where in cpu[0]}
            parts.append(f"{name} {each['workers']:.2f}/{each['database']:.2f}/"
                         f"{each['client']:.2f}")
        print(f"  CPU ms per {operation} (gunicorn workers/PostgreSQL/load generator): "
              + ", ".join(parts))
    for operation, counts in found["statements"].items():
        shown = ", ".join(f"{n:g} {kind}" for kind, n in counts.items() if n)
        print(f"  Handover {operation} per request: {shown}")
    if not all(found[name]["ok"] for name in ("Handover", *names)):
        print("!! some requests failed")


def main():
    args = parse()
    sizes = [int(size) for size in args.sizes.split(",")]
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(f"Handover benchmark on {kind}, {args.workers} gunicorn workers, {args.rounds} "
          f"interleaved rounds of {args.operations} sends and opens on {args.concurrency} "
          f"threads, bulk rows spread over {UNITS} receiving units; yardsticks: 'minimal' does "
          f"one or two statements per operation, 'matched' as many of each kind (and commits) "
          f"as Handover, counted in the same run")
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            results[size] = run_size(size, args, Path(folder))
            report(size, results[size], time.monotonic() - started)
    print("\n== Targets (median ratio to minimal / to matched)")
    for size, found in results.items():
        shown = {operation: "/".join(f"{statistics.median(ratios(found, operation, name)):.2f}"
                                     for name in ("minimal", "matched"))
                 for operation in ("send", "open")}
        print(f"{size:>9,}: send {shown['send']} (>= 0.5), open {shown['open']} (>= 0.5), "
              f"RSS {found['Handover']['rss_mb']:.0f} MB (< 150)")
    smallest, largest = sizes[0], sizes[-1]
    growth = (median_and_p95(results[largest]["Handover"]["inbox"])[1]
              / median_and_p95(results[smallest]["Handover"]["inbox"])[1])
    print(f"inbox p95 at {largest:,} / at {smallest:,}: {growth:.2f} (<= 1.5)")


if __name__ == "__main__":
    main()
