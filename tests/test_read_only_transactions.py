"""A request that only read after its last commit ends its transaction with a COMMIT on
PostgreSQL, not a ROLLBACK: psycopg forgets every statement it has prepared on the connection at
a ROLLBACK, so each page that read after committing (the inbox, a preview) made the next
requests on that worker parse and plan all their statements again. Whatever wrote, or holds
changes not yet written, is still rolled back, on both databases."""

import pytest
from sqlalchemy import event, text

from handover.store.database import db
from handover.store.models import Unit
from tests.support import create_unit, create_user


@pytest.fixture
def transactions(app):
    """How each request's transactions ended: a list of "commit" and "rollback", as the
    connections report them to SQLAlchemy."""
    ended = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", lambda connection: ended.append("commit"))
    event.listen(engine, "rollback", lambda connection: ended.append("rollback"))
    return ended


@pytest.fixture
def pages_for_the_test(app):
    """A page that reads again after committing, as the inbox does (it logs the reading, then
    reads what it shows), and two that leave work unfinished, as a buggy view would: one
    wrote a row and did not commit, one changed a loaded object and did not commit. Both
    must be undone."""

    @app.get("/_test/reads-after-commit")
    def reads_after_commit():
        db.session.execute(db.select(Unit.name)).all()
        db.session.commit()
        return ", ".join(db.session.execute(db.select(Unit.name)).scalars())

    @app.get("/_test/writes-without-commit")
    def writes_without_commit():
        db.session.execute(text("UPDATE units SET name = 'Changed' WHERE name = 'Ward'"))
        return "ok"

    @app.get("/_test/changes-without-commit")
    def changes_without_commit():
        db.session.execute(db.select(Unit).where(Unit.name == "Ward")).scalar_one().name = "Edited"
        return "ok"


def _reader():
    ward = create_unit("Ward", kind="psychiatric_ward")
    return create_user("nurse@example.fi", memberships=[(ward, "receiver")])


def _prepared_statements(app):
    """How many statements the server holds prepared, on every connection of the pool."""
    with app.app_context():
        engine = db.engine
    counts = []
    for _ in range(engine.pool.checkedin()):
        with engine.connect() as connection:
            counts.append(connection.scalar(text("SELECT count(*) FROM pg_prepared_statements")))
    return counts


def test_a_page_that_read_after_committing_ends_with_a_commit_on_postgresql(
        app, client, database_backend, transactions, pages_for_the_test):
    with app.app_context():
        _reader()
    for _ in range(7):   # psycopg prepares a statement at its sixth use on a connection
        transactions.clear()
        assert client.get("/_test/reads-after-commit").get_data(as_text=True) == "Ward"
    if database_backend == "postgresql":
        assert transactions == ["commit", "commit"]
        assert all(_prepared_statements(app))
    else:   # SQLite keeps its statements through a rollback
        assert transactions == ["commit", "rollback"]


@pytest.mark.parametrize("page", ["writes-without-commit", "changes-without-commit"])
def test_work_left_uncommitted_is_still_rolled_back(app, client, pages_for_the_test, page):
    with app.app_context():
        _reader()
    assert client.get(f"/_test/{page}").status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Unit.name).where(Unit.id == 1)) == "Ward"
