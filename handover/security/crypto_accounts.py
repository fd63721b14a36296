"""Account secrets: a user's TOTP secret, or a webhook endpoint's signing secret, which belong to
no handover. Each is sealed straight under the active KEK, with associated data naming its
owner and purpose, and stored as text that names the KEK (`ACCOUNT_SEAL_PREFIX`), so that key
rotation can find and re-seal it (`account_secret_kek`).

Apart from `crypto`, whose values are bound to a handover and its data key, because these have
neither; `crypto` answers for these names too: callers import them from there.
"""

import base64
import binascii
import json

from handover.security import key_backends, keys
from handover.security.crypto_ciphers import TamperedRecord, encrypt, kek_decrypt, kek_encrypt

#: Starts every sealed account secret: ``sealed-v1:<kek id>:<urlsafe base64 of the blob>``.
ACCOUNT_SEAL_PREFIX = "sealed-v1:"


def seal_account_secret(secret: str, *, user_id: int, purpose: str = "totp",
                        keyring: dict | None = None) -> str:
    """``secret`` sealed under the active KEK for one user, as text for a string column.

    Copied into another user's row, or read with another purpose, it does not open."""
    if user_id is None:
        raise ValueError("the user needs an id (flush it first): the sealed secret binds it")
    plaintext = secret.encode("utf-8")
    if keyring is not None and key_backends.configured_name() == "file":
        kek_id, kek = keys.active_kek(keyring)
        blob = encrypt(kek, plaintext, _account_associated_data(kek_id, user_id, purpose))
    else:
        kek_id = key_backends.active_kek_id()
        blob = kek_encrypt(kek_id, plaintext, _account_associated_data(kek_id, user_id, purpose))
    return ACCOUNT_SEAL_PREFIX + kek_id + ":" + base64.urlsafe_b64encode(blob).decode("ascii")


def open_account_secret(stored: str, *, user_id: int, purpose: str = "totp",
                        keyring: dict | None = None) -> str:
    """The secret `seal_account_secret` sealed for ``user_id``; `KeyMissing` when its KEK is
    gone, `TamperedRecord` when it was changed, moved to another user, or never sealed."""
    kek_id = account_secret_kek(stored)
    if kek_id is None:
        raise TamperedRecord(f"the {purpose} secret of user {user_id} is not sealed")
    try:
        blob = base64.urlsafe_b64decode(stored.rsplit(":", 1)[1].encode("ascii"))
    except (binascii.Error, ValueError):
        raise TamperedRecord(f"the {purpose} secret of user {user_id} is malformed") from None
    plaintext = kek_decrypt(kek_id, blob, _account_associated_data(kek_id, user_id, purpose),
                            keyring, f"KEK {kek_id} of the {purpose} secret of user {user_id}")
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
