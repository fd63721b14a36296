"""The two-step login and the password change, as plain functions the views call.

Step one (password) only records, in the signed session cookie, which account passed and when;
it never logs anybody in. Step two (a TOTP code, or enrolling one) starts the server-side
session. Each step writes its audit event in the same transaction as its effect.
"""

import hmac
import re
import time
from typing import NamedTuple

from flask import current_app, session
from sqlalchemy import bindparam, func, select, update

from handover.security import crypto, oidc, passwords, sessions, totp
from handover.security.redirects import safe_next
from handover.security.throttle import PENDING_KEY, mark_failed, normalise_email
from handover.store import audit
from handover.store.database import db
from handover.store.models import User

#: How long the password step stays good for the code step.
PENDING_MAX_AGE = 300
ENROL_KEY = "totp_enrolment"
#: What an e-mail address typed at the password step looks like, to label a failure with it.
LOOKS_LIKE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^\W\d_]{2,}$")


class ClaimedAccount(NamedTuple):
    """Whom a failed attempt claimed to be. Audited by label only: nobody was authenticated."""

    email: str
    id: None = None


def check_password(email, password, next_url=None):
    """Step one. Returns the user when the password is right and the account active, else None.

    Unknown accounts are verified against a dummy hash so that every failure costs the same
    time, and every failure gets the same answer; only the audit log tells them apart.
    """
    email = normalise_email(email)
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email)
    ).scalar_one_or_none()
    if user is None:
        passwords.spend_verification_time(password)
        reason = "unknown_account"
    elif not passwords.verify_password(user.password_hash, password):
        reason = "wrong_password"
    elif not user.active:
        reason = "inactive_account"
    elif not user.password_login:
        reason = "password_login_off"  # signs in only through the organisation's provider
    else:
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
            db.session.commit()
        _begin_pending(user, next_url)
        return user
    label = user.email if user is not None else _label_of_unknown(email)
    record_failure(label, reason)
    return None


def _label_of_unknown(email):
    """What the audit log names a failed login for an account that does not exist: the typed
    address only when it looks like one of this instance's (a mistyped name at a domain some
    account has), else nothing. People sometimes type their password into the e-mail field,
    and that must not end up in the log: an "@" is not enough ("Kesä@2025Turvallinen"), nor a
    dot after it ("Kissa@2025.Kevat")."""
    if not LOOKS_LIKE_EMAIL.match(email):
        return ""
    domain = "@" + email.rsplit("@", 1)[1]
    known = db.session.execute(select(User.id).where(
        func.lower(User.email).endswith(domain, autoescape=True)).limit(1)).first()
    return email if known is not None else ""


def record_failure(label, reason):
    mark_failed()
    audit.record("auth.login_failed", actor=ClaimedAccount(label[:254]), outcome="denied",
                 detail=reason)
    db.session.commit()


def _begin_pending(user, next_url):
    session[PENDING_KEY] = {"user_id": user.id, "email": normalise_email(user.email),
                            "at": int(time.time()), "next": safe_next(next_url),
                            "stamp": sessions.credentials_stamp(user)}


def pending_next():
    return (session.get(PENDING_KEY) or {}).get("next")


def pending_user():
    """The active account whose password was given less than five minutes ago, or None.

    None too when the account's credentials changed since (`sessions.credentials_stamp`): an
    administrator's reset, a password change, password login turned off or a deactivation
    ends a half-finished login, or whoever began it could enrol an authenticator of their own.
    """
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    age = time.time() - state.get("at", 0)
    user = db.session.get(User, state.get("user_id")) if 0 <= age <= PENDING_MAX_AGE else None
    if user is None or not user.active or not _same_credentials(state, user):
        session.pop(PENDING_KEY, None)
        return None
    return user


def _same_credentials(state, user):
    """Are ``user``'s credentials still those the pending login began with (its password
    step, or the organisation's sign-in)? A reset, a password change or turning password
    login off in between ends it."""
    return hmac.compare_digest(str(state.get("stamp", "")), sessions.credentials_stamp(user))


class CodesLocked(Exception):
    """The account's code step is locked: too many wrong codes in a row (`check_code`)."""


#: One more wrong code, counted in the row itself (two guesses at once both count).
_COUNT_WRONG_CODE = (update(User).where(User.id == bindparam("user_id"))
                     .values(failed_codes=User.failed_codes + 1)
                     .returning(User.failed_codes)
                     .execution_options(synchronize_session=False))


def codes_left(user):
    """How many more wrong codes in a row ``user`` may give before the code step locks."""
    return max(current_app.config["CODE_FAILURES_BEFORE_LOCK"] - user.failed_codes, 0)


def codes_locked(user):
    """Has ``user`` given `CODE_FAILURES_BEFORE_LOCK` wrong codes in a row?"""
    return user.failed_codes >= current_app.config["CODE_FAILURES_BEFORE_LOCK"]


def check_code(user, code):
    """Step two for an enrolled user: a fresh code starts the session.

    The login limits allow five attempts a minute, and each code guessed matches one of three
    (the clock's drift is allowed for): someone who knows the password would find a code in a
    few weeks of guessing. So wrong codes in a row are counted on the account, and at
    `CODE_FAILURES_BEFORE_LOCK` every code is refused (`CodesLocked`, audited) until an
    administrator resets the password; a right code before that starts the count again."""
    if codes_locked(user):
        record_failure(user.email, "codes_locked")
        raise CodesLocked()
    if totp.accept_code(user, code):
        user.failed_codes = 0
        _finish(user)
        return True
    count_wrong_code(user)
    record_failure(user.email, "wrong_code")
    if codes_locked(user):
        raise CodesLocked()
    return False


