"""The instance's key file: key-encryption keys (KEKs) and the identity-code hashing key.

Nothing else reads or writes the key file. The file is JSON, mode 0600:

    {"active_kek": "k-2026...", "keks": {"k-2026...": "<base64 32 bytes>"},
     "identity_hash_key": "<base64 32 bytes>"}

``HANDOVER_KEYS`` may carry the same JSON instead of a file (for secret stores).
"""

import base64
import json
import os
import secrets
from datetime import UTC, datetime

from flask import current_app

from handover.config import ConfigurationError


class KeyFileExists(RuntimeError):
    """`handover init` refuses to overwrite keys: data encrypted with them would be lost."""


def new_kek_id():
    return "k-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def new_key_material():
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def create_key_file(path):
    """Write a fresh key file, refusing if one exists."""
    kek_id = new_kek_id()
    keyring = {
        "active_kek": kek_id,
        "keks": {kek_id: new_key_material()},
        "identity_hash_key": new_key_material(),
    }
    write_key_file(path, keyring, exclusive=True)
    return keyring


def write_key_file(path, keyring, exclusive=False):
    """Write atomically with mode 0600 (a crash never leaves half a key file)."""
    if exclusive and os.path.exists(path):
        raise KeyFileExists(path)
    temporary = f"{path}.tmp-{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keyring, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    if exclusive and os.path.exists(path):
        os.unlink(temporary)
        raise KeyFileExists(path)
    os.replace(temporary, path)


def load_keyring(app=None):
    """The keyring from ``HANDOVER_KEYS`` or the key file; a clear error when neither exists."""
    app = app or current_app
    if app.config.get("KEYS_JSON"):
        keyring = json.loads(app.config["KEYS_JSON"])
    else:
        path = app.config["KEYS_FILE"]
        if not os.path.exists(path):
            raise ConfigurationError(
                f"No key file at {path}. Run `handover init` to create it, "
                "or set HANDOVER_KEYS."
            )
        with open(path) as handle:
            keyring = json.load(handle)
    return keyring


def decode(material):
    return base64.b64decode(material)
