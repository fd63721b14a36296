"""The instance's key file: key-encryption keys (KEKs) and the identity-code hashing key, and
the audit chain's key derived from the latter.

Nothing else reads or writes the key file. The file is JSON, mode 0600:

    {"active_kek": "k-2026...", "keks": {"k-2026...": "<base64 32 bytes>"},
     "identity_hash_key": "<base64 32 bytes>", "audit_chain_keyed_from_start": true}

``HANDOVER_KEYS`` may carry the same JSON instead of a file (for secret stores). Every use
checks the key file's identity (inode, size, modification time): a rotation by `handover keys
rotate` replaces the file, so it reaches every running worker without a restart, while the
parsing and checking happen once per version of the file, not once per crypto operation.

The audit chain's key (`audit_chain_key`) is not a field of its own: it is derived from
``identity_hash_key``, so every instance has it without a new field or an operator's step
(one made before the audit chain was keyed too, and one whose keys come from
``HANDOVER_KEYS``), every worker and node with the same keyring derives the same key, and a key
backup carries it. ``identity_hash_key`` can therefore never change: the identity-code hashes
stored on handovers and the audit log's keyed hashes both depend on it.
"""

import base64
import binascii
import copy
import hmac
import json
import os
import secrets
from datetime import UTC, datetime

from flask import current_app

from handover.config import ConfigurationError
from handover.store import audit_chain

KEY_BYTES = 32
#: What the audit chain's key is derived from ``identity_hash_key`` with (HMAC-SHA256). The
#: NUL keeps it apart from every other message that key hashes: identity codes, and request
#: fingerprints (``request-fingerprint\0...``).
AUDIT_CHAIN_KEY_LABEL = b"audit-chain-key\0"

#: The key file's mark that every event of the instance's audit log is keyed: a file made
#: since the chain was keyed carries it, so that a log rewritten from its start with plain
#: hashes (which anyone can compute) is refused. A file from before has no such mark, and its
#: log may begin with plain hashes (`audit_chain`); it cannot be added afterwards by
#: Handover, which does not know that no plain hash was written.
AUDIT_KEYED_FROM_START = "audit_chain_keyed_from_start"

#: Where each app keeps the last keyring read, per source: {source: (identity, keyring)}.
#: Kept per app, so that key material never outlives the app that read it. Callers get deep
#: copies.
_CACHE_KEY = "handover_keyring_cache"
#: Where each app keeps its audit chain key: (the keyring it was derived from, key bytes).
_AUDIT_KEY_CACHE = "handover_audit_chain_key"


class KeyFileExists(RuntimeError):
    """`handover init` refuses to overwrite keys: data encrypted with them would be lost."""


class KeysFromEnvironment(RuntimeError):
    """The keyring comes from ``HANDOVER_KEYS``: Handover cannot write the operator's secret
    store, so adding or removing KEKs has to happen there."""


class KekInUse(RuntimeError):
    """A KEK cannot be removed while it is active or still wraps a data key."""


class KeyFileUnreadable(ConfigurationError):
    """The key file is there but cannot be read as a keyring; the message says what to do."""


def new_kek_id():
    return "k-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def new_key_material():
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def create_key_file(path):
    """Write a fresh key file, refusing if one exists."""
    kek_id = new_kek_id()
    keyring = {
        "active_kek": kek_id,
        "keks": {kek_id: new_key_material()},
        "identity_hash_key": new_key_material(),
        # This instance's audit log has had a keyed hash on every event from its first.
        AUDIT_KEYED_FROM_START: True,
    }
    write_key_file(path, keyring, exclusive=True)
    return keyring


def write_key_file(path, keyring, exclusive=False):
    """Write atomically with mode 0600 (a crash never leaves half a key file)."""
    if exclusive and os.path.exists(path):
        raise KeyFileExists(path)
    temporary = f"{path}.tmp-{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(keyring, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive and os.path.exists(path):
            raise KeyFileExists(path)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    _sync_directory(os.path.dirname(os.path.abspath(path)))


def keys_from_environment(app=None):
    """True when the keyring comes from ``HANDOVER_KEYS`` rather than the key file."""
    app = app or current_app
    return bool(app.config.get("KEYS_JSON"))


def load_keyring(app=None):
    """The keyring from ``HANDOVER_KEYS`` or the key file; a clear error when neither exists.
    A copy the caller may change (to write a new key file, or a backup)."""
    return copy.deepcopy(_current_keyring(app or current_app))


def kek_ids(app=None):
    """The ids of the KEKs the keyring holds."""
    return list(_current_keyring(app or current_app)["keks"])


