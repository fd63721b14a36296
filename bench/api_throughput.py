#!/usr/bin/env python
"""API send and read throughput against the web views', in the same run, in process (Flask's
test client: no HTTP, no other clients), on SQLite or PostgreSQL:

    .venv/bin/python bench/api_throughput.py --operations 100 --rounds 5
    .venv/bin/python bench/api_throughput.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

A sending unit with a sender and a ward with a receiver (people of tests/fault/harness.py) get
an integration client each: the institution's with ``handover:send``, the ward's with
``handover:read``. In each round, drafts are written untimed for both (the web's through the
fill and preview pages, the API's with POST /api/v1/drafts), then, in an order that rotates
from round to round, the web sends its drafts (POST /handovers/<id>/send), the API sends its
own (POST /api/v1/handovers/<id>/send with an Idempotency-Key), the receiver opens each of the
web's (GET /handovers/<id>, the page) and the ward's system reads each of the API's
(GET /api/v1/handovers/<id>). It prints the median rate of each and the median of the rounds'
API/web ratios with the lowest and highest round.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from statement_counts import TestClient, prepare_sends  # noqa: E402

CONTENT = {"child_name": "Child api", "child_identity_code": harness.CHILD_CODE,
           "non_disclosure": "no", "location_hidden": "no",
           "placement_address": "Testikatu 1", "health_notes": "api"}


def tokens(server, people):
    """Bearer tokens of the institution's and the ward's integration clients."""
    from datetime import timedelta

    from handover.services import integration_clients
    from handover.store.database import db
    from handover.store.models import Unit, User
    from handover.store.models.base import utcnow

    with server.app.app_context():
        admin = User(email="admin@bench.test", name="Admin", is_admin=True,
                     password_hash="!")  # noqa: S106  (matches no password)
        db.session.add(admin)
        db.session.commit()
        later = utcnow() + timedelta(days=1)
        _c, sending = integration_clients.create(
            admin, "bench sender", db.session.get(Unit, people.sending_unit_id),
            {"handover:send"}, later, confirmed=True)
        _c, reading = integration_clients.create(
            admin, "bench ward", db.session.get(Unit, people.receiving_unit_ids[0]),
            {"handover:read"}, later, confirmed=True)
    return sending, reading


class ApiClient:
    def __init__(self, app, token):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path, json=None, headers=None):
        answer = self.client.post(path, json=json, headers={**self.headers, **(headers or {})},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert answer.status_code < 300, answer.get_data(as_text=True)[:300]
        return answer.get_json()

    def get(self, path):
        answer = self.client.get(path, headers=self.headers,
                                 environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        return answer


def rate(work, count):
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None,
                        help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    count = args.operations
    rates = {"web send": [], "api send": [], "web read": [], "api read": []}
    with tempfile.TemporaryDirectory() as folder:
        server = harness.Server(Path(folder) / "handover",
                                database_url=args.database_url).init()
        try:
            people = harness.People(server, 1, 1)
            sending_token, reading_token = tokens(server, people)
            sender = TestClient(server.app).login(people.senders[0])
            receiver = TestClient(server.app).login(people.receivers[0])
            api_sender = ApiClient(server.app, sending_token)
            api_reader = ApiClient(server.app, reading_token)
            body = {"form_key": harness.FORM_KEY,
                    "receiver_unit_id": people.receiving_unit_ids[0],
                    "legal_basis": "lsl_disclosure", "content": CONTENT}
            for number in range(args.rounds + 1):   # round 0 warms up, untimed
                web_jobs = prepare_sends(sender, people.sending_unit_id,
                                         people.receiving_unit_ids[0], count, f"r{number}")
                api_jobs = [api_sender.post("/api/v1/drafts", body)["id"] for _ in range(count)]
                work = [
                    ("web send", lambda jobs=web_jobs: [sender.post_followed(
                        f"/handovers/{d}/send", {"submission_token": t}) for d, t in jobs]),
                    ("api send", lambda jobs=api_jobs: [api_sender.post(
                        f"/api/v1/handovers/{d}/send",
                        headers={"Idempotency-Key": f"send-{d}"}) for d in jobs]),
                    ("web read", lambda jobs=web_jobs: [receiver.get(f"/handovers/{d}")
                                                        for d, _ in jobs]),
                    ("api read", lambda jobs=api_jobs: [api_reader.get(f"/api/v1/handovers/{d}")
                                                        for d in jobs]),
                ]
                # Sends come before reads; which of web and API goes first rotates.
                order = [0, 1, 2, 3] if number % 2 else [1, 0, 3, 2]
                for index in order:
                    label, job = work[index]
                    measured = rate(job, count)
                    if number:
                        rates[label].append(measured)
        finally:
            server.dispose()
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{database}, {count} operations x {args.rounds} rounds, in process")
    for label, found in rates.items():
        print(f"  {label}: median {statistics.median(found):.1f}/s")
    for kind in ("send", "read"):
        ratios = sorted(a / w for a, w in zip(rates[f"api {kind}"], rates[f"web {kind}"],
                                              strict=True))
        print(f"  api/web {kind}: median {statistics.median(ratios):.2f} "
              f"(rounds {ratios[0]:.2f} to {ratios[-1]:.2f})")


if __name__ == "__main__":
    main()
