"""Whether the database is the one this code needs: reachable, and at the latest migration.

`handover check` reports it with its other findings, and `handover.cli.main` explains with it
any command that failed on the database: an instance not yet migrated then gets one line that
says to run `handover db upgrade`, whichever command met it, instead of a traceback.
"""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handover.services.backup import schema_revision
from handover.services.backup_facts import head_revision, known_revision
from handover.store.database import db


def schema_problem(app):
    """One line on what keeps the database from serving this code, or None when it is
    reachable and at the latest migration."""
    with app.app_context():
        try:
            revision = schema_revision()
        except Exception as error:  # whatever the driver raises, the database is not usable
            return (f"The database cannot be reached ({error.__class__.__name__}). "
                    "Check HANDOVER_DATABASE_URL and that the server runs.")
    head = head_revision(app)
    if revision is not None and revision != head and not known_revision(app, revision):
        # Upgrading cannot help: `db upgrade` would not find the revision.
        return (f"The database schema is at {revision}, newer than this code knows (it "
                f"expects {head}): run the release that migrated it, or, to go back to this "
                f"one, run `handover db downgrade {head}` with that newer release first.")
    if revision != head:
        return (f"The database schema is at {revision or 'no revision'}, the code expects "
                f"{head}. Run `handover db upgrade`.")
    return None


def schema_differences(app):
    """What of the tables and columns this code declares the database lacks or has otherwise
    (``[]`` when none): its revision says which migrations ran, not what they did. A database
    migrated while a revision still read otherwise (before it was corrected) reaches the same
    revision without its tables, and failed at the first login."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": _declared_or_missing})
        return [_described(change) for change in compare_metadata(context, db.metadata)]


def _declared_or_missing(_object, _name, type_, reflected, compare_to):
    """Compare what the code declares; a table or index the database has beside them (an
    extension's, a DBA's index for a report) is none of its business."""
    return not (reflected and compare_to is None and type_ in ("table", "index"))


#: A difference's kind in words.
_WORDS = {"add_table": "missing table", "add_column": "missing column",
          "remove_column": "column not declared", "add_index": "missing index",
          "add_constraint": "missing constraint", "remove_constraint": "constraint not declared",
          "add_fk": "missing foreign key", "remove_fk": "foreign key not declared",
          "modify_type": "column of another type",
          "modify_nullable": "column with another NULL rule"}


def _described(change):
    """One difference in words: "missing table oidc_identities", "missing column
    users.password_login", "missing foreign key memberships(unit_id)" ..."""
    step = change[0] if isinstance(change, list) else change
    kind, *parts = step
    words = _WORDS.get(kind, kind.replace("_", " "))
    if kind in ("add_column", "remove_column"):
        return f"{words} {parts[1]}.{parts[2].name}"
    if kind.startswith("modify"):
        return f"{words} {parts[1]}.{parts[2]}"
    thing = parts[0]
    table = getattr(getattr(thing, "table", None), "name", None)
    if table is not None and hasattr(thing, "columns"):   # an index or a constraint
        return f"{words} {table}({', '.join(column.name for column in thing.columns)})"
    return f"{words} {getattr(thing, 'name', thing)}"
