"""Consistent backups of the database, with the keys kept in a separate, clearly named file.

A backup of the database alone cannot be read; the keys alone reveal nothing. Keeping them in
two files lets the operator store them in two places, which is the point.

SQLite is copied with SQLite's online backup API (a consistent copy while the server runs).
PostgreSQL is dumped with ``pg_dump --format=custom`` inside a snapshot that the manifest's counts
were taken from, so the manifest describes exactly what the dump holds.
"""

import hashlib
import json
import os
import sqlite3

# pg_dump/pg_restore are run with argument lists, never through a shell.
import subprocess  # nosec B404
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

from flask import Flask
from sqlalchemy import Connection, inspect, literal, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from handover.config import ConfigurationError
from handover.security import crypto, key_backends, keys
from handover.store.database import db

MANIFEST = "handover-backup-manifest.json"
KEYS_BACKUP = "handover-KEYS-store-separately.json"
DATABASE_FILES = {"sqlite": "handover-database.sqlite3", "postgresql": "handover-database.pgdump"}
FORMAT = 1
#: Secrets sealed straight under a KEK, outside any handover (users' two-factor secrets,
#: webhook signing secrets): their KEKs are in use too, and the manifest names them.
SEALED_SECRETS = (
    ("users", "SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL"),
    ("webhook_endpoints", "SELECT secret FROM webhook_endpoints WHERE secret IS NOT NULL"),
)


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says what to do."""


class HandoverCounts(TypedDict):
    total: int
    by_status: dict[str, int]


class DatabaseFacts(TypedDict):
    """What a database holds, read from it: compared between the manifest and a restore."""

    schema_revision: str | None
    handovers: HandoverCounts
    kek_ids: list[str]


class Manifest(DatabaseFacts):
    """``handover-backup-manifest.json``: what the backup folder holds."""

    format: int
    created_at: str
    database: str
    database_file: str
    database_sha256: str
    keys_file: str


#: A raw SQLite connection (the backup's own file) or one of SQLAlchemy's.
AnyConnection = sqlite3.Connection | Connection


def database_kind(app: Flask) -> str:
    """``"sqlite"`` or ``"postgresql"``: the only two databases Handover supports."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def schema_revision(connection: Session | None = None) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    session = connection or db.session
    if not inspect(session.get_bind()).has_table("alembic_version"):
        return None
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def create_backup(app: Flask, destination: str) -> Manifest:
    """Write database, key backup and manifest into the folder ``destination``; the manifest."""
    kind = database_kind(app)
    database_path = os.path.join(destination, DATABASE_FILES[kind])
    names = (MANIFEST, KEYS_BACKUP, DATABASE_FILES[kind])
    if any(os.path.exists(os.path.join(destination, name)) for name in names):
        raise BackupError(f"{destination} already holds a backup; choose a new folder.")
    with app.app_context():
        # First, before the folder is made: a backup without its keys is worthless.
        keyring = keys.load_keyring(app)
        os.makedirs(destination, mode=0o700, exist_ok=True)
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
        "database_sha256": _sha256(database_path),
        "keys_file": KEYS_BACKUP,
        **facts,
    }
    _write_private(os.path.join(destination, MANIFEST), json.dumps(manifest, indent=2))
    return manifest


def _backup_sqlite(target_path: str) -> DatabaseFacts:
    source = db.engine.raw_connection()
    try:
        target = sqlite3.connect(_private_file(target_path))
        try:
            # The sqlite dialect's driver connection is the sqlite3 module's.
            cast(sqlite3.Connection, source.driver_connection).backup(target)
            facts = _facts(target)
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
            facts = _facts(connection)
            _run(app, "pg_dump", "--format=custom", f"--snapshot={snapshot}",
                 f"--file={_private_file(target_path)}")
    return facts


def _facts(connection: AnyConnection) -> DatabaseFacts:
    """Schema revision, handover counts and KEK ids in use (by handovers' data keys and by
    sealed secrets), read from ``connection``."""
    execute = _executor(connection)
    tables = set(_table_names(connection))
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
    }


def _executor(connection: AnyConnection) -> Callable[[str], list[tuple[Any, ...]]]:
    if isinstance(connection, sqlite3.Connection):
        return lambda sql: connection.execute(sql).fetchall()
    return lambda sql: [tuple(row) for row in connection.execute(text(sql))]


def _table_names(connection: AnyConnection) -> list[str]:
    if isinstance(connection, sqlite3.Connection):
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [row[0] for row in rows]
    return inspect(connection).get_table_names()


def read_manifest(source: str) -> Manifest:
    path = os.path.join(source, MANIFEST)
    if not os.path.exists(path):
        raise BackupError(f"No {MANIFEST} in {source}: not a Handover backup folder.")
    with open(path) as handle:
        manifest: Manifest = json.load(handle)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Backup format {manifest.get('format')} is not supported.")
    return manifest


