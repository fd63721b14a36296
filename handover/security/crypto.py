"""Envelope encryption of everything a handover says about the child.

Each handover has its own random 256-bit data key. Every sealed value is AES-256-GCM under that
key with a fresh random 96-bit nonce, and with associated data naming the handover, its form
and version, the purpose of the value and (for replies and attachments) the row it belongs to:
a blob copied to another handover, another purpose or another reply fails to open, just like a
flipped byte. The data key itself is stored wrapped (AES-GCM again) by a key-encryption key
(KEK), with the KEK id and handover id as associated data. The KEK lives in a key backend
(`handover.security.key_backends`): the key file, or an HSM through PKCS#11 where it never
leaves the device; the KEK id a row stores names the backend that can unwrap it.

Blob layout (both sealed values and wrapped keys)::

    version byte (1) | nonce (12 bytes) | ciphertext with 16-byte GCM tag

Account secrets (a user's TOTP secret) belong to no handover: they are sealed straight under
the active KEK, with associated data naming the user and the purpose, and stored as text that
names the KEK (see `seal_account_secret`), so that key rotation can re-seal them.

Nothing here logs: plaintext, keys and even the reason a blob failed stay out of log lines.

This module says what a handover's values are sealed with and bound to, and keeps its data
key. The rest lives beside it by concern and is answered here too, so callers ask this one
module: `crypto_ciphers` (AES-GCM under a key or a backend's KEK, and `TamperedRecord`,
`KeyMissing`) and `crypto_accounts` (account secrets: `seal_account_secret`,
`open_account_secret`, `account_secret_kek`).
"""

import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import g, has_app_context

from handover.security import key_backends, keys
from handover.security.crypto_accounts import (  # noqa: F401  (asked through here)
    ACCOUNT_SEAL_PREFIX,
    account_secret_kek,
    open_account_secret,
    seal_account_secret,
)
from handover.security.crypto_ciphers import KeyMissing, TamperedRecord
from handover.security.crypto_ciphers import decrypt as _decrypt
from handover.security.crypto_ciphers import encrypt as _encrypt
from handover.security.crypto_ciphers import kek_decrypt as _kek_decrypt
from handover.security.crypto_ciphers import kek_encrypt as _kek_encrypt

FORMAT_VERSION = key_backends.FORMAT_VERSION
DATA_KEY_BYTES = 32


class Purpose:
    """What a sealed value is; part of its associated data, so values cannot trade places."""

    CONTENT = "content"
    DRAFT = "draft"
    SUMMARY = "summary"
    REPLY = "reply"
    ACKNOWLEDGEMENT = "acknowledgement"
    ATTACHMENT = "attachment"
    ATTACHMENT_NAME = "attachment-name"
    #: Typing kept across an expired session; its record is the id of the user who typed it.
    KEPT_TYPING = "kept-typing"

    ALL = frozenset(
        {CONTENT, DRAFT, SUMMARY, REPLY, ACKNOWLEDGEMENT, ATTACHMENT, ATTACHMENT_NAME,
         KEPT_TYPING}
    )
    #: Purposes whose values belong to a row of their own (Reply.id / Attachment.id / User.id).
    PER_RECORD = frozenset({REPLY, ATTACHMENT, ATTACHMENT_NAME, KEPT_TYPING})


def new_data_key():
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def wrap_data_key(data_key, handover_id):
    """Wrap ``data_key`` with the active KEK; returns ``(kek_id, wrapped)`` for the row."""
    kek_id = key_backends.active_kek_id()
    return kek_id, rewrap_data_key(data_key, handover_id, kek_id)


def rewrap_data_key(data_key, handover_id, kek_id, kek=None):
    """Wrap with a given KEK: used by `wrap_data_key` and by key rotation. ``kek`` (key
    bytes) only for a KEK of the key file that the caller already holds."""
    _require_id(handover_id)
    associated = _wrap_associated_data(kek_id, handover_id)
    if kek is not None:
        return key_backends.seal_blob(kek, data_key, associated)
    return _kek_encrypt(kek_id, data_key, associated)


def unwrap_data_key(kek_id, wrapped, handover_id, *, keyring=None):
    """The data key of a handover; `KeyMissing` if the KEK is gone, `TamperedRecord` if the
    wrapped key does not open (changed, or copied from another handover or KEK). Batch jobs
    pass ``keyring`` so as not to read the key file once per row."""
    _require_id(handover_id)
    if kek_id is None or wrapped is None:
        raise KeyMissing(f"handover {handover_id} has no wrapped data key")
    data_key = _kek_decrypt(kek_id, wrapped, _wrap_associated_data(kek_id, handover_id),
                            keyring, f"KEK {kek_id} of handover {handover_id}")
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
    key = keys.current_identity_hash_key()
    return hmac.new(key, normalised, hashlib.sha256).hexdigest()


def request_fingerprint(value):
    """A keyed digest (base64url, 43 characters) of a request's canonical JSON ``value``, for
    telling whether a retried request is the same one without storing what it carried. Keyed
    for the same reason as `identity_hash`: a plain hash of a request holding a child's name
    and identity code could be matched against guesses of them."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str).encode("utf-8")
    key = keys.current_identity_hash_key()
    digest = hmac.new(key, b"request-fingerprint\0" + canonical, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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
