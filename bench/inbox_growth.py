#!/usr/bin/env python
"""Inbox page latency in process (Flask's test client, no HTTP, no other clients) at several
table sizes: the quiet check of "the inbox does not slow down as handovers pile up" that
bench/run.py measures through gunicorn, where a shared machine's noise moves p95 by ±20 %.

    .venv/bin/python bench/inbox_growth.py --sizes 1000,100000,1000000
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
import run  # noqa: E402
from statement_counts import TestClient, prepare_sends  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    results = {}
    for size in [int(size) for size in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            server = harness.Server(Path(folder) / "handover").init()
            try:
                people = harness.People(server, 1, 1)
                run.bulk_load(server, people, size, 1)
                sender = TestClient(server.app).login(people.senders[0])
                receiver = TestClient(server.app).login(people.receivers[0])
                # Real handovers fill the first page (bulk rows do not decrypt).
                for draft, token in prepare_sends(sender, people.sending_unit_id,
                                                  people.receiving_unit_ids[0], 40):
                    sender.post(f"/handovers/{draft}/send", {"submission_token": token})
                for _ in range(10):
                    receiver.get("/handovers/inbox")
                samples = []
                for _ in range(args.pages):
                    started = time.perf_counter()
                    assert receiver.get("/handovers/inbox").status == 200
                    samples.append((time.perf_counter() - started) * 1000)
            finally:
                server.dispose()
        samples.sort()
        results[size] = (statistics.median(samples), samples[int(len(samples) * 0.95) - 1])
        print(f"{size:>11,} stored: inbox median {results[size][0]:.1f} ms, "
              f"p95 {results[size][1]:.1f} ms")
    smallest, largest = min(results), max(results)
    print(f"p95 at {largest:,} / at {smallest:,}: "
          f"{results[largest][1] / results[smallest][1]:.2f} (<= 1.5)")


if __name__ == "__main__":
    main()
