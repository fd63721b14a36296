"""Password hashing (argon2id) and the password policy.

The policy follows current guidance for memorised secrets: a minimum length and a check against
commonly used passwords, no composition rules and no silent truncation. The upper bound exists
only so that a megabyte "password" cannot keep an argon2 worker busy; it is far above anything a
person types or a password manager generates.
"""

import functools
import secrets
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from handover.i18n import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1024

#: argon2-cffi's defaults are the RFC 9106 low-memory profile (argon2id, 64 MiB, t=3, p=4).
#: Raising them here makes every login with an older hash store a new one (`needs_rehash`).
hasher = PasswordHasher()


def hash_password(password):
    return hasher.hash(password)


def verify_password(stored_hash, password):
    """True when ``password`` matches; a malformed stored hash is a mismatch, not a crash."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash):
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash_for(parameters):
    return hasher.hash(secrets.token_urlsafe(16))


def spend_verification_time(password):
    """Verify against a throw-away hash made with the current parameters, so that a login for an
    unknown e-mail takes as long as one with a wrong password (no account enumeration by time)."""
    parameters = (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    verify_password(_dummy_hash_for(parameters), password)
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
