"""The ``handover`` command: Flask's CLI for this app plus Handover's own command groups."""

import sys
from importlib import import_module

import click
from flask.cli import FlaskGroup

from handover import create_app
from handover.config import ConfigurationError

COMMAND_MODULES = (
    "handover.cli.setup",
    "handover.cli.users",
    "handover.cli.units",
    "handover.cli.plugins",
    "handover.cli.forms",
    "handover.cli.keys",
    "handover.cli.audit",
    "handover.cli.ops",
    "handover.cli.lifecycle",
    "handover.cli.worker",
)


def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli():
    """Handover: secure hand-over of child-welfare pre-information."""


for _module in COMMAND_MODULES:
    for _command in import_module(_module).COMMANDS:
        cli.add_command(_command)


def main():
    try:
        result = cli.main(prog_name="handover", standalone_mode=False)
    except ConfigurationError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    if isinstance(result, int):
        sys.exit(result)