def restore_backup(app: Flask, source: str, *, force: bool = False,
                   keys_path: str | None = None) -> tuple[Manifest, DatabaseFacts]:
    """Bring the backup in ``source`` back into ``app``'s database (and keys from ``keys_path``).

    Refuses a database that holds rows unless ``force``: a restore replaces everything in it.
    Refuses, before anything changes, when the keys in use afterwards lack a KEK the backup
    needs. Returns the manifest and the facts read back from the restored database.
    """
    manifest = read_manifest(source)
    kind = database_kind(app)
    if manifest["database"] != kind:
        raise BackupError(f"The backup is of a {manifest['database']} database; this instance "
                          f"uses {kind}. Restore into a {manifest['database']} database.")
    database_path = os.path.join(source, manifest["database_file"])
    if _sha256(database_path) != manifest["database_sha256"]:
        raise BackupError(f"{database_path} does not match the manifest: the copy is damaged.")
    keyring = _read_key_backup(keys_path) if keys_path else None
    if keyring is not None and keys.keys_from_environment(app):
        raise BackupError("This instance takes its keys from HANDOVER_KEYS: put the key backup "
                          "into your secret store instead, and restore without keys.")
    _refuse_missing_keys(app, manifest, keyring, keys_path)
    with app.app_context():
        if not force and _holds_rows():
            raise BackupError("The database is not empty; a restore would replace it. "
                              "Use --force if that is what you want.")
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            _restore_sqlite(database_path, db.engine.url.database)
        else:
            _run(app, "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl",
                 "--single-transaction", "--exit-on-error", database_path)
        db.engine.dispose()
        with db.engine.connect() as connection:
            restored = _facts(connection)
    if keyring is not None:
        _install_keyring(app, keyring)
    return manifest, restored


def _refuse_missing_keys(app: Flask, manifest: Manifest, keyring: dict[str, Any] | None,
                         keys_path: str | None) -> None:
    """Refuse when the keys in use after the restore (the key backup given, else the
    instance's own) lack a KEK the backup's records are sealed with: the restore would go
    through, and then no handover and no two-factor secret would open."""
    needed = set(manifest.get("kek_ids") or ())
    if not needed:
        return
    if keyring is None:
        try:
            keyring = keys.load_keyring(app)
        except ConfigurationError as error:
            raise BackupError(f"This instance's keys cannot be read: {error} Restore with the "
                              "backup's keys: --with-keys, or --keys FILE.") from None
    missing = [kek_id for kek_id in sorted(needed - set(keyring["keks"]))
               if not _held_by_another_backend(app, kek_id)]
    if not missing:
        return
    if keys_path:
        holder = f"The key backup {keys_path} does not hold"
        advice = "Give the key backup made together with this database backup."
    elif keys.keys_from_environment(app):
        holder = "HANDOVER_KEYS does not hold"
        advice = "Put the key backup made with it into your secret store first."
    else:
        holder = f"This instance's key file {app.config['KEYS_FILE']} does not hold"
        advice = "Restore with the backup's keys: --with-keys, or --keys FILE if kept apart."
    raise BackupError(f"{holder} {', '.join(missing)}, which the backup's handovers and "
                      "two-factor secrets are sealed with: after this restore none of them "
                      "would open, and nobody could sign in with two-factor authentication. "
                      f"Nothing was changed. {advice}")


def _held_by_another_backend(app: Flask, kek_id: str) -> bool:
    """Whether a KEK the key file does not hold is in another key backend (an HSM), which a
    restore neither brings nor changes."""
    with app.app_context():
        try:
            _active, readers = key_backends.backends(app)
            for backend in readers:
                if backend.prefix and backend.owns(kek_id):
                    return kek_id in backend.kek_ids()
        except (key_backends.KeyBackendUnavailable, ConfigurationError) as error:
            raise BackupError(f"The key backend that holds {kek_id} cannot be asked: {error}"
                              ) from None
    return False


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


def _read_key_backup(path: str) -> dict[str, Any]:
    """The keyring in ``path``, checked by the key module before anything is overwritten."""
    with open(path) as handle:
        content = handle.read()
    try:
        keyring: dict[str, Any] = keys.checked_keyring(content)
    except ConfigurationError as error:
        raise BackupError(f"{path} is not a usable key backup: {error}") from None
    return keyring


def _install_keyring(app: Flask, keyring: dict[str, Any]) -> None:
    """Write the restored keyring as the instance's key file.

    Only reached once the database has been replaced, so the keys it had protect nothing any
    more; they are still kept beside the new file, because a key is never destroyed silently.
    """
    path = app.config["KEYS_FILE"]
    if os.path.exists(path):
        if keys.load_keyring(app) == keyring:
            return
        os.replace(path, f"{path}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%S}")
    keys.write_key_file(path, keyring)


def _run(app: Flask, program: str, *arguments: str) -> None:
    """Run ``pg_dump``/``pg_restore`` against the configured database, password via env."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    libpq_url = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    # Fixed program name and an argument list: nothing is parsed by a shell.
    completed = subprocess.run(  # noqa: S603 # nosec B603
        [program, f"--dbname={libpq_url}", *arguments],
        env=environment, capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise BackupError(f"{program} failed: {completed.stderr.strip()}")


def _private_file(path: str) -> str:
    """Create ``path`` empty with mode 0600 before a tool writes into it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    return path


def _write_private(path: str, content: str) -> None:
    with open(_private_file(path), "w") as handle:
        handle.write(content)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
