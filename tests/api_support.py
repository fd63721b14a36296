"""Shared by the API tests: integration clients made through the service, and a bearer client.

Import the fixtures beside the lifecycle ones (``from api_support import api_client``)."""

from datetime import timedelta

import pytest
from lifecycle_support import FORM_KEY, content

from handover.services import integration_clients
from handover.store.database import db
from handover.store.models import IntegrationClient
from handover.store.models.base import utcnow

RECEIVING_SCOPES = {"inbox:read", "handover:read", "handover:acknowledge", "reply:send",
                    "forms:read"}
SENDING_SCOPES = {"handover:send", "forms:read"}


def make_token(world, unit_name, scopes, *, name=None, expires_in=timedelta(days=30)):
    """A client for ``unit_name`` (None: no unit) with ``scopes``, in force (as the operator
    confirms one); returns its token."""
    admin = world.user("admin")
    unit = world.unit(unit_name) if unit_name else None
    _client, token = integration_clients.create(
        admin, name or f"{unit_name}-{'-'.join(sorted(scopes))}", unit, set(scopes),
        utcnow() + expires_in, confirmed=True)
    return token


def expire(token):
    client = db.session.query(IntegrationClient).filter_by(
        token_hash=integration_clients.hash_token(token)).one()
    client.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


@pytest.fixture
def api(app, world):
    """Tokens: ``receiving`` (the ward's system), ``sending`` (the institution's), ``other``
    (an unrelated ward), each with the scopes its system needs."""
    with app.app_context():
        return {
            "receiving": make_token(world, "receiving", RECEIVING_SCOPES),
            "sending": make_token(world, "sending", SENDING_SCOPES | {"handover:read"}),
            "other": make_token(world, "other", RECEIVING_SCOPES),
            "copy": make_token(world, "copy", RECEIVING_SCOPES),
        }


#: A second child, for a request that differs from another only in whom it is about.
OTHER_CHILD = {"child_name": "Toinen Lapsi", "child_identity_code": "010594Y9021"}


def draft_body(world, **content_overrides):
    """The JSON body of a new draft to the receiving unit, its content as `content` gives it."""
    return {"form_key": FORM_KEY, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "lsl_disclosure",
            "content": content(**content_overrides)}
