#!/usr/bin/env python
"""`handover purge` and the earlier-handovers look-up, in process, at several table sizes: both
should cost what the due handovers (purge) or one child's handovers (look-up) cost, however
many handovers are stored.

    .venv/bin/python bench/purge_and_lookup.py --sizes 1000,1000000
    .venv/bin/python bench/purge_and_lookup.py --sizes 1000,1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres   # fresh DB, dropped after

For each size it bulk-inserts that many acknowledged handovers (random blobs of sealed size,
each with its sending's audit event, `run.bulk_load`'s rows) whose ``erase_after`` lies in the
future, over children of four handovers each (keyed identity hashes), then marks ``--due``
of them due. It times `retention.expired` (the indexed query that finds the due ones, median
of ``--repeats``), then one `retention.purge` that erases the due ones (each in its own
transaction with its audit event), then `earlier_handovers.look_up` for one child with
``--child-handovers`` handovers, half of them from the looking user's unit (median of
``--repeats``; each look-up writes its audit event, as in real use).
"""

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import run  # noqa: E402

CHILD = "bench-child-looked-up"


def child_hash(number):
    return hashlib.sha256(f"bench-child-{number}".encode()).hexdigest()


def load(server, people, size, due, child_handovers):
    """``size`` stored handovers, ``due`` of them due for erasure, and the looked-up child's."""
    from sqlalchemy import func, insert, select, update

    from handover.store.database import db
    from handover.store.models import Handover, Unit

    far = datetime.now(UTC) + timedelta(days=300)
    with server.app.app_context():
        other = Unit(name="Bench other sender", kind="child_welfare_institution")
        db.session.add(other)
        db.session.commit()
        sender_id = people.senders[0]["id"]
        blob = bytes(700)
        counter = {"n": 0}

        def row(unit_id, sent_at):
            counter["n"] += 1
            return {"form_key": harness.FORM_KEY, "form_version": 1, "status": "acknowledged",
                    "sender_unit_id": people.sending_unit_id, "receiver_unit_id": unit_id,
                    "created_by_id": sender_id, "sent_by_id": sender_id,
                    "legal_basis": "lsl_disclosure", "created_at": sent_at,
                    "updated_at": sent_at, "sent_at": sent_at, "due_at": sent_at,
                    "acknowledged_at": sent_at, "last_activity_at": sent_at,
                    "erase_after": far, "identity_hash": child_hash(counter["n"] // 4),
                    "kek_id": "bulk", "wrapped_key": blob[:60], "content": blob,
                    "summary": blob[:120]}

        chain = {"previous": None}
        receivers = people.receiving_unit_ids
        for batch in run.bulk_rows(size, receivers, row):
            db.session.execute(insert(Handover.__table__), batch)
            newest = db.session.execute(select(func.max(Handover.id))).scalar()
            run.bulk_audit_events(range(newest - len(batch) + 1, newest + 1), batch, sender_id,
                                  people.sending_unit_id, chain)
            db.session.commit()
        # The due ones: spread over the table, erase_after in the past.
        step = max(size // due, 1)
        db.session.execute(update(Handover).where(Handover.id % step == 0,
                                                  Handover.id <= due * step)
                           .values(erase_after=datetime.now(UTC) - timedelta(days=1)))
        # The looked-up child: half from the user's own unit, half from a unit they have no
        # part in (to units they are not in either).
        when = datetime.now(UTC) - timedelta(days=10)
        mine = [dict(row(receivers[0], when), identity_hash=hashlib.sha256(CHILD.encode())
                     .hexdigest()) for _ in range(child_handovers // 2)]
        theirs = [dict(m, sender_unit_id=other.id, receiver_unit_id=other.id) for m in mine]
        db.session.execute(insert(Handover.__table__), mine + theirs)
        db.session.commit()
    with server.app.app_context():
        run.analyze(db.engine)


def median_ms(work, repeats):
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(server, people, due, repeats):
    from handover.services import earlier_handovers, retention
    from handover.store.database import db
    from handover.store.models import User

    with server.app.test_request_context():
        plans = query_plans(db)
        found = median_ms(lambda: retention.expired(), repeats)
        assert len(retention.expired()) == due, len(retention.expired())
        started = time.perf_counter()
        erased = retention.purge()
        purge = (time.perf_counter() - started) * 1000
        assert len(erased) == due
        user = db.session.get(User, people.senders[0]["id"])
        wanted = hashlib.sha256(CHILD.encode()).hexdigest()
        shown = earlier_handovers.look_up(user, wanted)
        look_up = median_ms(lambda: earlier_handovers.look_up(user, wanted), repeats)
        # The query alone, without the audit event and its commit that each look-up writes.
        query = median_ms(lambda: earlier_handovers._query(user, wanted, None), repeats)
    print(f"    earlier-handovers query alone: {query:.2f} ms")
    return found, purge, look_up, len(shown), plans


def query_plans(db):
    """How the database finds the due handovers and one child's: through an index, not a scan."""
    from sqlalchemy import text

    sqlite = db.engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    queries = {
        "due": "SELECT id FROM handovers WHERE erase_after <= CURRENT_TIMESTAMP "
               "ORDER BY erase_after, id LIMIT 500",
        "child": "SELECT id FROM handovers WHERE identity_hash = 'x' AND status != 'draft' "
                 "ORDER BY sent_at DESC LIMIT 50",
    }
    plans = {}
    for name, query in queries.items():
        rows = db.session.execute(text(explain + query)).all()
        plans[name] = " | ".join(str(row[-1]) for row in rows)
    return plans


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--child-handovers", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server: a fresh database is created and dropped")
    args = parser.parse_args()
    for size in [int(size) for size in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            database = harness.PostgresDatabase(args.database_url) if args.database_url else None
            if database:
                database.create()
            server = harness.Server(Path(folder) / "handover",
                                    database_url=database.url if database else None).init()
            try:
                people = harness.People(server, 1, 1)
                started = time.perf_counter()
                load(server, people, size, args.due, args.child_handovers)
                loaded = time.perf_counter() - started
                found, purge, look_up, shown, plans = measure(server, people, args.due,
                                                              args.repeats)
            finally:
                server.dispose()
                if database:
                    database.drop()
        print(f"{size:>11,} stored (loaded in {loaded:.0f} s): finding {args.due} due "
              f"{found:.2f} ms, purging them {purge:.0f} ms ({purge / args.due:.1f} ms each), "
              f"earlier-handovers look-up {look_up:.2f} ms ({shown} of "
              f"{args.child_handovers} shown)")
        for name, plan in plans.items():
            print(f"    plan ({name}): {plan}")


if __name__ == "__main__":
    main()
