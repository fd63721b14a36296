"""`handover units create|list`: organisational units from the command line. Same actions as the
admin pages."""

import click
from flask.cli import with_appcontext

from handover.cli.refusals import refused
from handover.services import accounts


@click.group("units")
def units_group():
    """Create and list organisational units."""


@units_group.command("create")
@click.option("--name", required=True, help="Unique unit name, e.g. 'Päiväkoti Satakieli'.")
@click.option("--kind", required=True,
              help="Unit kind, e.g. child_welfare_institution, daycare, school "
                   "(`handover units list` shows every kind).")
@click.option("--organisation", default="", help="Organisation the unit belongs to.")
@with_appcontext
def create_command(name, kind, organisation):
    """Create a unit."""
    kinds = accounts.unit_kinds()
    if kind not in kinds:
        raise click.ClickException(
            f"--kind: unknown kind {kind!r}; choose one of: {', '.join(kinds)}")
    try:
        unit = accounts.create_unit(name, kind, organisation)
    except accounts.AccountError as error:
        raise refused(error) from None
    click.echo(f"Created unit {unit.name} ({unit.kind}).")


@units_group.command("list")
@with_appcontext
def list_command():
    """List units: id, name, kind, organisation, state and number of members. The id is what
    the API's unit fields take (`docs/api.md`)."""
    for unit in accounts.all_units():
        members = len({m.user_id for m in unit.memberships})
        state = "active" if unit.is_active else "inactive"
        click.echo("\t".join([f"id: {unit.id}", unit.name, unit.kind,
                              unit.organisation or "-", state, f"members: {members}"]))
    click.echo(f"Unit kinds: {', '.join(accounts.unit_kinds())}", err=True)


COMMANDS = (units_group,)
