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
from typing import Any, NotRequired, TypedDict, cast

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
    #: The id of the newest audit event (None for an empty log): a restore brings the log back
    #: to it, and says how many newer events the replaced database had. Missing in manifests
    #: written before it was recorded.
    audit_newest_id: NotRequired[int | None]


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
    #: A fingerprint of the identity-code key (`backup_keys.identity_key_check`). Missing in
    #: manifests written before it was recorded.
    identity_key_check: NotRequired[str]


def database_kind(app: Flask) -> str:
    """``"sqlite"`` or ``"postgresql"``: the only two databases Handover supports."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def read_manifest(source: str) -> Manifest:
    """The manifest of the backup folder ``source``, checked for everything a restore reads
    from it: `BackupError`, before anything is changed, when it is missing, damaged or of
    another format, or the database copy it names is not in the folder; `OSError` when it
    cannot be read."""
    path = os.path.join(source, MANIFEST)
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise BackupError(f"No {MANIFEST} in {source}: not a Handover backup folder.") from None
    except ValueError as error:  # not UTF-8, not JSON
        raise _invalid(path, f"{type(error).__name__}: {error}") from None
    # Any other OSError (a folder the service user may not read) is the caller's to word.
    if not isinstance(manifest, dict):
        raise _invalid(path, f"a JSON object was expected, not {type(manifest).__name__}")
    if type(manifest.get("format")) is not int:
        raise _invalid(path, "'format' must be a number")
    if manifest["format"] != FORMAT:
        raise BackupError(f"Backup format {manifest['format']} is not supported.")
    problems = _manifest_problems(manifest)
    if problems:
        raise _invalid(path, "; ".join(problems))
    if not os.path.isfile(os.path.join(source, manifest["database_file"])):
        raise BackupError(f"No {manifest['database_file']} in {source}: the backup is "
                          "incomplete. Nothing was changed.")
    return cast(Manifest, manifest)


def _invalid(path: str, reason: str) -> BackupError:
    return BackupError(f"{path} is not a valid Handover backup manifest: {reason}. "
                       "Nothing was changed.")


def _manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """What a restore needs of a manifest and this one lacks, in words."""
    problems = []
    for key in ("created_at", "database", "database_file", "database_sha256"):
        if not isinstance(manifest.get(key), str):
            problems.append(f"{key!r} must be a text")
    if isinstance(manifest.get("database"), str) and manifest["database"] not in DATABASE_FILES:
        problems.append(f"'database' must be one of {', '.join(DATABASE_FILES)}")
    name = manifest.get("database_file")
    if isinstance(name, str) and (name in ("", ".", "..") or os.path.basename(name) != name):
        problems.append("'database_file' must name a file in the backup folder")
    revision = manifest.get("schema_revision")
    if revision is not None and not isinstance(revision, str):
        problems.append("'schema_revision' must be a text or null")
    counts = manifest.get("handovers")
    if not (isinstance(counts, dict) and type(counts.get("total")) is int
            and isinstance(counts.get("by_status"), dict)):
        problems.append("'handovers' must hold the counts 'total' and 'by_status'")
    kek_ids = manifest.get("kek_ids", [])
    if not (isinstance(kek_ids, list) and all(isinstance(kek, str) for kek in kek_ids)):
        problems.append("'kek_ids' must be a list of key ids")
    checks = manifest.get("kek_checks", {})
    if not (isinstance(checks, dict) and all(isinstance(check, str)
                                             for check in checks.values())):
        problems.append("'kek_checks' must map key ids to check values")
    if not isinstance(manifest.get("identity_key_check", ""), str):
        problems.append("'identity_key_check' must be a text")
    return problems


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
