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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

from statement_counts import in_process_instance, operations, prepare_sends  # noqa: E402


def cpu_seconds(pids):
    """User and system CPU seconds of the processes ``pids`` (/proc; those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds():
    """User and system CPU of every process named postgres* on this machine (/proc)."""
    def named_postgres(pid):
        try:
            return Path(f"/proc/{pid}/comm").read_text().startswith("postgres")
        except OSError:
            return False

    return cpu_seconds(pid for pid in filter(str.isdigit, os.listdir("/proc"))
                       if named_postgres(pid))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--count", type=int, default=60, help="requests of each kind per batch")
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with in_process_instance(args.stored, args.database_url) as instance:
        _app, people, sender, receiver, database = instance
        client_ms, server_ms = {}, {}
        for batch in range(args.batches + 1):     # the first batch warms up, untimed
            jobs = prepare_sends(sender, people.sending_unit_id, people.receiving_unit_ids[0],
                                 args.count, f"cpu{batch}")
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

if __name__ == "__main__":
    main()
