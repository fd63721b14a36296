"""AES-GCM under a key in hand (a data key, or a KEK of the key file) or under a KEK held by
its key backend (the key file or an HSM), and the two ways a value fails to open: `TamperedRecord`
and its subclass `KeyMissing`.

Everything sealed goes through these four functions, so that a backend's own errors become
this package's in one place and nothing else needs to know them. Apart from `crypto`, which
says what is sealed and bound to what, because this is only how; `crypto` answers for these
names too (the exceptions under their own names), and callers import them from there.
"""

from handover.security import key_backends, keys


class TamperedRecord(Exception):
    """A sealed value or wrapped key failed to open: a changed byte, a blob moved from another
    handover, purpose or record, or the wrong key. The message never carries content."""


class KeyMissing(TamperedRecord):
    """The record names a KEK the keyring does not hold (retired too early, wrong key file),
    or has no wrapped data key at all. A subclass, so one ``except TamperedRecord`` keeps
    unreadable records off the page; catch it first to tell the operator's mistake apart."""


def encrypt(key, plaintext, associated):
    return key_backends.seal_blob(key, plaintext, associated)


def decrypt(key, blob, associated):
    try:
        return key_backends.open_blob(key, blob, associated)
    except key_backends.DoesNotOpen as error:
        raise TamperedRecord(str(error)) from None


def kek_encrypt(kek_id, plaintext, associated):
    """Encrypt under a KEK through the backend that holds it (the key file or an HSM)."""
    backend = key_backends.backend_for(kek_id)
    try:
        if backend is None:
            raise key_backends.KekNotHeld(kek_id)
        return backend.encrypt(kek_id, plaintext, associated)
    except key_backends.KekNotHeld:
        raise KeyMissing(f"KEK {kek_id} is not held by any key backend") from None


def kek_decrypt(kek_id, blob, associated, keyring, what):
    """Decrypt under a KEK: with the caller's keyring when it holds it (batch jobs on the key
    file), otherwise through the backend that owns the id. `KeyBackendUnavailable` passes up:
    an unreachable HSM is an outage, not a tampered record. A wrapped key that is not bytes (text
    an edit put in the column) is tampered before any backend sees it."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TamperedRecord(f"{what}: the wrapped key is missing or is not bytes")
    if keyring is not None and kek_id in keyring.get("keks", {}):
        return decrypt(keys.decode(keyring["keks"][kek_id]), blob, associated)
    backend = key_backends.backend_for(kek_id)
    try:
        if backend is None:
            raise key_backends.KekNotHeld(kek_id)
        return backend.decrypt(kek_id, blob, associated)
    except key_backends.KekNotHeld:
        raise KeyMissing(f"{what} is not held by any key backend") from None
    except key_backends.DoesNotOpen as error:
        raise TamperedRecord(str(error)) from None
