#!/usr/bin/env python
"""Machine instructions per send, open or inbox request, in process (Flask's test client),
counted by valgrind's callgrind: for telling two versions of the code apart by less than the
noise of a shared machine. CPU time per request moves by ten per cent from batch to batch on a
busy host; the instruction count of the same requests repeats to about 0.2 %, whatever else the
machine does. Instructions are not time (a cache miss costs more than an addition), so a change
found here is confirmed with `bench/run.py` before it is reported as faster.

Only the measured requests are counted: the set-up (the instance, the bulk rows, logging in,
the drafts) runs with counting off, and the script switches it on and off around the requests
with ``callgrind_control``. Needs valgrind (Debian: ``apt install valgrind``). Usage:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python bench/instructions_per_request.py open [--count 20] [--database-url ...]

and read "Collected" in valgrind's summary, divided by ``--count``.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

from statement_counts import in_process_instance, operations, prepare_sends  # noqa: E402

WARM_UP = 10


def counting(on):
    """Switch callgrind's counting for this process (nothing happens outside valgrind)."""
    subprocess.run(["callgrind_control", "--instr=" + ("on" if on else "off"),  # noqa: S603, S607
                    str(os.getpid())], capture_output=True, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operation", choices=("send", "open", "inbox"))
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with in_process_instance(args.stored, args.database_url) as instance:
        _app, people, sender, receiver, _database = instance
        # Statements are prepared and templates compiled on first use, as in a running server.
        warm_up = prepare_sends(sender, people.sending_unit_id, people.receiving_unit_ids[0],
                                WARM_UP, "warm")
        for _label, work in operations(sender, receiver, warm_up):
            work()
        jobs = prepare_sends(sender, people.sending_unit_id, people.receiving_unit_ids[0],
                             args.count, "counted")
        measured = dict(operations(sender, receiver, jobs))
        if args.operation != "send":
            measured["send"]()   # what is opened must have been sent (not counted)
        counting(True)
        measured[args.operation]()
        counting(False)
    print(f"{args.count} {args.operation} requests counted; divide callgrind's 'Collected' by "
          f"{args.count}", file=sys.stderr)


if __name__ == "__main__":
    main()
