"""Envelope encryption of everything a handover says about the child.

Each handover has its own random 256-bit data key. Every sealed value is AES-256-GCM under that
key with a fresh random 96-bit nonce, and with associated data naming the handover, its form
and version, the purpose of the value and (for replies and attachments) the row it belongs to:
a blob copied to another handover, another purpose or another reply fails to open, just like a
flipped byte. The data key itself is stored wrapped (AES-GCM again) by a key-encryption key
(KEK) from `handover.security.keys`, with the KEK id and handover id as associated data.

Blob layout (both sealed values and wrapped keys)::

    version byte (1) | nonce (12 bytes) | ciphertext with 16-byte GCM tag

Account secrets (a user's TOTP secret) belong to no handover: they are sealed straight under
the active KEK, with associated data naming the user and the purpose, and stored as text that
names the KEK (see `seal_account_secret`), so that key rotation can re-seal them.

Nothing here logs: plaintext, keys and even the reason a blob failed stay out of log lines.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import g, has_app_context

from handover.security import keys

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
DATA_KEY_BYTES = 32
_HEADER = bytes([FORMAT_VERSION])


class TamperedRecord(Exception):
    """A sealed value or wrapped key failed to open: a changed byte, a blob moved from another
    handover, purpose or record, or the wrong key. The message never carries content."""


class KeyMissing(TamperedRecord):
    """The record names a KEK the keyring does not hold (retired too early, wrong key file),
    or has no wrapped data key at all. A subclass, so one ``except TamperedRecord`` keeps
    unreadable records off the page; catch it first to tell the operator's mistake apart."""


class Purpose:
    """What a sealed value is; part of its associated data, so values cannot trade places."""

    CONTENT = "content"
    DRAFT = "draft"
    SUMMARY = "summary"
    REPLY = "reply"
    ACKNOWLEDGEMENT = "acknowledgement"
    ATTACHMENT = "attachment"
    ATTACHMENT_NAME = "attachment-name"

    ALL = frozenset(
        {CONTENT, DRAFT, SUMMARY, REPLY, ACKNOWLEDGEMENT, ATTACHMENT, ATTACHMENT_NAME}
    )
    #: Purposes whose values belong to a row of their own (Reply.id / Attachment.id).
    PER_RECORD = frozenset({REPLY, ATTACHMENT, ATTACHMENT_NAME})


def new_data_key():
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def wrap_data_key(data_key, handover_id):
    """Wrap ``data_key`` with the active KEK; returns ``(kek_id, wrapped)`` for the row."""
    kek_id, kek = keys.active_kek(keys.load_keyring())
    return kek_id, rewrap_data_key(data_key, handover_id, kek_id, kek)


def rewrap_data_key(data_key, handover_id, kek_id, kek):
    """Wrap with a given KEK: used by `wrap_data_key` and by key rotation."""
    _require_id(handover_id)
    return _encrypt(kek, data_key, _wrap_associated_data(kek_id, handover_id))


def unwrap_data_key(kek_id, wrapped, handover_id, *, keyring=None):
    """The data key of a handover; `KeyMissing` if the KEK is gone, `TamperedRecord` if the
    wrapped key does not open (changed, or copied from another handover or KEK). Batch jobs
    pass ``keyring`` so as not to read the key file once per row."""
    _require_id(handover_id)
    if kek_id is None or wrapped is None:
        raise KeyMissing(f"handover {handover_id} has no wrapped data key")
    kek = keys.kek_material(keyring or keys.load_keyring(), kek_id)
    if kek is None:
        raise KeyMissing(f"KEK {kek_id} of handover {handover_id} is not in the keyring")
    data_key = _decrypt(kek, wrapped, _wrap_associated_data(kek_id, handover_id))
    if len(data_key) != DATA_KEY_BYTES:
        raise TamperedRecord(f"data key of handover {handover_id} has the wrong length")
    return data_key


def seal(data_key, plaintext, *, handover_id, form_key, form_version, purpose, record_id=None):
    """Encrypt ``plaintext`` (bytes) bound to where it belongs; a fresh nonce every call."""
    associated = _associated_data(handover_id, form_key, form_version, purpose, record_id)
    return _encrypt(data_key, bytes(plaintext), associated)


def open_sealed(data_key, blob, *, handover_id, form_key, form_version, purpose,
                record_id=None):
    """Decrypt a value made by `seal` with the same binding, or raise `TamperedRecord`."""
    associated = _associated_data(handover_id, form_key, form_version, purpose, record_id)
    return _decrypt(data_key, blob, associated)


def seal_json(data_key, value, **binding):
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return seal(data_key, text.encode("utf-8"), **binding)


def open_json(data_key, blob, **binding):
    plaintext = open_sealed(data_key, blob, **binding)
    try:
        return json.loads(plaintext.decode("utf-8"))
    except ValueError:
        # Authentic but not JSON: sealed through `seal` with another meaning. Still unusable.
        raise TamperedRecord("sealed value is not JSON") from None


def identity_hash(code):
    """Keyed hash of a personal identity code, for finding a child's handovers without storing
    the code. Keyed (HMAC) because the code space is small enough to hash exhaustively."""
    normalised = code.strip().upper().encode("utf-8")
    key = keys.identity_hash_key(keys.load_keyring())
    return hmac.new(key, normalised, hashlib.sha256).hexdigest()


