"""The keys a backup needs, and the proof that the keys a restore would leave in use open it.

Comparing KEK ids is not enough: a key file can hold a KEK under the backup's id with other key
bytes (written by hand, or another instance's secret store), and a restore onto it would go
through and leave nothing readable. So a backup seals a known value under each KEK of the key
file that its records need and writes it into the manifest (``kek_checks``); a restore opens
those with the keys it would leave in use and refuses, before anything changes, when one does
not open. A manifest from before the check values is still read: a SQLite backup is then
proved by opening one of its own records; a PostgreSQL dump cannot be read before it is
restored, so it gets the comparison of ids alone.

The identity-code key is proved the same way (``identity_key_check``): with the KEKs in an HSM
the key file holds little else, and a restore onto a fresh instance's key file would find every
KEK and still leave identity-code look-ups, the child's access report and the audit chain's
verification failing for every record of the backup.
"""

import base64
import binascii
import hmac
import json
import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from handover.config import ConfigurationError
from handover.security import crypto, key_backends, keys
from handover.services import sealed_secrets
from handover.services.backup_facts import table_names
from handover.services.backup_manifest import BackupError, Manifest

#: What each check value opens to; the associated data binds it to its KEK's id.
CHECK_VALUE = b"handover backup key check"
#: What the identity-code key's check is an HMAC of.
IDENTITY_CHECK_LABEL = b"handover backup identity key check"


def kek_checks(keyring: dict[str, Any], kek_ids: list[str]) -> dict[str, str]:
    """{KEK id: check value} for each of ``kek_ids`` that the keyring holds. A KEK in an HSM
    has none: a backup does not carry it and a restore does not change it."""
    checks = {}
    for kek_id in kek_ids:
        material = keys.kek_material(keyring, kek_id)
        if material is not None:
            blob = key_backends.seal_blob(material, CHECK_VALUE, _check_associated_data(kek_id))
            checks[kek_id] = base64.urlsafe_b64encode(blob).decode("ascii")
    return checks


def identity_key_check(keyring: dict[str, Any]) -> str:
    """A fingerprint of the keyring's identity-code key (an HMAC under it of a fixed text):
    it tells two keys apart and gives away nothing of either."""
    return hmac.digest(keys.identity_hash_key(keyring), IDENTITY_CHECK_LABEL, "sha256").hex()


def refuse_unusable_keys(app: Flask, manifest: Manifest, database_path: str,
                         keyring: dict[str, Any] | None, keys_path: str | None) -> None:
    """Refuse when the keys in use after the restore (the key backup given, else the
    instance's own) lack a KEK the backup's records are sealed with, or hold it with other key
    bytes, or hold another identity-code key: the restore would go through, and then no
    handover and no two-factor secret would open, or no child would be found by their code
    and the audit log would not verify."""
    needed = set(manifest.get("kek_ids") or ())
    identity_check = manifest.get("identity_key_check")
    if not needed and identity_check is None:
        return
    if keyring is None:
        try:
            keyring = keys.load_keyring(app)
        except ConfigurationError as error:
            raise BackupError(f"This instance's keys cannot be read: {error} Restore with the "
                              "backup's keys: --with-keys, or --keys FILE.") from None
    keys_in_use, advice = _whose_keys(app, keys_path)
    missing = [kek_id for kek_id in sorted(needed - set(keyring["keks"]))
               if not _held_by_another_backend(app, kek_id)]
    if missing:
        raise BackupError(f"{keys_in_use} does not hold {', '.join(missing)}, which the "
                          "backup's handovers and two-factor secrets are sealed with: after "
                          "this restore none of them would open, and nobody could sign in with "
                          f"two-factor authentication. Nothing was changed. {advice}")
    held = sorted(needed & set(keyring["keks"]))
    wrong = _not_opening(manifest, database_path, keyring, held)
    if wrong:
        raise BackupError(f"{keys_in_use} holds {', '.join(wrong)} with other key bytes than "
                          "the backup was sealed with: after this restore none of its "
                          "handovers and two-factor secrets would open, and nobody could sign "
                          f"in with two-factor authentication. Nothing was changed. {advice}")
    if identity_check is not None and not hmac.compare_digest(identity_key_check(keyring),
                                                               identity_check):
        raise BackupError(f"{keys_in_use} holds another identity-code key than the backup was "
                          "made with: after this restore no child would be found by their "
                          "identity code, the children's access reports would miss the "
                          "backup's records, and `handover audit verify` would fail. Nothing "
                          f"was changed. {advice}")


