"""Four eyes on integration clients: a client made on the admin pages gets a token that works
only once an administrator other than its maker confirms it, here or on the Awaiting
confirmation page, or the operator on the server (`handover clients confirm`). Its maker has
seen the token: one administrator alone must not hold a token that reads a unit's handovers
or exports the audit log. Until then every request with the token is refused as any invalid
token is (401), and audited with the reason ``awaiting_confirmation``.
"""

from typing import Any

from sqlalchemy import bindparam, update

from handover.services import policy
from handover.services.accounts import N_, AccountError
from handover.services.integration_clients import all_clients
from handover.store import audit
from handover.store.database import db
from handover.store.models import IntegrationClient, User
from handover.store.models.base import utcnow


def may_confirm(person: Any, client: IntegrationClient) -> bool:
    """Whether ``person`` may confirm (or refuse) ``client``: an active administrator other
    than the one who made it, while it awaits confirmation."""
    return (client.awaiting_confirmation and policy.is_admin(person)
            and person.id != client.created_by_id)


#: Writes nothing new, but takes the client's row (PostgreSQL) or the database's write lock
#: (SQLite) until the commit.
_HOLD_CLIENT = (update(IntegrationClient).where(IntegrationClient.id == bindparam("client_id"))
                .values(name=IntegrationClient.name)
                .execution_options(synchronize_session=False))


def _as_it_is_now(client: IntegrationClient) -> None:
    """Hold the client's row until the commit and read it again: a confirmation and another
    administrator's refusal at the same moment come one after the other, and the second is
    decided on what the first did (before, both were written: a refused client shown as
    confirmed, with a false event)."""
    db.session.execute(_HOLD_CLIENT, {"client_id": client.id})
    db.session.refresh(client)


def confirm(person: User | None, client: IntegrationClient) -> None:
    """Put the client's token in force. ``person`` None is the operator on the server."""
    _as_it_is_now(client)
    if person is not None and not may_confirm(person, client):
        raise AccountError(_REFUSED_CONFIRMATION)
    if not client.awaiting_confirmation:
        raise AccountError(N_("This client does not await confirmation."))
    client.confirmed_at = utcnow()
    client.confirmed_by_id = person.id if person is not None else None
    audit.record("integration_client.confirmed", actor=person, unit_id=client.unit_id,
                 detail={"client": client.id})
    db.session.commit()


def refuse(person: User, client: IntegrationClient) -> None:
    """Refuse a client awaiting confirmation: its token is revoked and never works."""
    _as_it_is_now(client)
    if not may_confirm(person, client):
        raise AccountError(_REFUSED_CONFIRMATION)
    client.revoked_at = utcnow()
    audit.record("integration_client.refused", actor=person, unit_id=client.unit_id,
                 detail={"client": client.id})
    db.session.commit()


def awaiting() -> list[IntegrationClient]:
    return [client for client in all_clients() if client.awaiting_confirmation]


_REFUSED_CONFIRMATION = N_("You cannot confirm or refuse this client: you made it, or it no "
                           "longer awaits confirmation. Another administrator decides.")
