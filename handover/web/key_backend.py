"""A clear 503 while the key backend (an HSM) cannot be reached, and recovery without a restart.

Opening a handover needs its data key unwrapped by the KEK in the backend. When the HSM is
down, that is an outage, not a tampered record: the reader gets the same 503 page as for a
database outage, nothing is audited as tampered, and the backend re-initialises on the next
request, so pages open again as soon as the HSM answers.
"""

import logging

from flask import Blueprint, render_template

from handover.i18n import gettext as _
from handover.security.key_backends import KeyBackendUnavailable
from handover.store.database import db

bp = Blueprint("key_backend", __name__)
log = logging.getLogger(__name__)

RETRY_AFTER = 30


@bp.app_errorhandler(KeyBackendUnavailable)
def key_backend_unavailable(error):
    log.warning("key backend unavailable: %s", error)
    db.session.rollback()  # nothing half-done is committed by the page's teardown
    message = _("The service is temporarily unavailable. Try again in a moment.")
    body = render_template("errors/error.html", code=503, message=message)
    return body, 503, {"Retry-After": str(RETRY_AFTER)}
