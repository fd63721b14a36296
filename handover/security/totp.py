"""Time-based one-time codes (RFC 6238, via pyotp), each accepted once.

A code is valid in its own 30-second step and one step either side (clock drift). The step of
the last accepted code is kept on the user, and a code from that step or an earlier one is
refused, so that a code seen over a shoulder or replayed from a proxy log is worthless. The
step is claimed with one conditional UPDATE, so two requests racing with the same code cannot
both win.

The secret is stored sealed with the instance's key (`crypto.seal_account_secret`), bound to
the user: a database backup alone carries no second factor, and a secret copied into another
user's row does not open. `store_secret` and `secret_of` are the only ways to it.
"""

import hmac
import logging
import time

import pyotp
import segno
from sqlalchemy import update

from handover.security import crypto
from handover.store.database import db
from handover.store.models import User

ISSUER = "Handover"
VALID_WINDOW = 1

logger = logging.getLogger(__name__)


def new_secret():
    return pyotp.random_base32()


def store_secret(user, secret):
    """Keep ``secret`` as the user's second factor, sealed (the caller commits). A new user is
    flushed first: the sealed value names the user's id."""
    if user.id is None:
        db.session.flush()
    user.totp_secret = crypto.seal_account_secret(secret, user_id=user.id)


def secret_of(user):
    """The user's TOTP secret in plain text, or None when the user has not enrolled.

    Raises `crypto.TamperedRecord` (`KeyMissing`) when the stored value does not open."""
    if user.totp_secret is None:
        return None
    return crypto.open_account_secret(user.totp_secret, user_id=user.id)


def is_enrolled(user):
    return user.totp_secret is not None


def provisioning_uri(secret, email):
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code_svg(uri, title):
    """The enrolment QR code as inline SVG. segno draws with presentation attributes (stroke,
    transform) and classes, never ``style=""``, so the page's CSP needs no 'unsafe-inline'."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="totp-qr"
    )


def matching_step(secret, code, now=None):
    """The time step whose code equals ``code`` within the valid window, or None."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret)
    current = otp.timecode(now if now is not None else time.time())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def accept_code(user, code, *, secret=None):
    """Accept ``code`` for ``user`` once: True if it matches and its step was not used before.

    ``secret`` is the not-yet-saved secret during enrolment. The caller commits.
    """
    if secret is None:
        try:
            secret = secret_of(user)
        except crypto.TamperedRecord as error:
            # The account cannot log in until an admin resets its two-factor; say which one
            # (never the secret) so the operator can tell a wrong key file from tampering.
            logger.warning("TOTP secret of user %s does not open (%s)", user.id,
                           type(error).__name__)
            return False
    step = matching_step(secret, code) if secret else None
    if step is None or step <= (user.totp_last_step or 0):
        return False
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    user.totp_last_step = step
    return True