def handover_data_key(handover):
    """The handover's data key, unwrapped once per request (or CLI command)."""
    cache_key = (handover.id, handover.kek_id, handover.wrapped_key)
    cache = _data_key_cache()
    if cache is not None and cache_key in cache:
        return cache[cache_key]
    data_key = unwrap_data_key(handover.kek_id, handover.wrapped_key, handover.id)
    if cache is not None:
        cache[cache_key] = data_key
    return data_key


def ensure_data_key(handover):
    """The handover's data key, creating and wrapping one first if it has none yet. The
    handover needs its id (flush it first): the wrapped key is bound to it."""
    if handover.wrapped_key is not None:
        return handover_data_key(handover)
    if handover.id is None:
        raise ValueError("flush the handover before giving it a data key: the key binds its id")
    if handover.erased_at is not None:
        raise ValueError("the handover's content was erased; it gets no new data key")
    data_key = new_data_key()
    handover.kek_id, handover.wrapped_key = wrap_data_key(data_key, handover.id)
    cache = _data_key_cache()
    if cache is not None:
        cache[(handover.id, handover.kek_id, handover.wrapped_key)] = data_key
    return data_key


#: Starts every sealed account secret: ``sealed-v1:<kek id>:<urlsafe base64 of the blob>``.
ACCOUNT_SEAL_PREFIX = "sealed-v1:"


def seal_account_secret(secret: str, *, user_id: int, purpose: str = "totp",
                        keyring: dict | None = None) -> str:
    """``secret`` sealed under the active KEK for one user, as text for a string column.

    Copied into another user's row, or read with another purpose, it does not open."""
    if user_id is None:
        raise ValueError("the user needs an id (flush it first): the sealed secret binds it")
    kek_id, kek = keys.active_kek(keyring or keys.load_keyring())
    blob = _encrypt(kek, secret.encode("utf-8"),
                    _account_associated_data(kek_id, user_id, purpose))
    return ACCOUNT_SEAL_PREFIX + kek_id + ":" + base64.urlsafe_b64encode(blob).decode("ascii")


def open_account_secret(stored: str, *, user_id: int, purpose: str = "totp",
                        keyring: dict | None = None) -> str:
    """The secret `seal_account_secret` sealed for ``user_id``; `KeyMissing` when its KEK is
    gone, `TamperedRecord` when it was changed, moved to another user, or never sealed."""
    kek_id = account_secret_kek(stored)
    if kek_id is None:
        raise TamperedRecord(f"the {purpose} secret of user {user_id} is not sealed")
    kek = keys.kek_material(keyring or keys.load_keyring(), kek_id)
    if kek is None:
        raise KeyMissing(f"KEK {kek_id} of the {purpose} secret of user {user_id} is not in "
                         "the keyring")
    try:
        blob = base64.urlsafe_b64decode(stored.rsplit(":", 1)[1].encode("ascii"))
    except (binascii.Error, ValueError):
        raise TamperedRecord(f"the {purpose} secret of user {user_id} is malformed") from None
    plaintext = _decrypt(kek, blob, _account_associated_data(kek_id, user_id, purpose))
    return plaintext.decode("utf-8")


def account_secret_kek(stored: str | None) -> str | None:
    """The KEK a stored account secret names, or None if it is not a sealed secret at all."""
    if not stored or not stored.startswith(ACCOUNT_SEAL_PREFIX):
        return None
    kek_id, _, blob = stored[len(ACCOUNT_SEAL_PREFIX):].rpartition(":")
    return kek_id if kek_id and blob else None


def _account_associated_data(kek_id, user_id, purpose):
    binding = {"kek": str(kek_id), "user": int(user_id), "purpose": str(purpose)}
    return b"account:" + json.dumps(binding, sort_keys=True, separators=(",", ":")).encode()


def _encrypt(key, plaintext, associated):
    nonce = os.urandom(NONCE_BYTES)
    return _HEADER + nonce + AESGCM(key).encrypt(nonce, plaintext, _HEADER + associated)


def _decrypt(key, blob, associated):
    blob = bytes(blob) if blob is not None else b""
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[:1] != _HEADER:
        raise TamperedRecord("sealed value is malformed or of an unknown format version")
    nonce, ciphertext = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _HEADER + associated)
    except InvalidTag:
        raise TamperedRecord("sealed value failed its integrity check") from None
    except ValueError:
        # A key of the wrong length (a damaged keyring entry) is no better than a wrong key.
        raise TamperedRecord("sealed value could not be opened with this key") from None


def _associated_data(handover_id, form_key, form_version, purpose, record_id):
    _require_id(handover_id)
    if purpose not in Purpose.ALL:
        raise ValueError(f"unknown purpose {purpose!r}")
    if purpose in Purpose.PER_RECORD and record_id is None:
        raise ValueError(f"purpose {purpose!r} needs the record id (flush the row first)")
    if not form_key or form_version is None:
        raise ValueError("a sealed value must be bound to its form key and version")
    binding = {
        "handover": int(handover_id),
        "form": str(form_key),
        "form_version": int(form_version),
        "purpose": purpose,
        "record": None if record_id is None else int(record_id),
    }
    return b"seal:" + json.dumps(binding, sort_keys=True, separators=(",", ":")).encode()


def _wrap_associated_data(kek_id, handover_id):
    binding = {"kek": str(kek_id), "handover": int(handover_id)}
    return b"wrap:" + json.dumps(binding, sort_keys=True, separators=(",", ":")).encode()


def _require_id(handover_id):
    if handover_id is None:
        raise ValueError("the handover needs an id (flush it first): sealed values bind it")


def _data_key_cache():
    if not has_app_context():
        return None
    cache = g.get("_handover_data_keys")
    if cache is None:
        cache = g._handover_data_keys = {}
    return cache