def count_wrong_code(user):
    """One more wrong code of ``user``'s in a row, wherever a code was asked (the login, an
    administrator's confirmation of a new integration client); at the limit the lock is
    audited. The caller commits."""
    user.failed_codes = db.session.execute(_COUNT_WRONG_CODE,
                                           {"user_id": user.id}).scalar_one()
    if user.failed_codes == current_app.config["CODE_FAILURES_BEFORE_LOCK"]:
        audit.record("auth.codes_locked", actor=user, outcome="denied",
                     detail={"wrong_codes": user.failed_codes})


def enrolment_secret(user):
    """The secret being enrolled, kept in the session cookie until confirmed. It survives a new
    password step by the same user, so that a QR code already scanned stays good.

    Sealed with the instance's key for this user: the cookie is signed, not encrypted, and the
    secret becomes the account's second factor once confirmed; a browser, a proxy or a tool
    that keeps cookies must not hold it readable. One that no longer opens (the key rotated,
    another user's) gives way to a new secret."""
    state = session.get(ENROL_KEY)
    if isinstance(state, dict) and state.get("user_id") == user.id:
        try:
            return crypto.open_account_secret(str(state.get("sealed", "")), user_id=user.id,
                                              purpose=ENROL_KEY)
        except (crypto.TamperedRecord, crypto.KeyMissing):
            pass
    secret = totp.new_secret()
    session[ENROL_KEY] = {"user_id": user.id, "sealed": crypto.seal_account_secret(
        secret, user_id=user.id, purpose=ENROL_KEY)}
    return secret


def confirm_enrolment(user, code):
    secret = enrolment_secret(user)
    if not totp.accept_code(user, code, secret=secret):
        record_failure(user.email, "wrong_enrolment_code")
        return False
    totp.store_secret(user, secret)
    audit.record("auth.totp_enrolled", actor=user)
    _finish(user)
    return True


def _finish(user):
    """Start the session after the code step. When the first step was the organisation's
    provider (`oidc.begin_code_step`), it is recorded as such, with the local code as the
    second factor, and the session is marked so that logging out ends the provider's too."""
    via_provider = came_from_provider()
    audit.record("auth.login", actor=user,
                 detail={"via": "sso", "mfa": True} if via_provider else "")
    sessions.start(user)  # commits, with the audit events, under a brand-new session id
    if via_provider:
        session[oidc.SIGNED_IN_KEY] = True


def came_from_provider():
    """Did the pending login's first step happen at the organisation's provider?"""
    state = session.get(PENDING_KEY)
    return isinstance(state, dict) and state.get("via") == oidc.VIA_PROVIDER


def password_change_due(user):
    """Must ``user`` choose a new password before anything else? Only while password login
    is on: an account that signs in only through the organisation's provider has no password
    it could use, and a forced change would shut it out of every page."""
    return bool(user.must_change_password and user.password_login)


def logout(user):
    audit.record("auth.logout", actor=user)
    sessions.end(user)


class PasswordChangedMeanwhile(Exception):
    """The password was changed by someone else (an administrator's reset) since the page
    checked the current one: the change is not made, and the reset stands."""


#: Writes nothing new, but takes the account's row (PostgreSQL) or the database's write lock
#: (SQLite) until the commit; answers the password hash stored now, and whether a change is
#: forced (which only a reset sets).
_HOLD_PASSWORD = (update(User).where(User.id == bindparam("user_id"))
                  .values(password_hash=User.password_hash)
                  .returning(User.password_hash, User.must_change_password)
                  .execution_options(synchronize_session=False))


def change_password(user, new_password):
    """Set a new password, clear a forced change and end the user's other sessions.

    The caller has checked the current password and `passwords.password_problems`. Raises
    `PasswordChangedMeanwhile` when an administrator reset the password since: the person's
    own new password would otherwise have replaced the temporary one the administrator
    handed over, in the very session the reset was meant to end.
    """
    new_hash = passwords.hash_password(new_password)   # slow: before the row is held
    stored, forced = db.session.execute(_HOLD_PASSWORD, {"user_id": user.id}).one()
    if stored != user.password_hash:
        if passwords.verify_password(stored, new_password):
            # The same change, posted twice (a double click): done. The first post moved this
            # browser to a new session id and revoked the one this post came with; this
            # answer, the browser's last, must not leave it holding the revoked one.
            db.session.rollback()
            sessions.renew(user)
            db.session.commit()
            return
        if forced:   # an administrator reset it since the page was read
            db.session.rollback()
            raise PasswordChangedMeanwhile()
        # Otherwise the hash was only renewed (a login with stronger hashing settings).
    user.password_hash = new_hash
    user.must_change_password = False
    current = user.current_session.id if user.current_session is not None else None
    sessions.revoke_all(user.id, except_session_id=current)
    sessions.renew(user)   # this browser goes on under a new session id
    audit.record("account.password_changed", actor=user)
    db.session.commit()
