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
        context.configure(connection=connection, target_metadata=target_db.metadata, **options)
        try:
            with context.begin_transaction():
                context.run_migrations()
        finally:
            _enforce_foreign_keys_again(connection)


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
