"""Statements sent to PostgreSQL together (handover.store.pipeline): SQLAlchemy's parameter handling
and error translation hold for them as for any other statement."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.exc import IntegrityError

from handover.store import pipeline
from handover.store.database import db
from handover.store.models import Unit, UserSession

HELSINKI_SUMMER = timezone(timedelta(hours=3))


def test_timestamps_are_processed_as_sqlalchemy_would():
    """A UTC column takes aware times only, converted to UTC; a naive one is refused, as when
    SQLAlchemy sends the statement itself."""
    statement = pipeline.DriverStatement(
        update(UserSession).where(UserSession.id == bindparam("session_id")).values(
            last_seen_at=bindparam("at")))
    dialect = postgresql_psycopg.dialect()
    local = datetime(2026, 6, 1, 12, 0, tzinfo=HELSINKI_SUMMER)
    sql, parameters = statement.for_driver(dialect, {"session_id": "s", "at": local})
    assert "%(at)s" in sql and "%(session_id)s" in sql
    assert parameters == {"at": local, "session_id": "s"}
    assert parameters["at"].tzinfo == UTC and parameters["at"].hour == 9
    with pytest.raises(ValueError, match="naive"):
        statement.for_driver(dialect, {"session_id": "s", "at": datetime(2026, 6, 1, 12, 0)})


@pytest.fixture
def on_postgresql(database_backend):
    if database_backend != "postgresql":
        pytest.skip("statements travel together only to PostgreSQL")


def test_statements_sent_together_run_in_order_in_the_callers_transaction(app, on_postgresql):
    rename = pipeline.DriverStatement(
        update(Unit).where(Unit.id == bindparam("unit_id")).values(name=bindparam("name")))
    with app.app_context():
        unit = Unit(name="Osasto 1", kind="psychiatric_ward")
        db.session.add(unit)
        db.session.commit()
        unit_id = unit.id
        first, second, read = pipeline.run_together(db.session.connection(), [
            (rename, {"unit_id": unit_id, "name": "Osasto 2"}),
            (rename, {"unit_id": unit_id, "name": "Osasto 3"}),
            ("SELECT name FROM units WHERE id = %s", (unit_id,)),
        ])
        assert (first.rowcount, second.rowcount, read.fetchone()) == (1, 1, ("Osasto 3",))
        db.session.rollback()
        assert db.session.scalar(select(Unit.name).where(Unit.id == unit_id)) == "Osasto 1"
        pipeline.run_together(db.session.connection(),
                              [(rename, {"unit_id": unit_id, "name": "Osasto 4"})], commit=True)
        db.session.commit()
        assert db.session.scalar(select(Unit.name).where(Unit.id == unit_id)) == "Osasto 4"


def test_a_failing_statement_raises_sqlalchemys_error_and_keeps_the_connection(
        app, on_postgresql):
    """A constraint violation is a bug, not an outage: IntegrityError (a 500, noticed), with
    the connection still good; the message does not repeat the parameters (they can carry
    client data, and error messages reach the log)."""
    rename = pipeline.DriverStatement(
        update(Unit).where(Unit.id == bindparam("unit_id")).values(name=bindparam("name")))
    with app.app_context():
        first, second = Unit(name="Koulu A", kind="school"), Unit(name="Koulu B", kind="school")
        db.session.add_all([first, second])
        db.session.commit()
        with pytest.raises(IntegrityError) as raised:
            pipeline.run_together(db.session.connection(),
                                  [(rename, {"unit_id": second.id, "name": "Koulu A"})])
        assert not raised.value.connection_invalidated
        assert "[parameters:" not in str(raised.value)
        db.session.rollback()
        assert db.session.scalar(select(Unit.name).where(Unit.id == second.id)) == "Koulu B"
