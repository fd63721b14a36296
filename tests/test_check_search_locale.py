"""`handover check` warns an operator whose PostgreSQL database folds only A-Z: under the C
locale, the admin's and the audit log's searches by a person's name would not find "Äyräs" by
"äyräs" (`handover.store.database.folded` is the database's lower() there)."""

import uuid

import pytest
from flask_migrate import stamp, upgrade
from sqlalchemy import create_engine, text

from handover import create_app
from handover.cli import cli
from handover.store.database import db

WARNING = "searches by name fold only A-Z"


@pytest.fixture
def c_locale_database(database_backend, app_config):
    """A fresh PostgreSQL database created with LC_CTYPE C beside the test database, migrated."""
    if database_backend != "postgresql":
        pytest.skip("the locale of a PostgreSQL database")
    url = app_config["SQLALCHEMY_DATABASE_URI"]
    name = f"handover_locale_{uuid.uuid4().hex[:8]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                                "LC_COLLATE 'C' LC_CTYPE 'C'"))
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url.rsplit("/", 1)[0] + "/" + name})
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


def _check_output(app):
    try:
        return app.test_cli_runner().invoke(cli, ["check"]).output
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_c_locale_database_is_named_with_what_to_do(c_locale_database):
    with c_locale_database.app_context():
        # What the warning is about: this database's lower() leaves Ä as it is.
        assert db.session.execute(text("SELECT lower('Äyräs')")).scalar_one() == "Äyräs"
    output = _check_output(c_locale_database)
    assert f"warning: The database's LC_CTYPE is C: {WARNING}" in output
    assert "LC_CTYPE 'C.UTF-8'" in output


def test_utf8_locale_database_gets_no_warning(app, database_backend):
    if database_backend != "postgresql":
        pytest.skip("the locale of a PostgreSQL database")
    with app.app_context():
        stamp()
        folds = db.session.execute(text("SELECT lower('Äyräs')")).scalar_one() == "äyräs"
    try:
        output = _check_output(app)
    finally:
        with app.app_context():
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
    if not folds:
        pytest.skip("the test database itself folds ASCII only")
    assert "LC_CTYPE" not in output


def test_sqlite_is_not_asked_for_a_locale(app, database_backend):
    if database_backend != "sqlite":
        pytest.skip("SQLite folds with Python's str.lower")
    with app.app_context():
        stamp()
    assert "LC_CTYPE" not in _check_output(app)