def _whose_keys(app: Flask, keys_path: str | None) -> tuple[str, str]:
    """Which keys a restore would leave in use, in words, and what to do when they fail."""
    if keys_path:
        return (f"The key backup {keys_path}",
                "Give the key backup made together with this database backup.")
    if keys.keys_from_environment(app):
        return "HANDOVER_KEYS", "Put the key backup made with it into your secret store first."
    return (f"This instance's key file {app.config['KEYS_FILE']}",
            "Restore with the backup's keys: --with-keys, or --keys FILE if kept apart.")


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


def _not_opening(manifest: Manifest, database_path: str, keyring: dict[str, Any],
                 kek_ids: list[str]) -> list[str]:
    """Those of ``kek_ids`` whose bytes in ``keyring`` are not the ones the backup needs."""
    checks = manifest.get("kek_checks")
    if checks is not None:
        return [kek_id for kek_id in kek_ids
                if kek_id in checks and not _check_opens(keyring, kek_id, checks[kek_id])]
    if manifest["database"] == "sqlite":
        return _records_not_opening(database_path, keyring, kek_ids)
    return []


def _check_opens(keyring: dict[str, Any], kek_id: str, check: str) -> bool:
    material = keys.kek_material(keyring, kek_id)
    try:
        blob = base64.urlsafe_b64decode(check.encode("ascii"))
    except (binascii.Error, ValueError, AttributeError):
        raise BackupError(f"The manifest's key check of {kek_id} is damaged.") from None
    try:
        opened = key_backends.open_blob(material, blob, _check_associated_data(kek_id))
    except key_backends.DoesNotOpen:
        return False
    return opened == CHECK_VALUE


def _check_associated_data(kek_id: str) -> bytes:
    binding = {"kek": str(kek_id)}
    return b"backup-key-check:" + json.dumps(binding, separators=(",", ":")).encode()


def _records_not_opening(database_path: str, keyring: dict[str, Any],
                         kek_ids: list[str]) -> list[str]:
    """For a manifest without check values: the KEKs of which ``keyring`` cannot open a record
    of the backup's own SQLite file (read-only)."""
    connection = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True)
    try:
        tables = set(table_names(connection))
        return [kek_id for kek_id in kek_ids
                if _record_opens(connection, tables, keyring, kek_id) is False]
    finally:
        connection.close()


def _record_opens(connection: sqlite3.Connection, tables: set[str], keyring: dict[str, Any],
                  kek_id: str) -> bool | None:
    """Whether ``keyring`` opens one record sealed with ``kek_id``: a handover's data key, else
    a sealed secret. None when the backup holds no such record to try."""
    try:
        if "handovers" in tables:
            row = connection.execute(
                "SELECT id, wrapped_key FROM handovers WHERE kek_id = ? "
                "AND wrapped_key IS NOT NULL LIMIT 1", (kek_id,)).fetchone()
            if row:
                crypto.unwrap_data_key(kek_id, row[1], row[0], keyring=keyring)
                return True
        prefix = f"{crypto.ACCOUNT_SEAL_PREFIX}{kek_id}:"
        for kind in sealed_secrets.KINDS:
            table, column = kind.model.__tablename__, kind.column.key
            if table not in tables:
                continue
            # Table and column names come from the models, never from input.
            row = connection.execute(
                f"SELECT id, {column} FROM {table} WHERE substr({column}, 1, ?) = ? "  # noqa: S608 # nosec B608
                "LIMIT 1", (len(prefix), prefix)).fetchone()
            if row:
                crypto.open_account_secret(row[1], user_id=row[0], purpose=kind.purpose,
                                           keyring=keyring)
                return True
    except crypto.TamperedRecord:
        return False
    return None


def read_key_backup(path: str) -> dict[str, Any]:
    """The keyring in ``path``, checked by the key module before anything is overwritten."""
    with open(path) as handle:
        content = handle.read()
    try:
        keyring: dict[str, Any] = keys.checked_keyring(content)
    except ConfigurationError as error:
        raise BackupError(f"{path} is not a usable key backup: {error}") from None
    return keyring


def install_keyring(app: Flask, keyring: dict[str, Any]) -> None:
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
