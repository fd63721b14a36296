"""Consistent backups of the database, with the keys kept in a separate, clearly named file.

A backup of the database alone cannot be read; the keys alone reveal nothing. Keeping them in
two files lets the operator store them in two places, which is the point.

SQLite is copied with SQLite's online backup API (a consistent copy while the server runs).
PostgreSQL is dumped with ``pg_dump --format=custom`` inside a snapshot that the manifest's counts
were taken from, so the manifest describes exactly what the dump holds.

This module copies and restores; the folder's files and manifest are `backup_manifest`, what a
database holds is `backup_facts`, and the proof that the keys open a backup is `backup_keys`.
The names other modules use are importable from here.
"""

import contextlib
import os
import sqlite3

# pg_dump/pg_restore are run with argument lists, never through a shell.
import subprocess  # nosec B404
import tempfile
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask
from sqlalchemy import inspect, literal, select, table, text
from sqlalchemy.engine import make_url

from handover.security import keys
from handover.services import backup_keys
from handover.services.backup_facts import database_facts, schema_revision
from handover.services.backup_manifest import (
    DATABASE_FILES,
    FORMAT,
    KEYS_BACKUP,
    MANIFEST,
    BackupError,
    DatabaseFacts,
    Manifest,
    database_kind,
    private_file,
    read_manifest,
    sha256,
    write_manifest,
)
from handover.store.database import db

__all__ = [
    "DATABASE_FILES", "KEYS_BACKUP", "MANIFEST", "BackupError", "DatabaseFacts", "Manifest",
    "create_backup", "database_kind", "read_manifest", "restore_backup", "schema_revision",
]


def create_backup(app: Flask, destination: str) -> Manifest:
    """Write database, key backup and manifest into the folder ``destination``; the manifest.

    A folder that cannot be made or written into is a `BackupError` naming it (this runs from
    cron, where a traceback says less than one line), and whatever this run wrote is removed
    again, the folders it made too: nothing half-written is left looking like a backup, and
    the next run into the same folder is not refused as "already holds a backup"."""
    kind = database_kind(app)
    names = (MANIFEST, KEYS_BACKUP, DATABASE_FILES[kind])
    if any(os.path.exists(os.path.join(destination, name)) for name in names):
        raise BackupError(f"{destination} already holds a backup; choose a new folder.")
    with app.app_context():
        # First, before the folder is made: a backup without its keys is worthless.
        keyring = keys.load_keyring(app)
    made = _make_folder(destination)
    try:
        return _write_backup(app, destination, kind, keyring)
    except (OSError, sqlite3.Error) as error:
        _remove_partial_backup(destination, names, made)
        raise BackupError(f"cannot write the backup file {_path_of(error, destination)}: "
                          f"{_reason(error)}. What this run wrote was removed.") from None
    except BaseException:
        _remove_partial_backup(destination, names, made)
        raise


def _make_folder(destination: str) -> list[str]:
    """Make ``destination`` (mode 0700) with its missing parents; the folders made, deepest
    first, for `_remove_partial_backup`. `BackupError` when it cannot be made."""
    missing = []
    path = os.path.abspath(destination)
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    try:
        os.makedirs(destination, mode=0o700, exist_ok=True)
    except OSError as error:
        _remove_folders(missing)
        raise BackupError(f"cannot create the backup folder {destination}: "
                          f"{_reason(error)}") from None
    return missing


def _write_backup(app: Flask, destination: str, kind: str, keyring: dict) -> Manifest:
    database_path = os.path.join(destination, DATABASE_FILES[kind])
    with app.app_context():
        if kind == "sqlite":
            facts = _backup_sqlite(database_path)
        else:
            facts = _backup_postgresql(app, database_path)
    keys.write_key_file(os.path.join(destination, KEYS_BACKUP), keyring, exclusive=True)
    manifest: Manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "database_file": DATABASE_FILES[kind],
        "database_sha256": sha256(database_path),
        "keys_file": KEYS_BACKUP,
        **facts,
        "kek_checks": backup_keys.kek_checks(keyring, facts["kek_ids"]),
        "identity_key_check": backup_keys.identity_key_check(keyring),
    }
    write_manifest(destination, manifest)
    return manifest


def _remove_partial_backup(destination: str, names: tuple[str, ...], made: list[str]) -> None:
    """Remove the backup's files (none was there before this run: it refuses a folder holding
    one) and the folders this run made; what cannot be removed stays, without a manifest."""
    for name in names:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(destination, name))
    _remove_folders(made)


def _remove_folders(folders: list[str]) -> None:
    """Remove the (empty) folders, deepest first; one holding anything else stays."""
    for folder in folders:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _reason(error: OSError | sqlite3.Error) -> str:
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def _path_of(error: OSError | sqlite3.Error, fallback: str) -> str:
    filename = error.filename if isinstance(error, OSError) else None
    return str(filename) if filename else fallback


def _backup_sqlite(target_path: str) -> DatabaseFacts:
    source = db.engine.raw_connection()
    try:
        target = sqlite3.connect(private_file(target_path))
        try:
            # The sqlite dialect's driver connection is the sqlite3 module's.
            cast(sqlite3.Connection, source.driver_connection).backup(target)
            facts = database_facts(target)
        finally:
            target.close()
    finally:
        source.close()
    return facts


def _backup_postgresql(app: Flask, target_path: str) -> DatabaseFacts:
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            facts = database_facts(connection)
            _run(app, "pg_dump", "--format=custom", f"--snapshot={snapshot}",
                 f"--file={private_file(target_path)}")
    return facts


