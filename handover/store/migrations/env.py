"""Alembic environment: runs inside the Flask app, on the app's engine and models."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def run_migrations_offline():
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty_autogenerate(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    options.setdefault("compare_type", True)
    with target_db.engine.connect() as connection:
        _without_foreign_keys(connection)
        context.configure(connection=connection, target_metadata=target_db.metadata, **options)
        try:
            with context.begin_transaction():
                context.run_migrations()
            _check_foreign_keys(connection)
        finally:
            _enforce_foreign_keys_again(connection)


def _without_foreign_keys(connection):
    """SQLite changes a column by copying its table and dropping the old one (Alembic's batch
    mode). With foreign keys on, that drop deletes the old table's rows first, and with them
    every row pointing at them that cascades (dropping ``users`` took every membership and
    session with it) or fails on one that does not. So a migration on SQLite runs with them
    off, as SQLite's own procedure for altering tables says; the pragma takes effect only
    outside a transaction, so it comes first, and `_check_foreign_keys` checks what the
    revisions left before they are turned on again."""
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()


def _check_foreign_keys(connection):
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    connection.rollback()
    if broken:
        raise RuntimeError("The migration left rows whose foreign keys point nowhere (table, "
                           f"row, parent): {[tuple(row[:3]) for row in broken[:20]]}")


def _enforce_foreign_keys_again(connection):
    """A revision that copies SQLite tables turns foreign keys off for the copy (0013), which
    only takes effect outside a transaction and so cannot be undone inside its own; the
    connection goes back to the pool, where every connection enforces them."""
    if connection.dialect.name != "sqlite":
        return
    if connection.in_transaction():
        connection.rollback()   # each revision committed its own work; nothing is pending
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
