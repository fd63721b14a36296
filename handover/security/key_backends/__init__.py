"""Where the key-encryption keys (KEKs) live, behind one small interface.

A KEK wraps each handover's data key and seals users' two-factor secrets. It can live in the
instance's key file (`file`, today's behaviour and the default) or in an HSM reached through
PKCS#11 (`pkcs11`), where it never leaves the device. ``HANDOVER_KEY_BACKEND`` chooses the
backend that holds the *active* KEK, the one new data keys are wrapped with. Every KEK id names
its backend by its prefix, so a database half-way through a rotation from the file to the HSM
reads both: old rows through the file, new ones through the HSM.

A cloud KMS or a Vault transit engine fits the same interface: a package registers a factory
``(app) -> KeyBackend`` under the entry point group ``handover.key_backends`` and the operator
names it in ``HANDOVER_KEY_BACKEND``.

Every backend wraps the same way: AES-256-GCM, blob = version byte | 12-byte nonce |
ciphertext with tag, and the caller's associated data (which names the KEK and the handover or
user) bound in. So a wrapped key copied to another handover fails to open whichever backend
made it.
"""

import os
from abc import ABC, abstractmethod
from importlib.metadata import entry_points

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from handover.config import ConfigurationError

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER = bytes([FORMAT_VERSION])
ENTRY_POINT_GROUP = "handover.key_backends"
_EXTENSION = "handover_key_backends"


class KeyBackendUnavailable(RuntimeError):
    """The backend cannot be reached now (HSM down, network, PIN refused). Not a tampered
    record: nothing is wrong with the data, and the request answers 503 until it is back."""


class DoesNotOpen(Exception):
    """A blob failed its check under this KEK: changed, moved, or never made with it."""


class KekNotHeld(Exception):
    """The backend does not hold the KEK a record names."""


class KeyBackend(ABC):
    """One place KEKs live. Ids it creates start with `prefix` (the file's have none)."""

    name = ""
    prefix = ""

    def owns(self, kek_id):
        return bool(self.prefix) and kek_id.startswith(self.prefix)

    @abstractmethod
    def active_kek_id(self):
        """The id of the KEK new wraps use, or None when the backend holds none yet."""

    @abstractmethod
    def kek_ids(self):
        """Every KEK id this backend holds."""

    @abstractmethod
    def encrypt(self, kek_id, plaintext, associated):
        """AES-GCM under ``kek_id``; `KekNotHeld` if it is not here."""

    @abstractmethod
    def decrypt(self, kek_id, blob, associated):
        """The plaintext, or `DoesNotOpen`; `KekNotHeld` if the KEK is not here."""

    @abstractmethod
    def add_kek(self):
        """Create a KEK, make it the active one, return its id."""

    @abstractmethod
    def retire_kek(self, kek_id):
        """Destroy ``kek_id``; the caller has proved no record needs it."""

    def describe(self):
        return self.name


def seal_blob(key, plaintext, associated):
    """AES-GCM with key bytes in this process (the file backend and data keys)."""
    nonce = os.urandom(NONCE_BYTES)
    return HEADER + nonce + AESGCM(key).encrypt(nonce, plaintext, HEADER + associated)


def split_blob(blob):
    """``(nonce, ciphertext with tag)`` of a blob, or `DoesNotOpen` when it is malformed: also
    when it is not bytes at all (text an edit put in the column), like any other change."""
    if isinstance(blob, (bytearray, memoryview)):
        blob = bytes(blob)
    elif not isinstance(blob, bytes):
        raise DoesNotOpen("sealed value is missing or is not bytes")
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[:1] != HEADER:
        raise DoesNotOpen("sealed value is malformed or of an unknown format version")
    return blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]


def open_blob(key, blob, associated):
    nonce, ciphertext = split_blob(blob)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, HEADER + associated)
    except InvalidTag:
        raise DoesNotOpen("sealed value failed its integrity check") from None
    except ValueError:
        # A key of the wrong length (a damaged keyring entry) is no better than a wrong key.
        raise DoesNotOpen("sealed value could not be opened with this key") from None


def configured_name(app=None):
    app = app or current_app
    return (app.config.get("KEY_BACKEND") or "file").strip().lower()


def backends(app=None):
    """``(active, readers)``: the backend that wraps new keys, and every backend that may hold
    an older KEK (the active one first, then the file). Built once per app."""
    app = app or current_app
    built = app.extensions.get(_EXTENSION)
    if built is None:
        from handover.security.key_backends.file import FileBackend

        file_backend = FileBackend(app)
        name = configured_name(app)
        active = file_backend if name == "file" else _build(name, app)
        readers = [active] if active is file_backend else [active, file_backend]
        built = app.extensions[_EXTENSION] = (active, readers)
    return built


def active_backend(app=None):
    return backends(app)[0]


def active_kek_id(app=None):
    """The KEK new data keys are wrapped with: the active backend's; while that backend holds
    none yet (an HSM just configured, before `handover keys rotate` made its first KEK), the key
    file's, so that the service keeps running through the switch."""
    active, readers = backends(app)
    kek_id = active.active_kek_id()
    if kek_id is None and active is not readers[-1]:
        kek_id = readers[-1].active_kek_id()
    if kek_id is None:
        raise ConfigurationError("No key backend has an active KEK; run `handover keys rotate`.")
    return kek_id


def backend_for(kek_id, app=None):
    """The backend that owns ``kek_id`` (by prefix; the file owns unprefixed ids)."""
    _, readers = backends(app)
    for backend in readers:
        if backend.owns(kek_id):
            return backend
    for backend in readers:
        if not backend.prefix:
            return backend
    return None


def _build(name, app):
    if name == "pkcs11":
        from handover.security.key_backends.pkcs11 import Pkcs11Backend

        return Pkcs11Backend(app)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            backend = entry.load()(app)
            if not isinstance(backend, KeyBackend) or not backend.prefix:
                raise ConfigurationError(
                    f"The key backend {name!r} must be a KeyBackend with a KEK id prefix.")
            return backend
    raise ConfigurationError(
        f"Unknown key backend {name!r} (HANDOVER_KEY_BACKEND): use file, pkcs11 or the name "
        f"of an installed {ENTRY_POINT_GROUP} plugin.")
