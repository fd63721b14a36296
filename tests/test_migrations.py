"""Schema changes go only through Alembic: the migrated schema must equal the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from handover.store.database import db


def test_migrated_schema_matches_the_models(app, database_backend):
    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], differences
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()


def _drop_alembic_version():
    with db.engine.begin() as connection:
        connection.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
