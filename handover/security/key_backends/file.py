"""The key file's KEKs (`handover.security.keys`): today's behaviour and the default.

The key bytes are read into the process from the key file or ``HANDOVER_KEYS``, so whoever
holds that file and a database backup can read everything; the PKCS#11 backend is the answer
to that. When another backend is active, the file keeps its old KEKs for reading until
`handover keys retire` removes them, and always keeps the identity-code hashing key.
"""

from handover.config import ConfigurationError
from handover.security import keys
from handover.security.key_backends import (
    KekNotHeld,
    KeyBackend,
    configured_name,
    open_blob,
    seal_blob,
)


class FileBackend(KeyBackend):
    name = "file"
    prefix = ""

    def __init__(self, app):
        self.app = app

    def owns(self, kek_id):
        return kek_id in self.kek_ids()

    def active_kek_id(self):
        return keys.active_kek_id(self.app)

    def kek_ids(self):
        return keys.kek_ids(self.app)

    def _material(self, kek_id):
        material = keys.material_of(kek_id, self.app)
        if material is None:
            raise KekNotHeld(kek_id)
        return material

    def encrypt(self, kek_id, plaintext, associated):
        if kek_id is None:
            raise ConfigurationError("The key file has no active KEK; run `handover keys rotate`.")
        return seal_blob(self._material(kek_id), plaintext, associated)

    def decrypt(self, kek_id, blob, associated):
        return open_blob(self._material(kek_id), blob, associated)

    def add_kek(self):
        return keys.add_kek(self.app)

    def retire_kek(self, kek_id):
        # The file's active KEK may go only when another backend wraps new keys.
        keys.retire_kek(kek_id, self.app, allow_active=configured_name(self.app) != "file")
