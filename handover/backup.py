"""Consistent backups of the database, with the keys kept in a separate, clearly named file.

A backup of the database alone cannot be read; the keys alone reveal nothing. Keeping them in
two files lets the operator store them in two places, which is the point.
"""

from sqlalchemy import inspect, text

from handover.extensions import db


def database_kind(app):
    """``"sqlite"`` or ``"postgresql"``: the only two databases Handover supports."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def schema_revision():
    """The Alembic revision the database is at, or None when it was never migrated."""
    if not inspect(db.engine).has_table("alembic_version"):
        return None
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
