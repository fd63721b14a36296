"""KEKs inside an HSM, through PKCS#11 (python-pkcs11): the key never leaves the device.

Each KEK is an AES-256 secret key object on the token, generated there with ``SENSITIVE`` set
and ``EXTRACTABLE`` unset, labelled with its KEK id (``p11-<time>-<random>``). Handover sends
the data key and the associated data that binds it to its handover (the same as the key file's
wrapping) to the HSM for CKM_AES_GCM and keeps only the result: so a stolen disk plus a
database backup open nothing without the HSM. The active KEK is the newest on the token
(labels sort by creation time), or the one ``HANDOVER_PKCS11_KEK`` names.

Configuration: ``HANDOVER_PKCS11_MODULE`` (the vendor's .so), ``HANDOVER_PKCS11_TOKEN`` (token
label), and the user PIN from ``HANDOVER_PKCS11_PIN`` or the file ``HANDOVER_PKCS11_PIN_FILE``;
never from the database.

One session per process, behind a lock. A failure of the device (removed, network gone,
session lost) re-initialises the library and tries again after a short pause, a few times:
a token whose store another process is rewriting (SoftHSM while `keys rotate` adds a KEK) or
a network HSM failing over answers again within a moment. What still fails becomes
`KeyBackendUnavailable`: the request answers 503, and the next use starts afresh, so service
returns when the HSM does.
"""

import logging
import os
import secrets
import threading
import time
from datetime import UTC, datetime

import pkcs11
import pkcs11.mechanisms
from flask import current_app

from handover.config import ConfigurationError
from handover.security.key_backends import (
    HEADER,
    NONCE_BYTES,
    DoesNotOpen,
    KekNotHeld,
    KeyBackend,
    KeyBackendUnavailable,
    split_blob,
)

log = logging.getLogger(__name__)
PREFIX = "p11-"
#: Seconds a worker keeps the answer to "which KEK is active".
ACTIVE_TTL = 2.0
#: Pauses, in seconds, before each further try after a device failure: about a second in all
#: before a request answers 503.
RETRY_PAUSES = (0.0, 0.2, 0.8)
#: Errors that say the blob or its binding is wrong, not the device: SoftHSM answers a failed
#: GCM tag with CKR_GENERAL_ERROR, so that one is told apart by asking the device afterwards.
_DATA_ERRORS = ("EncryptedDataInvalid", "EncryptedDataLenRange", "DataInvalid", "DataLenRange")

#: python-pkcs11's library object per module path and process (a PKCS#11 library may be
#: initialised once per process; a forked worker initialises its own).
_LIBRARIES = {}
_LIBRARY_LOCK = threading.Lock()


def library_for(module):
    """The process's python-pkcs11 library object for ``module``; a forked worker (gunicorn)
    re-initialises the library it inherited, as PKCS#11 requires."""
    with _LIBRARY_LOCK:
        found = _LIBRARIES.get(module)
        if found is None:
            found = _LIBRARIES[module] = (pkcs11.lib(module), os.getpid())
        elif found[1] != os.getpid():
            found[0].reinitialize()
            found = _LIBRARIES[module] = (found[0], os.getpid())
        return found[0]


def read_pin(config):
    """The user PIN from the environment or a file, never the database."""
    pin = config.get("PKCS11_PIN")
    pin_file = config.get("PKCS11_PIN_FILE")
    if not pin and pin_file:
        try:
            with open(pin_file, encoding="utf-8") as handle:
                pin = handle.read().strip()
        except OSError as error:
            raise ConfigurationError(f"Cannot read HANDOVER_PKCS11_PIN_FILE: {error}") from None
    if not pin:
        raise ConfigurationError(
            "The pkcs11 key backend needs the token's PIN in HANDOVER_PKCS11_PIN or in a file "
            "named by HANDOVER_PKCS11_PIN_FILE.")
    return pin


