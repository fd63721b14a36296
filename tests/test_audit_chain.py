"""The audit log is append-only: the database refuses to change or delete an event, and if
someone with the power to drop that guard edits or deletes rows anyway, `handover audit verify`
names the first broken link."""

import contextlib
import threading

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError

from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Unit
from tests.support import empty_database, run_command


def record_events(count):
    """``count`` committed events (no client data, as in production); returns their ids."""
    ids = []
    for number in range(count):
        ids.append(audit.record("handover.opened", handover_id=number + 1,
                                detail={"n": number}).id)
        db.session.commit()
    return ids


@contextlib.contextmanager
def guard_dropped():
    """What an attacker with DDL rights does first: drop the trigger. Put back afterwards the
    way the migration installs it, so every test also proves that path."""
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            audit.install_append_only_guard(connection)


def raw(statement, **parameters):
    with db.engine.begin() as connection:
        connection.execute(text(statement), parameters)


def test_verify_reports_an_intact_chain(app, runner):
    with app.app_context():
        record_events(3)
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Audit chain OK (3 events)"


def test_verify_accepts_an_empty_log(app, runner):
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 0
    assert "Audit chain OK (0 events)" in result.output


def test_verify_names_an_edited_row(app, runner):
    with app.app_context():
        ids = record_events(4)
        with guard_dropped():
            raw("UPDATE audit_events SET detail = :detail WHERE id = :id",
                detail='{"n": 99}', id=ids[1])
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit chain broken at event {ids[1]}: ")
    assert "edited" in result.output


def test_verify_names_a_row_rewritten_with_a_fresh_hash_by_its_successor(app, runner):
    """An attacker who recomputes the edited row's own hash still breaks the next link."""
    with app.app_context():
        ids = record_events(3)
        event = db.session.get(AuditEvent, ids[0])
        event.action = "handover.printed"
        forged = audit.event_hash(event)
        db.session.rollback()
        with guard_dropped():
            raw("UPDATE audit_events SET action = 'handover.printed', row_hash = :hash "
                "WHERE id = :id", hash=forged, id=ids[0])
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit chain broken at event {ids[1]}: ")


@pytest.mark.parametrize("deleted, broken", [(1, 2), (0, 1)])
def test_verify_names_the_link_after_a_deleted_row(app, runner, deleted, broken):
    with app.app_context():
        ids = record_events(4)
        with guard_dropped():
            raw("DELETE FROM audit_events WHERE id = :id", id=ids[deleted])
    result = run_command(runner, "audit", "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit chain broken at event {ids[broken]}: ")
    assert "deleted" in result.output


def test_verify_chain_returns_the_first_broken_link(app):
    with app.app_context():
        ids = record_events(5)
        with guard_dropped():
            raw("UPDATE audit_events SET outcome = 'denied' WHERE id = :id", id=ids[3])
            raw("DELETE FROM audit_events WHERE id = :id", id=ids[1])
        ok, broken_id, reason = audit.verify_chain(batch_size=2)
        assert (ok, broken_id) == (False, ids[2])
        assert reason


def test_events_appended_after_verification_still_chain(app):
    with app.app_context():
        record_events(3)
        assert audit.verify_chain() == (True, None, None)
        record_events(2)
        assert audit.verify_chain() == (True, None, None)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET detail = 'rewritten' WHERE id = :id",
    "UPDATE audit_events SET row_hash = row_hash WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_database_refuses_to_change_or_delete_an_event(app, statement):
    with app.app_context():
        event_id = record_events(2)[0]
        with pytest.raises(DBAPIError, match="append-only"):
            raw(statement, id=event_id)
        assert db.session.get(AuditEvent, event_id).detail == '{"n": 0}'
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == 2
        assert audit.verify_chain()[0]


def test_the_orm_cannot_delete_an_event_either(app):
    with app.app_context():
        event = db.session.get(AuditEvent, record_events(1)[0])
        db.session.delete(event)
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == 1


def test_the_guard_can_be_installed_on_an_existing_table(app):
    """What the migration does: `install_append_only_guard(op.get_bind())`."""
    with app.app_context():
        event_id = record_events(1)[0]
        with guard_dropped():
            raw("UPDATE audit_events SET detail = 'allowed while dropped' WHERE id = :id",
                id=event_id)
        with pytest.raises(DBAPIError, match="append-only"):
            raw("DELETE FROM audit_events WHERE id = :id", id=event_id)


def test_the_migrated_schema_refuses_to_delete_an_event(app):
    """Production gets its schema from Alembic, not `create_all`: the guard must be there too."""
    from flask_migrate import upgrade

    with app.app_context():
        empty_database()
        try:
            upgrade()
            raw("INSERT INTO audit_events (occurred_at, actor_label, action, outcome, "
                "client_address, detail, previous_hash, row_hash) VALUES "
                "(CURRENT_TIMESTAMP, '', 'test', 'ok', '', '', '', '')")
            with pytest.raises(DBAPIError, match="append-only"):
                raw("DELETE FROM audit_events")
        finally:
            # Leave the schema as the other tests expect it (PostgreSQL keeps it between tests).
            empty_database()
            db.create_all()