def active_kek_id(app=None):
    """The keyring's active KEK id (None when another key backend holds the active KEK)."""
    return _current_keyring(app or current_app).get("active_kek")


def material_of(kek_id, app=None):
    """The key bytes of ``kek_id``, or None when the keyring does not hold it."""
    return kek_material(_current_keyring(app or current_app), kek_id)


def current_identity_hash_key(app=None):
    return identity_hash_key(_current_keyring(app or current_app))


def current_audit_chain_key(app=None):
    """The key of the audit chain's hashes, from the app's keyring (`audit_chain_key`). Asked
    at every append, so derived once per version of the keyring and kept with the app."""
    app = app or current_app
    keyring = _current_keyring(app)
    derived = app.extensions.get(_AUDIT_KEY_CACHE)
    if derived is None or derived[0] is not keyring:
        derived = (keyring, audit_chain_key(keyring))
        app.extensions[_AUDIT_KEY_CACHE] = derived
    return derived[1]


def audit_keyed_from_start(app=None):
    """Whether the app's keyring says that its audit log was keyed from the first event
    (`AUDIT_KEYED_FROM_START`)."""
    try:
        keyring = _current_keyring(app or current_app)
    except ConfigurationError:   # no keys: a log from before the key still verifies without
        return False
    return keyring.get(AUDIT_KEYED_FROM_START) is True


def _current_keyring(app):
    """The parsed and checked keyring of the key file's current version (or of
    ``HANDOVER_KEYS``), shared by every caller in the process: read it, never change it. The
    functions above read single keys from it without copying the whole keyring, which each
    encryption and decryption asks for."""
    if keys_from_environment(app):
        text = app.config["KEYS_JSON"]
        return _cached(app, ("environment",), text, lambda: _parse_environment(text))
    path = app.config["KEYS_FILE"]
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise ConfigurationError(missing_key_file_advice(app, path)) from None
    identity = (status.st_ino, status.st_size, status.st_mtime_ns, status.st_dev)
    return _cached(app, ("file", path), identity, lambda: _read_file(path))


#: The key backup `handover backup` writes beside its dump (``services.backup_manifest``'s
#: KEYS_BACKUP; the security layer cannot import the services, so it is named here too).
KEY_BACKUP_NAME = "handover-KEYS-store-separately.json"


def missing_key_file_advice(app, path=None):
    """What to do without the key file at ``path``: the same words from start-up, from every
    command that needs the keys and from `handover check`. Once `handover init` has written
    the instance's config.py it refuses to run again (it never writes keys beside an existing
    instance), and new keys would open nothing stored: the only way then is the key backup."""
    path = path or app.config["KEYS_FILE"]
    config_path = os.path.join(app.instance_path, "config.py")
    if os.path.exists(config_path):
        return (f"No key file at {path}, though {config_path} shows this instance was set up: "
                f"restore the key file from the key backup ({KEY_BACKUP_NAME}, written by "
                f"`handover backup` and kept apart from it) to {path} with mode 0600, or set "
                "HANDOVER_KEYS. Without it nothing sealed in the database can be opened.")
    return (f"No key file at {path}. Run `handover init` or set HANDOVER_KEYS; "
            "restore it from the key backup if this instance had data.")


def init_app(app):
    """The store may not import this layer, so the app's audit chain asks its key through
    these functions (`store.audit_chain.use_key_source`)."""
    audit_chain.use_key_source(app, current_audit_chain_key, audit_keyed_from_start)


def require_key_file(app):
    """Refuse to start without the key file, as without a secret key: a server that started
    would answer /healthz and fail at the first login (the TOTP secrets are sealed with it).
    Keys in ``HANDOVER_KEYS`` start without it; with the KEKs in an HSM the file still holds
    the identity-code key (and so the audit chain's key), so it is required there too. A
    missing instance folder is refused by the commands and reported by `handover check` in
    its own words. `handover restore`, which brings the file back, starts without it
    (``KEY_FILE_MAY_BE_MISSING``)."""
    if keys_from_environment(app) or app.config.get("KEY_FILE_MAY_BE_MISSING"):
        return
    path = app.config["KEYS_FILE"]
    if os.path.isdir(app.instance_path) and not os.path.exists(path):
        raise ConfigurationError(missing_key_file_advice(app, path))


def _cached(app, source, identity, read):
    cache = app.extensions.setdefault(_CACHE_KEY, {})
    found = cache.get(source)
    if found is None or found[0] != identity:
        keyring = read()
        _check_keyring(keyring)
        found = (identity, keyring)
        cache[source] = found
    return found[1]


