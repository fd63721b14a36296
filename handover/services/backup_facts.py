"""What a database holds, read the same way from the live database, a backup's own copy and a
restored database: schema revision, handover counts by status, the KEK ids in use, and the
newest audit event.

A backup writes these into its manifest and a restore reads them back, so a restore that lost
rows is noticed, and so a restore can refuse keys that lack a KEK the records need.
"""

import sqlite3
from collections.abc import Callable
from typing import Any

from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.orm import Session

from handover.security import crypto
from handover.services.backup_manifest import DatabaseFacts
from handover.store.database import db

#: Secrets sealed straight under a KEK, outside any handover (users' two-factor secrets,
#: webhook signing secrets): their KEKs are in use too, and the manifest names them.
SEALED_SECRETS = (
    ("users", "SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL"),
    ("webhook_endpoints", "SELECT secret FROM webhook_endpoints WHERE secret IS NOT NULL"),
)

#: A raw SQLite connection (the backup's own file) or one of SQLAlchemy's.
AnyConnection = sqlite3.Connection | Connection


def head_revision(app: Flask) -> str | None:
    """The newest migration this code ships (read once per app: the code does not change
    under it)."""
    if "handover_schema_head" not in app.extensions:
        app.extensions["handover_schema_head"] = _migrations(app).get_current_head()
    return app.extensions["handover_schema_head"]


def known_revision(app: Flask, revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (not a later release's)."""
    return any(script.revision == revision for script in _migrations(app).walk_revisions())


def _migrations(app: Flask) -> ScriptDirectory:
    """The migrations this code ships (Flask-Migrate's folder of them)."""
    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


def schema_revision(connection: Session | None = None) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    session = connection or db.session
    if not inspect(session.get_bind()).has_table("alembic_version"):
        return None
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def database_facts(connection: AnyConnection) -> DatabaseFacts:
    """Schema revision, handover counts and KEK ids in use (by handovers' data keys and by
    sealed secrets), read from ``connection``."""
    execute = executor(connection)
    tables = set(table_names(connection))
    revision = (execute("SELECT version_num FROM alembic_version")[0][0]
                if "alembic_version" in tables else None)
    by_status: dict[str, int] = {}
    kek_ids: set[str] = set()
    if "handovers" in tables:
        by_status = dict(execute("SELECT status, COUNT(*) FROM handovers GROUP BY status"))
        kek_ids.update(row[0] for row in execute(
            "SELECT DISTINCT kek_id FROM handovers WHERE kek_id IS NOT NULL"))
    for table_name, query in SEALED_SECRETS:
        if table_name in tables:
            kek_ids.update(kek_id for (stored,) in execute(query)
                           if (kek_id := crypto.account_secret_kek(stored)))
    return {
        "schema_revision": revision,
        "handovers": {"total": sum(by_status.values()), "by_status": by_status},
        "kek_ids": sorted(kek_ids),
        "audit_newest_id": newest_audit_event(connection),
    }


def newest_audit_event(connection: AnyConnection) -> int | None:
    """The id of the newest audit event in ``connection``'s database (None for none, or no
    audit table): a restore rolls the audit log back to the backup's, and the operator is told
    how far (the log writes no event of its own for a backup or a restore)."""
    if "audit_events" not in table_names(connection):
        return None
    newest = executor(connection)("SELECT MAX(id) FROM audit_events")[0][0]
    return int(newest) if newest is not None else None


def executor(connection: AnyConnection) -> Callable[[str], list[tuple[Any, ...]]]:
    if isinstance(connection, sqlite3.Connection):
        return lambda sql: connection.execute(sql).fetchall()
    return lambda sql: [tuple(row) for row in connection.execute(text(sql))]


def table_names(connection: AnyConnection) -> list[str]:
    if isinstance(connection, sqlite3.Connection):
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [row[0] for row in rows]
    return inspect(connection).get_table_names()
