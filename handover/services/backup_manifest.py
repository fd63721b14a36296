"""The files of a backup folder and its manifest: their names, the manifest's shape, and the
private way every file of a backup is written (mode 0600, never over an earlier one).

The manifest is what `handover restore` checks before it changes anything: the database kind,
the dump's checksum, the KEK ids the backup's records need and, since key checks were added, a
check value sealed under each of those KEKs (`backup_keys`). Older manifests lack the check
values and are still read.
"""

import hashlib
import json
import os
from typing import NotRequired, TypedDict

from flask import Flask

MANIFEST = "handover-backup-manifest.json"
KEYS_BACKUP = "handover-KEYS-store-separately.json"
DATABASE_FILES = {"sqlite": "handover-database.sqlite3", "postgresql": "handover-database.pgdump"}
FORMAT = 1


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
    #: {KEK id: a known value sealed under that KEK}, for every KEK of the key file the
    #: backup's records need. Missing in manifests written before the check existed.
    kek_checks: NotRequired[dict[str, str]]


def database_kind(app: Flask) -> str:
    """``"sqlite"`` or ``"postgresql"``: the only two databases Handover supports."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def read_manifest(source: str) -> Manifest:
    path = os.path.join(source, MANIFEST)
    if not os.path.exists(path):
        raise BackupError(f"No {MANIFEST} in {source}: not a Handover backup folder.")
    with open(path) as handle:
        manifest: Manifest = json.load(handle)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Backup format {manifest.get('format')} is not supported.")
    return manifest


def write_manifest(destination: str, manifest: Manifest) -> None:
    write_private(os.path.join(destination, MANIFEST), json.dumps(manifest, indent=2))


def private_file(path: str) -> str:
    """Create ``path`` empty with mode 0600 before a tool writes into it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    return path


def write_private(path: str, content: str) -> None:
    with open(private_file(path), "w") as handle:
        handle.write(content)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
