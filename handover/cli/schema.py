"""Whether the database is the one this code needs: reachable, and at the latest migration.

`handover check` reports it with its other findings, and `handover.cli.main` explains with it
any command that failed on the database: an instance not yet migrated then gets one line that
says to run `handover db upgrade`, whichever command met it, instead of a traceback.
"""

from alembic.script import ScriptDirectory
from flask_migrate import Config

from handover.services.backup import schema_revision


def head_revision(app):
    """The newest migration this code ships."""
    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config).get_current_head()


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
    if revision != head:
        return (f"The database schema is at {revision or 'no revision'}, the code expects "
                f"{head}. Run `handover db upgrade`.")
    return None
