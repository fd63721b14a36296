"""`handover clients list|confirm`: integration clients from the command line. A client made on
the admin pages awaits confirmation by another administrator (`client_confirmation`); the
operator on the server confirms it here, as where only one administrator is left."""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from handover.cli.refusals import refused
from handover.services import client_confirmation
from handover.services import integration_clients as clients
from handover.services.accounts import AccountError
from handover.store.database import db
from handover.store.models import IntegrationClient
from handover.store.models.base import utcnow


@click.group("clients")
def clients_group():
    """List integration clients and confirm one awaiting confirmation."""


@clients_group.command("list")
@with_appcontext
def list_command():
    """One line per client: name, scopes, state."""
    now = utcnow()
    for client in clients.all_clients():
        state = ("revoked" if client.revoked_at else "expired" if client.expires_at <= now
                 else "awaiting confirmation" if client.awaiting_confirmation else "in force")
        click.echo(f"{client.name}\t{client.scopes}\t{state}")


@clients_group.command("confirm")
@click.argument("name")
@with_appcontext
def confirm_command(name):
    """Confirm the client NAME (as listed; capitals do not matter): its token works from now."""
    client = db.session.execute(select(IntegrationClient).where(
        func.lower(IntegrationClient.name) == name.strip().lower())).scalar_one_or_none()
    if client is None:
        raise click.ClickException(f"No integration client is named {name}.")
    try:
        client_confirmation.confirm(None, client)
    except AccountError as error:
        raise refused(error) from None
    click.echo(f"Confirmed {client.name}: its token works from now.")


COMMANDS = (clients_group,)