def restore_backup(app: Flask, source: str, *, force: bool = False,
                   keys_path: str | None = None) -> tuple[Manifest, DatabaseFacts]:
    """Bring the backup in ``source`` back into ``app``'s database (and keys from ``keys_path``).

    Refuses a database that holds rows unless ``force``: a restore replaces everything in it.
    Refuses, before anything changes, when the keys in use afterwards lack a KEK the backup
    needs or hold it with other key bytes. Returns the manifest and the facts read back from
    the restored database.
    """
    try:
        manifest, database_path, keyring = _checked_backup(app, source, keys_path)
    except OSError as error:   # a folder or file the service user may not read, for one
        raise BackupError(f"cannot read the backup file {_path_of(error, source)}: "
                          f"{_reason(error)}. Nothing was changed.") from None
    kind = manifest["database"]   # the instance's own: `_checked_backup` refuses another
    with app.app_context():
        if not force and _holds_rows():
            raise BackupError("The database is not empty; a restore would replace it. "
                              "Use --force if that is what you want.")
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            _restore_sqlite(database_path, db.engine.url.database)
        else:
            _restore_postgresql(app, database_path)
        db.engine.dispose()
        with db.engine.connect() as connection:
            restored = database_facts(connection)
    if keyring is not None:
        backup_keys.install_keyring(app, keyring)
    return manifest, restored


def _checked_backup(app: Flask, source: str, keys_path: str | None
                    ) -> tuple[Manifest, str, dict[str, Any] | None]:
    """The manifest, database copy and key backup of ``source``, each checked before a restore
    changes anything; `BackupError` for what the operator must correct."""
    manifest = read_manifest(source)
    kind = database_kind(app)
    if manifest["database"] != kind:
        raise BackupError(f"The backup is of a {manifest['database']} database; this instance "
                          f"uses {kind}. Restore into a {manifest['database']} database.")
    database_path = os.path.join(source, manifest["database_file"])
    if sha256(database_path) != manifest["database_sha256"]:
        raise BackupError(f"{database_path} does not match the manifest: the copy is damaged.")
    keyring = backup_keys.read_key_backup(keys_path) if keys_path else None
    if keyring is not None and keys.keys_from_environment(app):
        raise BackupError("This instance takes its keys from HANDOVER_KEYS: put the key backup "
                          "into your secret store instead, and restore without keys.")
    backup_keys.refuse_unusable_keys(app, manifest, database_path, keyring, keys_path)
    return manifest, database_path, keyring


def _holds_rows() -> bool:
    for name in inspect(db.engine).get_table_names():
        if name == "alembic_version":
            continue
        if db.session.execute(select(literal(1)).select_from(table(name)).limit(1)).first():
            db.session.rollback()
            return True
    db.session.rollback()
    return False


def _restore_sqlite(backup_path: str, target_path: str | None) -> None:
    if not target_path:   # "sqlite://": each connection has a database of its own
        raise BackupError("An in-memory SQLite database cannot be restored into; configure a "
                          "database file (HANDOVER_DATABASE_URL).")
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


#: PostgreSQL's client programs, found on the PATH as the operator's shell finds them.
PG_RESTORE, PSQL = "pg_restore", "psql"


def _restore_postgresql(app: Flask, dump_path: str) -> None:
    """Replace every table of the database by the dump's, in one transaction: psql drops the
    tables the database holds now, then runs the dump as pg_restore writes it out (with its
    own clean-up of the other objects, the audit log's trigger functions). pg_restore's
    --clean alone drops only what the dump holds, so a table a later migration added (one whose
    foreign keys need the users' key) blocked restoring an older backup into an instance at
    a newer schema, the instance `handover init` makes included. `BackupError` with the
    program's message when either fails; nothing is then changed."""
    quote = db.engine.dialect.identifier_preparer.quote
    tables = inspect(db.engine).get_table_names()
    drop = (f"DROP TABLE IF EXISTS {', '.join(quote(name) for name in tables)} CASCADE"
            if tables else "SELECT 1")
    libpq_url, environment = _connection(app)
    # Fixed program names and argument lists: nothing is parsed by a shell. The script is
    # written out whole (to a folder only this user may read) before psql runs any of it: a
    # damaged dump that pg_restore gives up on half-way must not be committed half-way.
    with tempfile.TemporaryDirectory(prefix="handover-restore-") as folder:
        script = os.path.join(folder, "restore.sql")
        written = subprocess.run(  # noqa: S603 # nosec B603
            [PG_RESTORE, "--clean", "--if-exists", "--no-owner", "--no-acl",
             f"--file={script}", dump_path],
            env=environment, capture_output=True, text=True, check=False)
        if written.returncode != 0:
            raise BackupError(f"pg_restore failed: {written.stderr.strip()}")
        loaded = subprocess.run(  # noqa: S603 # nosec B603
            [PSQL, f"--dbname={libpq_url}", "--no-psqlrc", "--quiet",
             "--set=ON_ERROR_STOP=1", "--single-transaction", f"--command={drop}",
             f"--file={script}"],
            env=environment, capture_output=True, text=True, check=False)
    if loaded.returncode != 0:
        raise BackupError(f"psql failed: {loaded.stderr.strip()}")


def _connection(app: Flask) -> tuple[str, dict[str, str]]:
    """(libpq URL without the password, the environment that gives it) of the database."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    return url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False), environment


def _run(app: Flask, program: str, *arguments: str) -> None:
    """Run ``pg_dump`` against the configured database, password via env."""
    libpq_url, environment = _connection(app)
    # Fixed program name and an argument list: nothing is parsed by a shell.
    completed = subprocess.run(  # noqa: S603 # nosec B603
        [program, f"--dbname={libpq_url}", *arguments],
        env=environment, capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise BackupError(f"{program} failed: {completed.stderr.strip()}")
