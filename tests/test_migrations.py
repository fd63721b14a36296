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


def test_an_older_database_with_people_in_units_upgrades_keeping_them(app, database_backend):
    """Revisions 0003 and 0006 copy the users table on SQLite. With foreign keys on, dropping
    the old copy deleted the rows pointing at it (memberships and sessions cascade) or failed
    on one that did not cascade, and a failed run left a half-made table behind."""
    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
        upgrade(revision="0002")
        db.session.execute(db.text(
            "INSERT INTO units (id, name, kind, organisation, email, is_active, created_at)"
            " VALUES (1, 'Osasto 1', 'psychiatric_ward', '', '', true, CURRENT_TIMESTAMP)"))
        db.session.execute(db.text(
            "INSERT INTO users (id, email, name, password_hash, must_change_password,"
            " totp_last_step, is_admin, is_auditor, active, created_at) VALUES (1,"
            " 'nurse@example.fi', 'Nurse', 'x', false, 0, false, false, true,"
            " CURRENT_TIMESTAMP)"))
        db.session.execute(db.text(
            "INSERT INTO memberships (id, user_id, unit_id, role, created_at)"
            " VALUES (1, 1, 1, 'receiver', CURRENT_TIMESTAMP)"))
        db.session.execute(db.text(
            "INSERT INTO user_sessions (id, user_id, created_at, last_seen_at, client_address)"
            " VALUES ('s1', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '127.0.0.1')"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        upgrade()
        counts = {table: db.session.execute(db.text(f"SELECT COUNT(*) FROM {table}")).scalar()
                  for table in ("users", "memberships", "user_sessions")}
        tables = set(inspect(db.engine).get_table_names())
        db.session.remove()
        db.drop_all()
        _drop_alembic_version()
        db.create_all()
    assert counts == {"users": 1, "memberships": 1, "user_sessions": 1}
    assert not any(name.startswith("_alembic_tmp") for name in tables)
