#!/usr/bin/env python
"""Profile Handover's send, open and inbox views in-process (Flask test client) with pyinstrument,
to find hot spots before optimising. pyinstrument is a profiling-only tool, not a dependency:
``.venv/bin/pip install pyinstrument``. Usage:

    .venv/bin/python bench/profile_views.py [--stored 1000] [--count 30] [--database-url ...]
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

from pyinstrument import Profiler  # noqa: E402
from statement_counts import (  # noqa: E402
    StatementCounter,
    in_process_instance,
    operations,
    prepare_sends,
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args()
    with in_process_instance(args.stored, args.database_url) as instance:
        app, people, sender, receiver, _database = instance
        warm_up = prepare_sends(sender, people.sending_unit_id, people.receiving_unit_ids[0],
                                5, "w")
        for _label, work in operations(sender, receiver, warm_up):
            work()      # templates compile and statements are prepared on first use, untimed
        jobs = prepare_sends(sender, people.sending_unit_id, people.receiving_unit_ids[0],
                             args.count, "p")
        counter = StatementCounter(app)
        for label, work in operations(sender, receiver, jobs):
            profiler = Profiler(interval=0.0005)
            profiler.start()
            per = counter.measure(work, len(jobs))
            profiler.stop()
            shown = {kind: round(n, 1) for kind, n in per.items() if n}
            print(f"\n######## {label} x {len(jobs)}: SQL statements per request {shown}")
            print(profiler.output_text(unicode=False, color=False, show_all=args.all))

if __name__ == "__main__":
    main()
