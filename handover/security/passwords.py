"""Password hashing (argon2id) and the password policy.

The policy follows current guidance for memorised secrets: a minimum length and a check against
commonly used passwords, no composition rules and no silent truncation. The upper bound exists
only so that a megabyte "password" cannot keep an argon2 worker busy; it is far above anything a
person types or a password manager generates.
"""

import functools
import secrets
from importlib import resources

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from handover.i18n import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1024

#: The argon2id parameter sets an instance may choose with ``ARGON2_PROFILE`` (argon2-cffi's
#: profiles). The default is RFC 9106's low-memory profile (64 MiB, t=3, p=4); its
#: high-memory one takes 2 GiB per login. Choosing a stronger one makes every login with an
#: older hash store a new one (`needs_rehash`). ``CHEAPEST`` exists for the test suite, which
#: makes thousands of accounts: it is refused outside ``TESTING`` (`profile_problem`).
PROFILES = {
    "RFC_9106_LOW_MEMORY": profiles.RFC_9106_LOW_MEMORY,
    "RFC_9106_HIGH_MEMORY": profiles.RFC_9106_HIGH_MEMORY,
    "CHEAPEST": profiles.CHEAPEST,
}
DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"
_TESTS_ONLY = {"CHEAPEST"}
_HASHER = "handover.password_hasher"
_DUMMY_HASH = "handover.password_dummy_hash"


def profile_problem(config):
    """Why start-up must not go on with ``config``'s ``ARGON2_PROFILE``; None when it may."""
    name = config.get("ARGON2_PROFILE", DEFAULT_PROFILE)
    if name not in PROFILES:
        return (f"ARGON2_PROFILE is {name!r}; choose one of "
                f"{', '.join(sorted(set(PROFILES) - _TESTS_ONLY))}.")
    if name in _TESTS_ONLY and not config.get("TESTING"):
        return (f"ARGON2_PROFILE {name!r} is for the test suite only: a stolen database "
                f"would give up its passwords at once. Use {DEFAULT_PROFILE!r}.")
    return None


def hasher():
    """The argon2id hasher of this app's profile, made once per app; outside any app (a script
    with no instance) the default profile's."""
    if not has_app_context():
        return _default_hasher()
    extensions = current_app.extensions
    found = extensions.get(_HASHER)
    if found is None:
        found = extensions[_HASHER] = PasswordHasher.from_parameters(
            PROFILES[current_app.config.get("ARGON2_PROFILE", DEFAULT_PROFILE)])
    return found


@functools.cache
def _default_hasher():
    return PasswordHasher.from_parameters(PROFILES[DEFAULT_PROFILE])


def hash_password(password):
    return hasher().hash(password)


def verify_password(stored_hash, password):
    """True when ``password`` matches; a malformed stored hash is a mismatch, not a crash."""
    try:
        return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash):
    try:
        return hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def spend_verification_time(password):
    """Verify against a throw-away hash made with the current parameters, so that a login for an
    unknown e-mail takes as long as one with a wrong password (no account enumeration by time).
    The throw-away hash is made on the first such login, once per app and hasher."""
    current = hasher()
    kept = current_app.extensions.get(_DUMMY_HASH) if has_app_context() else None
    if kept is None or kept[0] is not current:
        kept = (current, current.hash(secrets.token_urlsafe(16)))
        if has_app_context():
            current_app.extensions[_DUMMY_HASH] = kept
    verify_password(kept[1], password)
    return False


@functools.cache
def common_passwords():
    """The case-folded list shipped in ``handover/data/common-passwords.txt`` ('#' = comment)."""
    text = resources.files("handover").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problems(password, *, email=None, name=None):
    """Translated reasons why ``password`` may not be used; an empty list means it is fine."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(
            _("Use at least %(count)d characters. A few unrelated words make a good password.",
              count=MIN_LENGTH)
        )
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(count)d characters.", count=MAX_LENGTH))
    folded = password.strip().casefold()
    if folded in common_passwords():
        problems.append(_("This password is too common and easy to guess. Choose another one."))
    personal = set()
    for value in (email, name):
        if value and value.strip():
            personal.add(value.strip().casefold())
    if email and "@" in email:
        personal.add(email.strip().split("@", 1)[0].casefold())
    if folded and folded in personal:
        problems.append(_("Do not use your e-mail address or name as your password."))
    return problems