def checked_keyring(text):
    """A keyring from its JSON text, checked as a key file is: for a key backup that is about
    to replace the instance's keys."""
    try:
        keyring = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(f"not valid JSON ({error.msg}).") from None
    _check_keyring(keyring)
    return keyring


def _parse_environment(text):
    try:
        return json.loads(text)
    except ValueError as error:
        raise ConfigurationError(f"HANDOVER_KEYS is not valid JSON ({error.msg}).") from None


def _read_file(path):
    """The key file's JSON, or an error saying what to do: every command that needs the keys
    (`keys check`, `keys rotate`, `backup`, a request) then stops with one clear line."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:  # not JSON, or not even UTF-8 text: a damaged or truncated file
        raise KeyFileUnreadable(
            f"The key file is not valid JSON. Restore {path} from the key backup."
        ) from None
    except OSError as error:
        raise KeyFileUnreadable(
            f"The key file {path} cannot be read ({error.strerror}). Give the service user "
            "read access to it (mode 0600, owned by that user)."
        ) from None


def active_kek(keyring):
    """``(kek_id, key bytes)`` of the file's KEK that wraps new data keys (when the file backend
    is the active one; with another backend the file may have no active KEK at all)."""
    kek_id = keyring["active_kek"]
    if kek_id is None:
        raise ConfigurationError("The key file has no active KEK: another key backend holds it.")
    return kek_id, decode(keyring["keks"][kek_id])


def kek_material(keyring, kek_id):
    """The key bytes of ``kek_id``, or None when the keyring does not hold it."""
    material = keyring["keks"].get(kek_id)
    return decode(material) if material is not None else None


def identity_hash_key(keyring):
    return decode(keyring["identity_hash_key"])


def audit_chain_key(keyring):
    """The key each audit event's hash is an HMAC under, derived from ``identity_hash_key``
    (see the module's docstring for why derived). Without it, someone who can write to the
    database cannot add an event the chain accepts."""
    return hmac.digest(identity_hash_key(keyring), AUDIT_CHAIN_KEY_LABEL, "sha256")


def add_kek(app=None):
    """Add a fresh KEK to the key file and make it active (old KEKs stay until retired)."""
    app = app or current_app
    _refuse_environment(app)
    keyring = load_keyring(app)
    kek_id = new_kek_id()
    while kek_id in keyring["keks"]:
        kek_id = new_kek_id()
    keyring["keks"][kek_id] = new_key_material()
    keyring["active_kek"] = kek_id
    write_key_file(app.config["KEYS_FILE"], keyring)
    return kek_id


def retire_kek(kek_id, app=None, allow_active=False):
    """Remove ``kek_id`` from the key file. The caller proves first that no row uses it.
    ``allow_active``: another key backend wraps new keys, so the file's active KEK may go too
    (the file then names none)."""
    app = app or current_app
    _refuse_environment(app)
    keyring = load_keyring(app)
    if kek_id not in keyring["keks"]:
        raise KeyError(kek_id)
    if keyring["active_kek"] == kek_id:
        if not allow_active:
            raise KekInUse(f"{kek_id} is the active KEK")
        keyring["active_kek"] = None
    del keyring["keks"][kek_id]
    write_key_file(app.config["KEYS_FILE"], keyring)


def decode(material):
    return base64.b64decode(material)


def _refuse_environment(app):
    if keys_from_environment(app):
        raise KeysFromEnvironment(
            "The keys come from HANDOVER_KEYS; change them in your secret store: add the new "
            "KEK there, make it active_kek and restart, then run `handover keys rotate --resume`."
        )


def _check_keyring(keyring):
    """Fail at start of use with a message the operator can act on, not deep in a decrypt."""
    try:
        keks = keyring["keks"]
        active = keyring["active_kek"]
        materials = [*keks.values(), keyring["identity_hash_key"]]
    except (KeyError, TypeError, AttributeError):
        raise ConfigurationError(
            "The keyring needs active_kek, keks and identity_hash_key."
        ) from None
    if active is None and isinstance(keks, dict):
        pass  # every KEK lives in another key backend (an HSM); the file keeps the hash key
    elif active not in keks:
        raise ConfigurationError(f"The active KEK {active} is not among the keyring's keks.")
    for material in materials:
        try:
            if len(base64.b64decode(material, validate=True)) != KEY_BYTES:
                raise ValueError
        except (binascii.Error, ValueError, TypeError):
            raise ConfigurationError(
                "Every key in the keyring must be 32 bytes in base64."
            ) from None


def _sync_directory(path):
    """Make the rename itself durable: after a crash the new key file must be there."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)

