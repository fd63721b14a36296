"""The database: the Flask-SQLAlchemy and Flask-Migrate extensions, unbound until `create_app`
binds them, and the engine settings that must hold on every connection."""

import os
import sqlite3
from typing import Any

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement


class Base(DeclarativeBase):
    """Declarative base for every Handover model (SQLAlchemy 2 style)."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """WAL lets readers work while one writer commits; the busy timeout makes a second writer
    wait instead of failing with 'database is locked'; SQLite leaves foreign keys off unless asked;
    `folded` needs `SQLITE_LOWER`.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    _make_private(cursor)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    dbapi_connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)


#: The name `folded` calls on SQLite: Python's ``str.lower``, registered on every connection.
SQLITE_LOWER = "handover_lower"


def _lower(value):
    return value.lower() if isinstance(value, str) else value


class folded(FunctionElement[str]):   # lower case: used as an SQL function, as func.lower
    """``lower(expression)`` that folds every letter on both databases, for searches by name
    (ä finds "Äänekosken …"): compare it with the words typed lower-cased by Python.

    Why a function of our own: SQLite's built-in lower() folds ASCII letters only, while
    PostgreSQL's folds every letter (by the database's LC_CTYPE; any UTF-8 one does), so the
    same search found "Äänekosken …" on one database and not on the other. A person's name
    has no folded copy stored beside it to compare with instead (a unit's has: ``name_key``).
    On SQLite this compiles to `SQLITE_LOWER`, Python's ``str.lower`` registered on each
    connection as deterministic (the same answer for the same text, which SQLite requires of a
    function in an index and may assume in planning); elsewhere to lower(). SQLite's own
    lower() is left as it is: replacing a built-in would surprise the next reader."""

    type = String()
    name = "folded"
    inherit_cache = True


@compiles(folded)
def _folded_by_the_database(element: folded, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _folded_on_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"


#: What SQLite keeps beside the database file in WAL mode; it holds recent writes in full.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _make_private(cursor):
    """Give the database file mode 0600 before SQLite writes a byte into it, and tighten one
    left readable by an older version. SQLite creates ``-wal`` and ``-shm`` with the mode of
    the database file, so they follow. Like ``config.py`` and ``keys.json``: the database
    holds password hashes and sealed content, and is nobody else's to read.

    Only ``chmod``, never an ``open`` of the file: this runs while the process holds other
    connections to the database, and closing any descriptor of a file drops every POSIX lock
    the process holds on it. Another process then took itself for the last user and deleted
    the ``-wal`` and ``-shm`` under the running server. The file exists here, empty when new:
    ``sqlite3.connect`` creates it."""
    path = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"),
                "")
    if path:  # else in memory, or a temporary database
        tighten_to_owner(path)


def tighten_to_owner(path):
    """``chmod 600`` the SQLite file at ``path`` and its companions where others could read
    them, without opening any of them (see `_make_private`)."""
    for suffix in SQLITE_COMPANIONS:
        try:
            if os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, 0o600)
        except OSError:
            pass  # absent, or not ours to change (a read-only copy): `handover check` reports it


#: True when the PostgreSQL transaction has written nothing: a transaction is given an id at
#: its first change, not before.
_NOTHING_WRITTEN = text("SELECT txid_current_if_assigned() IS NULL")


def end_read_only_transaction(session):
    """Commit the session's open PostgreSQL transaction when it has changed nothing (nothing
    pending in the session, no row written), for the end of a request, whose teardown would
    otherwise roll it back. Returns whether it committed.

    A commit and a rollback of a transaction that changed nothing leave the same database.
    They differ in the driver: psycopg forgets every statement it has prepared on the
    connection at a ROLLBACK (the server may have lost objects they name), so a page that
    read after its last commit (the inbox, a preview) made the next requests on that
    connection parse and plan each of their statements again. The question costs the round
    trip that the rollback took. What the request loaded is not expired (the caller may keep
    it). SQLite keeps its statements through a rollback, and is left to it."""
    if (session.get_bind().dialect.name != "postgresql" or not session.in_transaction()
            or session.new or session.dirty or session.deleted):
        return False
    if not session.connection().scalar(_NOTHING_WRITTEN):
        return False
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    return True
