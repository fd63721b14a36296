"""A clear 503 while the database cannot be reached, and recovery without a restart.

When the database goes away (restart, failover, network), SQLAlchemy raises OperationalError or
InterfaceError from whatever line touched it. Unhandled, that is a 500 with a traceback in the
log and, worse, a session left in a failed transaction. Here it becomes a 503 page in the user's
language, the session is rolled back so the next request starts clean, and `pool_pre_ping`
(config DEFAULTS) replaces dead pooled connections once the database is back.

Integrity and programming errors are not outages: they stay 500s so that bugs are not hidden.
"""

import logging
from contextlib import suppress

from flask import Blueprint, current_app, render_template, request, session
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from handover.i18n import gettext as _
from handover.security import sessions
from handover.store.database import db, end_read_only_transaction

bp = Blueprint("unavailable", __name__)
log = logging.getLogger(__name__)

#: Seconds a client (or proxy) is told to wait before trying again.
RETRY_AFTER = 30


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(error):
    # The class name only: the statement and its parameters could carry child data.
    log.warning("database unavailable: %s", error.__class__.__name__)
    _forget_transaction()
    # The page must not reach for the database again: loading the user (for the header, or
    # for their saved language) would. It is shown as to a visitor, in the language chosen in
    # this browser, and a user loaded before the failure is not touched (the rollback above
    # expired it).
    sessions.look_up_nobody()
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.path.startswith("/api/"):
        # An integrating system gets the API's one shape of error, in the language its
        # request asked for (the API's locale comes from Accept-Language, not the session).
        message = _("The service is temporarily unavailable. Try again in a moment.")
        return {"status": 503, "message": message, "errors": []}, 503, headers
    with force_locale(_browser_language()):
        message = _("The service is temporarily unavailable. Try again in a moment.")
        try:
            body = render_template("errors/error.html", code=503, message=message,
                                   as_visitor=True)
        except (OperationalError, InterfaceError, PoolTimeout):
            _forget_transaction()
            body = f"<!doctype html><title>503</title><h1>503</h1><p>{escape(message)}</p>"
    return body, 503, headers


def _browser_language():
    chosen = session.get("language")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.record_once
def _end_transactions_quietly(state):
    # Registered after Flask-SQLAlchemy's teardown (db.init_app comes first), so run before it.
    state.app.teardown_appcontext(end_transaction_quietly)


def end_transaction_quietly(error):
    """The connection can die after a page's last query (the database restarting just then):
    the page is made, only the closing ROLLBACK fails. Flask-SQLAlchemy's own teardown would
    raise that past every error handler, and gunicorn would answer a bare 500 with a traceback
    in the log. Ending the transaction here first, tolerating the failure, leaves it nothing
    to do; the dead connection is invalidated and the pool replaces it.

    No rollback of its own: that would expire the objects a caller keeps after its context.
    A transaction that only read is committed instead (`end_read_only_transaction`), unless
    the request failed."""
    try:
        if error is None:
            try:
                end_read_only_transaction(db.session())
            except InternalError:
                # A failed statement that the request caught left PostgreSQL's transaction
                # aborted: it can only be rolled back, which the removal below does.
                pass
        db.session.remove()
    except (OperationalError, InterfaceError):
        log.warning("database connection lost at the end of a request")
        # The failed close already expunged everything and invalidated the connection; a
        # second close finds nothing left to roll back and forgets the session.
        with suppress(SQLAlchemyError):
            db.session.remove()
        db.session.registry.clear()


def _forget_transaction():
    """Roll back so that this worker's session is usable by the next request."""
    # On a dead connection the rollback itself may fail; dropping the session is then enough.
    with suppress(SQLAlchemyError):
        db.session.rollback()
    db.session.remove()
