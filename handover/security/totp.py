"""Time-based one-time codes (RFC 6238, via pyotp), each accepted once.

A code is valid in its own 30-second step and one step either side (clock drift). The step of
the last accepted code is kept on the user, and a code from that step or an earlier one is
refused, so that a code seen over a shoulder or replayed from a proxy log is worthless. The
step is claimed with one conditional UPDATE, so two requests racing with the same code cannot
both win.
"""

import hmac
import time

import pyotp
import segno
from sqlalchemy import update

from handover.store.database import db
from handover.store.models import User

ISSUER = "Handover"
VALID_WINDOW = 1


def new_secret():
    return pyotp.random_base32()


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
    step = matching_step(secret or user.totp_secret, code)
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
