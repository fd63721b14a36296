"""The benchmark's yardstick: a minimal Flask app on the same database doing the inserts and
selects Handover's send, open and inbox do, without login, access checks, encryption or audit
chain. Run as ``gunicorn 'minimal_app:create_app()'`` with MINIMAL_DATABASE_URL set.

MINIMAL_EXTRA_SELECTS ("send=13,open=13,inbox=10") adds that many primary-key SELECTs to each
operation, in its transaction, so that the yardstick issues as many statements as Handover
does (bench/profile_views.py counts them); unset, each operation is one or two statements."""

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
    func,
    insert,
    select,
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


def engine_for(url):
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)


def extra_selects():
    setting = os.environ.get("MINIMAL_EXTRA_SELECTS", "")
    pairs = (part.split("=") for part in setting.split(",") if part)
    return {name.strip(): int(count) for name, count in pairs}


def pad(connection, count):
    """``count`` cheap indexed reads, like the session, user, unit and routing look-ups."""
    for number in range(count):
        connection.execute(
            select(items.c.id, items.c.status).where(items.c.id == number + 1)).first()


def create_app():
    app = Flask(__name__)
    engine = engine_for(os.environ["MINIMAL_DATABASE_URL"])
    extra = extra_selects()

    @app.post("/send")
    def send():
        with engine.begin() as connection:
            pad(connection, extra.get("send", 0))
            inserted = connection.execute(insert(items).values(
                unit_id=int(request.form["unit"]), status="sent",
                sent_at=datetime.now(UTC), body=request.form["body"].encode()))
            new_id = inserted.inserted_primary_key[0]
        return {"id": new_id}, 201

    @app.get("/open/<int:item_id>")
    def open_item(item_id):
        with engine.begin() as connection:
            pad(connection, extra.get("open", 0))
            row = connection.execute(select(items).where(items.c.id == item_id)).first()
            if row is None:
                abort(404)
            connection.execute(insert(views).values(item_id=item_id, at=datetime.now(UTC)))
        return {"id": row.id, "body": row.body.decode()}

    @app.get("/inbox")
    def inbox():
        unit = int(request.args["unit"])
        with engine.connect() as connection:
            pad(connection, extra.get("inbox", 0))
            rows = connection.execute(select(items.c.id, items.c.status).where(
                items.c.unit_id == unit).order_by(items.c.sent_at.desc()).limit(20)).all()
            total = connection.execute(select(func.count()).select_from(items).where(
                items.c.unit_id == unit)).scalar()
        return {"total": total, "items": [row.id for row in rows]}

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