class Pkcs11Backend(KeyBackend):
    name = "pkcs11"
    prefix = PREFIX

    def __init__(self, app=None):
        config = (app or current_app).config
        self.module = config.get("PKCS11_MODULE")
        self.token_label = config.get("PKCS11_TOKEN")
        if not self.module or not self.token_label:
            raise ConfigurationError(
                "The pkcs11 key backend needs HANDOVER_PKCS11_MODULE (the library's path) and "
                "HANDOVER_PKCS11_TOKEN (the token label).")
        self.pinned_kek = config.get("PKCS11_KEK") or None
        self._config = config
        self._lock = threading.RLock()
        self._session = None
        self._pid = None
        self._handles = {}
        self._active = None

    def describe(self):
        return f"pkcs11 (token {self.token_label})"

    # -- the device --------------------------------------------------------------------

    def _open(self):
        if self._session is not None and self._pid == os.getpid():
            return self._session
        library = library_for(self.module)
        token = library.get_token(token_label=self.token_label)
        try:
            self._session = token.open(user_pin=read_pin(self._config), rw=True)
        except pkcs11.UserAlreadyLoggedIn:
            # PKCS#11 logs in per application and token: another app in this process did.
            self._session = token.open(rw=True)
        self._pid = os.getpid()
        self._handles = {}
        return self._session

    def _reset(self):
        """Forget the session and re-initialise the library: the next use starts afresh."""
        self._session = None
        self._handles = {}
        library = _LIBRARIES.get(self.module)
        if library is not None:
            try:
                library[0].reinitialize()
            except pkcs11.PKCS11Error as error:
                log.warning("HSM still unavailable: %s", type(error).__name__)

    def _run(self, operation):
        """``operation(session)`` under the lock; a device failure resets and tries again
        after each of `RETRY_PAUSES`, then answers `KeyBackendUnavailable`."""
        with self._lock:
            for pause in (*RETRY_PAUSES, None):
                try:
                    return operation(self._open())
                except (KekNotHeld, DoesNotOpen):
                    raise
                except pkcs11.PKCS11Error as error:
                    if type(error).__name__ in _DATA_ERRORS:
                        raise DoesNotOpen("the HSM refused the blob") from None
                    self._reset()
                    if pause is None:
                        raise KeyBackendUnavailable(
                            f"the HSM token {self.token_label} cannot be used "
                            f"({type(error).__name__})") from None
                    log.warning("HSM token %s failed (%s); trying again", self.token_label,
                                type(error).__name__)
                    time.sleep(pause)
        raise AssertionError("unreachable")

    def _key(self, session, kek_id):
        handle = self._handles.get(kek_id)
        if handle is None:
            try:
                handle = session.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY,
                                         key_type=pkcs11.KeyType.AES, label=kek_id)
            except pkcs11.NoSuchKey:
                # A token that shows no KEK at all is a token not (fully) there: an outage,
                # not a record naming a key that was never made.
                if not self._labels(session):
                    raise pkcs11.TokenNotPresent() from None
                raise KekNotHeld(kek_id) from None
            self._handles[kek_id] = handle
        return handle

    # -- the interface -----------------------------------------------------------------

    @staticmethod
    def _labels(session):
        found = session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY})
        return sorted(key.label for key in found if (key.label or "").startswith(PREFIX))

    def kek_ids(self):
        return self._run(self._labels)

    def active_kek_id(self):
        """The newest KEK on the token. Listing the token's objects costs more than the wrap
        itself, so the answer is kept for `ACTIVE_TTL` seconds: a worker moves to a KEK that
        `keys rotate` just made within that time, and the rotation sweeps again for rows
        wrapped by the previous one meanwhile."""
        if self.pinned_kek:
            return self.pinned_kek
        now = time.monotonic()
        if self._active is not None and now - self._active[0] < ACTIVE_TTL:
            return self._active[1]
        held = self.kek_ids()
        found = held[-1] if held else None
        self._active = (now, found) if found else None
        return found

    def encrypt(self, kek_id, plaintext, associated):
        nonce = os.urandom(NONCE_BYTES)

        def encrypt(session):
            return self._key(session, kek_id).encrypt(
                plaintext, mechanism=pkcs11.Mechanism.AES_GCM,
                mechanism_param=pkcs11.mechanisms.GCMParams(nonce, HEADER + associated, 128))
        return HEADER + nonce + self._run(encrypt)

    def decrypt(self, kek_id, blob, associated):
        nonce, ciphertext = split_blob(blob)

        def decrypt(session):
            key = self._key(session, kek_id)
            try:
                return key.decrypt(
                    ciphertext, mechanism=pkcs11.Mechanism.AES_GCM,
                    mechanism_param=pkcs11.mechanisms.GCMParams(nonce, HEADER + associated, 128))
            except (pkcs11.GeneralError, pkcs11.FunctionFailed):
                # A failed tag or a failed device: the device answers which, if it still can.
                session.generate_random(64)
                raise DoesNotOpen("sealed value failed its integrity check") from None
        return self._run(decrypt)

    def add_kek(self):
        # The newest label sorts last (`active_kek_id` takes the last): microseconds, so that
        # two rotations within one second still sort in the order they were made; an older
        # label without them sorts before any newer one of the same second ("-" < digits).
        kek_id = (PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-"
                  + secrets.token_hex(3))

        def generate(session):
            attribute = pkcs11.Attribute
            session.generate_key(
                pkcs11.KeyType.AES, 256, label=kek_id, store=True,
                capabilities=pkcs11.MechanismFlag.ENCRYPT | pkcs11.MechanismFlag.DECRYPT,
                template={attribute.SENSITIVE: True, attribute.EXTRACTABLE: False,
                          attribute.TOKEN: True, attribute.PRIVATE: True})
        self._run(generate)
        self._active = None
        if self.pinned_kek:
            raise ConfigurationError(
                f"Created {kek_id} in the HSM, but HANDOVER_PKCS11_KEK pins {self.pinned_kek}: "
                f"set it to {kek_id} and run `handover keys rotate --resume`.")
        return kek_id

    def retire_kek(self, kek_id):
        def destroy(session):
            self._key(session, kek_id).destroy()
            self._handles.pop(kek_id, None)
        self._run(destroy)