def test_events_of_one_transaction_chain_onto_each_other_and_a_rollback_forgets_them(app):
    """A request that writes two events in one transaction (an open and a view) reads the chain
    head once; an event rolled back must not become the head the next transaction chains on."""
    with app.app_context():
        record_events(1)
        first = audit.record("handover.opened", handover_id=7)
        second = audit.record("handover.viewed", handover_id=7)
        assert second.previous_hash == first.row_hash
        db.session.commit()
        audit.record("handover.viewed", handover_id=8)
        db.session.rollback()
        with db.session.begin_nested():
            audit.record("handover.viewed", handover_id=9)
            db.session.rollback()  # the savepoint's event is gone as well
        after = audit.record("handover.viewed", handover_id=10)
        db.session.commit()
        assert after.previous_hash == second.row_hash
        assert audit.verify_chain() == (True, None, None)


def test_concurrent_appends_never_fork_the_chain(app):
    """Workers append at the same moment, each in its own transaction: each takes the chain's
    lock before it reads the newest hash, so they queue and every event links to the one
    before it."""
    writers, events_each = 4, 25
    start = threading.Barrier(writers)
    failures = []

    def append(writer):
        with app.app_context():
            try:
                start.wait()
                for number in range(events_each):
                    audit.record("handover.viewed", handover_id=writer * 100 + number)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported by the main thread)
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=append, args=(writer,)) for writer in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with app.app_context():
        assert audit.verify_chain() == (True, None, None)
        assert db.session.execute(select(db.func.count(AuditEvent.id))).scalar() == \
            writers * events_each


def _rename_unit_returning_chain_head(unit_id):
    """A write of a service's own that takes the chain's lock in its RETURNING, as a send or a
    first view does (`audit.returning_chain_head`)."""
    rename = update(Unit).where(Unit.id == unit_id).values(name="Renamed")
    statement = audit.returning_chain_head(rename) if audit.returns_chain_head() else rename
    assert audit.changed_rows(db.session.execute(statement)) == 1


@pytest.mark.parametrize("locked_by", ["its first append", "an UPDATE returning the head"])
def test_an_append_that_waited_for_the_lock_chains_onto_the_event_written_meanwhile(
        app, locked_by):
    """One worker holds the chain (an event written, not yet committed) while another starts
    to append and has to wait. On PostgreSQL the waiting worker read the newest hash in the
    same statement that waited for the lock, before the first one committed; its event must
    still chain onto the first one's, not onto the hash both saw at the start."""
    first_holds_lock, first_may_commit = threading.Event(), threading.Event()
    first_event, second_event, failures = [], [], []

    def first():
        with app.app_context():
            try:
                first_event.append(audit.record("handover.viewed", handover_id=1))
                first_holds_lock.set()
                first_may_commit.wait(timeout=30)
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported by the main thread)
                failures.append(error)
            finally:
                first_holds_lock.set()
                db.session.remove()

    def second():
        with app.app_context():
            try:
                if locked_by != "its first append":
                    _rename_unit_returning_chain_head(unit_id)
                second_event.append(audit.record("handover.viewed", handover_id=2))
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                failures.append(error)
            finally:
                db.session.remove()

    with app.app_context():
        record_events(1)
        unit = Unit(name="Ward", kind="psychiatric_ward")
        db.session.add(unit)
        db.session.commit()
        unit_id = unit.id
    holder = threading.Thread(target=first)
    holder.start()
    assert first_holds_lock.wait(timeout=30)
    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(timeout=0.5)          # it queues on the lock the first worker holds
    assert waiter.is_alive()
    first_may_commit.set()
    holder.join(timeout=30)
    waiter.join(timeout=30)
    assert failures == []
    assert second_event[0].previous_hash == first_event[0].row_hash
    with app.app_context():
        assert audit.verify_chain() == (True, None, None)
        assert [event.handover_id for event in db.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id))] == [1, 1, 2]


def test_an_append_whose_connection_is_cut_fails_as_an_outage_and_the_next_chains_on(
        app, database_backend):
    """A connection lost while the chain's lock is taken surfaces as SQLAlchemy's
    OperationalError (which the outage handler answers with 503), and the pool replaces the
    dead connection."""
    if database_backend != "postgresql":
        pytest.skip("a cut connection is a PostgreSQL server's doing")
    with app.app_context():
        record_events(1)
        own_backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": own_backend})
        admin.dispose()
        with pytest.raises(OperationalError) as raised:
            audit.record("handover.viewed", handover_id=2)
        assert raised.value.connection_invalidated
        db.session.rollback()
        audit.record("handover.viewed", handover_id=3)
        db.session.commit()
        assert audit.verify_chain() == (True, None, None)
        assert [event.handover_id for event in db.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id))] == [1, 3]
