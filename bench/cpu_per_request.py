#!/usr/bin/env python
"""CPU milliseconds per send, open and inbox request, in process (Flask's test client), for
comparing two versions of the code: unlike a throughput run, the process's own CPU time hardly
moves with what else the machine is doing (the median of several batches varies by a few per
cent where requests per second vary by twenty). With ``--database-url`` the PostgreSQL server's
CPU per request is reported too. Usage:

    .venv/bin/python bench/cpu_per_request.py [--batches 5] [--count 60] [--database-url ...]
"""

import argparse
import os
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
from statement_counts import TestClient, operations, prepare_sends  # noqa: E402


def postgres_cpu_seconds():
    """User and system CPU of every process named postgres* on this machine (/proc)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name.startswith("postgres"):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--count", type=int, default=60, help="requests of each kind per batch")
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = (harness.PostgresDatabase(args.database_url).create()
                    if args.database_url else None)
        server = harness.Server(Path(folder) / "handover", database_url=database and database.url)
        server.init()
        try:
            people = harness.People(server, 1, 1)
            run.bulk_load(server, people, args.stored, 1)
            sender = TestClient(server.app).login(people.senders[0])
            receiver = TestClient(server.app).login(people.receivers[0])
            client_ms, server_ms = {}, {}
            for batch in range(args.batches + 1):     # the first batch warms up, untimed
                jobs = prepare_sends(sender, people.sending_unit_id,
                                     people.receiving_unit_ids[0], args.count, f"cpu{batch}")
                for label, work in operations(sender, receiver, jobs):
                    database_before = postgres_cpu_seconds() if database else 0
                    started = time.process_time()
                    work()
                    spent = (time.process_time() - started) / len(jobs) * 1000
                    database_spent = ((postgres_cpu_seconds() - database_before)
                                      / len(jobs) * 1000 if database else 0)
                    if batch:
                        client_ms.setdefault(label, []).append(spent)
                        server_ms.setdefault(label, []).append(database_spent)
            for label, samples in client_ms.items():
                line = (f"{label:6s} {statistics.median(samples):5.2f} ms CPU per request "
                        f"(batches {min(samples):.2f}-{max(samples):.2f})")
                if database:
                    line += f"; PostgreSQL server {statistics.median(server_ms[label]):.2f} ms"
                print(line)
        finally:
            server.dispose()
            if database:
                database.drop()


if __name__ == "__main__":
    main()
