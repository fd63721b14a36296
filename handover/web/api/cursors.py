"""The inbox's ``next`` cursor: the place of a page's last handover in the newest-first order
(sending time and id, `listing.sort_key`), signed with the app's secret key.

Signed, so that the cursor stays opaque: a client can only hand back a place the server gave
out, and a changed or garbled cursor is the client's mistake (422 at ``query.cursor``), never
a query built from whatever it holds. The place says nothing a page did not already show.
"""

from datetime import UTC, datetime, timedelta

from apiflask.fields import String
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from marshmallow import ValidationError

from handover.i18n import lazy_gettext as _l
from handover.web import LARGEST_ID

#: Keeps these signatures apart from every other use of the secret key.
SALT = "handover.api.inbox-cursor"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Microseconds since 1970 up to the end of year 9999, the last a datetime holds.
LARGEST_MOMENT = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - EPOCH) // timedelta(
    microseconds=1)
NOT_OURS = _l("This cursor was not given by this server, or it was changed. Start again "
              "from the first page.")


def _signer():
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def cursor_for(key):
    """The cursor of ``(sent_at, handover id)``, or None when there is no next page."""
    if key is None:
        return None
    sent_at, handover_id = key
    return _signer().dumps([(sent_at - EPOCH) // timedelta(microseconds=1), handover_id])


def place_of(cursor):
    """The ``(sent_at, handover id)`` a cursor of ours names; `ValidationError` otherwise."""
    try:
        moment, handover_id = _signer().loads(cursor)
    except (BadData, TypeError, ValueError):
        raise ValidationError(str(NOT_OURS)) from None
    if not all(type(number) is int for number in (moment, handover_id)) or not (
            0 <= moment <= LARGEST_MOMENT and 0 < handover_id <= LARGEST_ID):
        raise ValidationError(str(NOT_OURS))   # signed by us, yet not a place: refuse, don't guess
    return EPOCH + timedelta(microseconds=moment), handover_id


class Cursor(String):
    """A query parameter holding a cursor; loads as the place it names."""

    def _deserialize(self, value, attr, data, **kwargs):
        return place_of(super()._deserialize(value, attr, data, **kwargs))
