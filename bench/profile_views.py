#!/usr/bin/env python
"""Profile Handover's send, open and inbox views in-process (Flask test client) with pyinstrument,
to find hot spots before optimising. pyinstrument is a profiling-only tool, not a dependency:
``.venv/bin/pip install pyinstrument``. Usage:

    .venv/bin/python bench/profile_views.py [--stored 1000] [--count 30] [--database-url ...]
"""

import argparse
import sys
import tempfile
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from pyinstrument import Profiler  # noqa: E402


class TestClient(harness.Client):
    """harness.Client over the Flask test client instead of HTTP."""

    def __init__(self, app):
        super().__init__("")
        self.client = app.test_client()

    def request(self, method, path, data=None, *, body=None, headers=None):
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        answer = self.client.open(path, method=method, data=body, headers=headers or {},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"})
        return harness.Response(answer.status_code, answer.headers, answer.get_data())


def _count_statements(app):
    """Count SQL statements by their first word until the returned list is popped."""
    from collections import Counter

    from sqlalchemy import event

    from handover.extensions import db

    with app.app_context():
        engine = db.engine
    counts = Counter()
    holder = [counts]

    def count(conn, cursor, statement, parameters, context, executemany):
        if holder:
            counts[statement.split(None, 1)[0].upper()] += 1

    event.listen(engine, "before_cursor_execute", count)
    return holder


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    import run

    with tempfile.TemporaryDirectory() as folder:
        database = (harness.PostgresDatabase(args.database_url).create()
                    if args.database_url else None)
        server = harness.Server(Path(folder) / "handover", database_url=database and database.url)
        server.init()
        try:
            people = harness.People(server, 1, 1)
            run.bulk_load(server, people, args.stored, 1)
            app = server.app
            sender = TestClient(app).login(people.senders[0])
            receiver = TestClient(app).login(people.receivers[0])
            jobs = []
            for number in range(args.count):
                draft = sender.start_draft(people.sending_unit_id, people.receiving_unit_ids[0])
                assert sender.fill(draft, f"p-{number}").status == 302
                token = harness.TOKEN.search(sender.get(f"/handovers/{draft}/preview").text)
                jobs.append((draft, token.group(1)))
            for label, work in (
                ("send", lambda: [sender.post(f"/handovers/{d}/send", {"submission_token": t})
                                  for d, t in jobs]),
                ("open", lambda: [receiver.get(f"/handovers/{d}") for d, _ in jobs]),
                ("inbox", lambda: [receiver.get("/handovers/inbox") for _ in jobs]),
            ):
                statements = _count_statements(app)
                profiler = Profiler(interval=0.0005)
                profiler.start()
                work()
                profiler.stop()
                counts = statements.pop()
                per = {kind: round(n / len(jobs), 1) for kind, n in sorted(counts.items())}
                print(f"\n######## {label} x {len(jobs)}: SQL statements per request {per}")
                print(profiler.output_text(unicode=False, color=False, show_all=False))
        finally:
            server.dispose()
            if database:
                database.drop()


if __name__ == "__main__":
    main()
