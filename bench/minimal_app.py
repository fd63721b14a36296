"""The benchmark's yardstick: a minimal Flask app on the same database doing the inserts and
selects Handover's send, open and inbox do, without login, access checks, encryption or audit
chain. Run as ``gunicorn 'minimal_app:create_app()'`` with MINIMAL_DATABASE_URL set.

Unset, each operation is the least it can be: one INSERT to send, one SELECT and one INSERT to
open, two SELECTs for the inbox ("minimal"). MINIMAL_STATEMENTS (JSON, as
bench/statement_counts.py measures Handover in the same run, e.g. ``{"send": {"SELECT": 8,
"INSERT": 1, "UPDATE": 1, "DELETE": 1, "COMMIT": 1}, ...}``) makes each operation issue that many
statements of each kind in that many transactions ("matched"): the extra SELECTs are
primary-key reads like Handover's session, user, unit and routing look-ups, the extra writes
are small inserts and updates of the same rows, and DELETEs match nothing (Handover's one
DELETE is the statement that takes SQLite's write lock for the audit chain)."""

import json
import os
from datetime import UTC, datetime

from flask import Flask, abort, request
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)

metadata = MetaData()
items = Table(
    "items", metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sent_at", DateTime, nullable=False),
    Column("body", LargeBinary),
    Index("ix_items_unit_sent", "unit_id", "sent_at"),
)
views = Table("views", metadata, Column("id", Integer, primary_key=True),
              Column("item_id", Integer), Column("at", DateTime))

#: What each operation does at least, by kind (the statements written out in its view).
BASE = {
    "send": {"INSERT": 1, "COMMIT": 1},
    "open": {"SELECT": 1, "INSERT": 1, "COMMIT": 1},
    "inbox": {"SELECT": 2},
}


def engine_for(url):
    """The engine as Handover configures its own: pre-ping on checkout, and on SQLite the
    same journal and lock settings (handover/database.py)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def wanted_statements():
    """{operation: {kind: count}} from MINIMAL_STATEMENTS, BASE where not given."""
    given = json.loads(os.environ.get("MINIMAL_STATEMENTS") or "{}")
    return {name: {kind: round(count) for kind, count in given.get(name, base).items()}
            for name, base in BASE.items()}


def pad(connection, extra, item_id):
    """Statements beyond what the view writes out, ``extra`` {kind: count}."""
    for number in range(extra.get("SELECT", 0)):
        connection.execute(
            select(items.c.id, items.c.status).where(items.c.id == number + 1)).first()
    for _ in range(extra.get("INSERT", 0)):
        connection.execute(insert(views).values(item_id=item_id, at=datetime.now(UTC)))
    for _ in range(extra.get("UPDATE", 0)):
        connection.execute(update(items).where(items.c.id == item_id).values(status="read"))
    for _ in range(extra.get("DELETE", 0)):
        connection.execute(delete(views).where(views.c.id < 0))


def run_operation(engine, name, wanted, body):
    """``body(connection) -> (answer, item_id)`` padded to ``wanted`` statements of each kind,
    in as many transactions as ``wanted["COMMIT"]`` (none: a read-only connection)."""
    base = BASE[name]
    extra = {kind: max(count - base.get(kind, 0), 0) for kind, count in wanted.items()}
    commits = wanted.get("COMMIT", 0)
    for _ in range(max(commits - 1, 0)):   # e.g. Handover's session touch, in its own commit
        with engine.begin() as connection:
            if extra.get("SELECT"):
                extra["SELECT"] -= 1
                connection.execute(select(items.c.id).where(items.c.id == 1)).first()
    with (engine.begin() if commits else engine.connect()) as connection:
        answer, item_id = body(connection)
        pad(connection, extra, item_id)
    return answer


def create_app():
    app = Flask(__name__)
    engine = engine_for(os.environ["MINIMAL_DATABASE_URL"])
    wanted = wanted_statements()

    @app.post("/send")
    def send():
        def body(connection):
            inserted = connection.execute(insert(items).values(
                unit_id=int(request.form["unit"]), status="sent",
                sent_at=datetime.now(UTC), body=request.form["body"].encode()))
            new_id = inserted.inserted_primary_key[0]
            return ({"id": new_id}, 201), new_id

        return run_operation(engine, "send", wanted["send"], body)

    @app.get("/open/<int:item_id>")
    def open_item(item_id):
        def body(connection):
            row = connection.execute(select(items).where(items.c.id == item_id)).first()
            if row is None:
                abort(404)
            connection.execute(insert(views).values(item_id=item_id, at=datetime.now(UTC)))
            return {"id": row.id, "body": row.body.decode()}, item_id

        return run_operation(engine, "open", wanted["open"], body)

    @app.get("/inbox")
    def inbox():
        unit = int(request.args["unit"])

        def body(connection):
            rows = connection.execute(select(items.c.id, items.c.status).where(
                items.c.unit_id == unit).order_by(items.c.sent_at.desc()).limit(20)).all()
            total = connection.execute(select(func.count()).select_from(items).where(
                items.c.unit_id == unit)).scalar()
            return {"total": total, "items": [row.id for row in rows]}, rows[0].id if rows else 0

        return run_operation(engine, "inbox", wanted["inbox"], body)

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
