"""The ``handover`` command: Flask's CLI for this app plus Handover's own command groups.

What every command shares lives here, once: help before `handover init`, and one line instead
of a traceback when the instance is not ready (not initialised, or its database unreachable or
not migrated).
"""

import copy
import os
import sys
from importlib import import_module

import click
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.exc import DBAPIError

from handover import create_app
from handover.cli.schema import schema_problem
from handover.config import ConfigurationError

COMMAND_MODULES = (
    "handover.cli.setup",
    "handover.cli.users",
    "handover.cli.clients",
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
    """The configured app, or a refusal saying what to do. Start-up refuses without a secret
    key; a secret from the environment and no instance folder is as uninitialised, and every
    command would fail deep in the database or the job queue."""
    app = create_app()
    if not os.path.isdir(app.instance_path):
        raise ConfigurationError(
            f"The instance folder {app.instance_path} does not exist. Run `handover init` to "
            "create it, or set HANDOVER_INSTANCE_PATH to the instance's folder.")
    return app


def _app_for_restore():
    """The configured app for `handover restore`, which brings a lost key file back from the
    key backup: the one command that starts without it (`keys.require_key_file`)."""
    app = create_app({"KEY_FILE_MAY_BE_MISSING": True})
    if not os.path.isdir(app.instance_path):
        return _create_app()   # the refusal that names the missing folder
    return app


def _uninitialised_app():
    """An app for listing commands only, where start-up would refuse (no secret key yet)."""
    return create_app({"INITIALISING_INSTANCE": True})


def _help_only(command, refusal):
    """A copy of ``command`` (and of its subcommands) that shows its help but raises
    ``refusal`` when run. A group's own callback is left out: click runs it before a
    subcommand reads its --help, and Flask-Migrate's `db` loads the app there."""
    stand_in = copy.copy(command)
    if isinstance(command, click.Group):
        stand_in.callback = None
        stand_in.commands = {name: _help_only(subcommand, refusal)
                             for name, subcommand in command.commands.items()}
    else:
        def refuse(*_arguments, **_options):
            raise refusal

        stand_in.callback = refuse
    return stand_in


class HandoverGroup(FlaskGroup):
    """Flask's command group, whose help also works before `handover init`.

    Listing the commands loads the app (Flask-Migrate adds `db` to it), and Flask prints a
    traceback when that fails. Before `handover init` it fails by design, so the help is
    listed from an app that skips the refusal, after one line saying what to do. Running a
    command still loads the configured app and refuses in one line (see `main`).
    """

    def get_command(self, ctx, name):
        """The command ``name``. One the app adds (`db`) is found by loading the app; where
        that refuses (before `handover init`), it is found on an app that skips the refusal,
        for its help only: run, it refuses with the configured app's one line."""
        info = ctx.ensure_object(ScriptInfo)
        if name == "restore" and info.create_app is _create_app:   # not a caller's own app
            info.create_app = _app_for_restore
        try:
            return super().get_command(ctx, name)
        except ConfigurationError as refusal:
            command = _uninitialised_app().cli.get_command(ctx, name)
            if command is None:
                raise
            return _help_only(command, refusal)

    def list_commands(self, ctx):
        info = ctx.ensure_object(ScriptInfo)
        try:
            info.load_app()
        except ConfigurationError as error:
            click.echo(f"Note: {error}\n", err=True)
            info.create_app = _uninitialised_app
        return super().list_commands(ctx)


@click.group(cls=HandoverGroup, create_app=_create_app, add_version_option=False)
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
    except DBAPIError:
        problem = None if _migrating() else _database_problem()
        if problem is None:
            # The database is fine, or a migration failed: then the schema is of course not
            # at the latest one, and "run `handover db upgrade`" would send the operator in a
            # circle. The traceback is what helps find the fault.
            raise
        click.echo(f"Error: {problem}", err=True)
        sys.exit(2)
    if isinstance(result, int):
        sys.exit(result)


def _migrating():
    """Whether the command that failed migrates the database: one of ``handover db``'s
    (upgrade, downgrade...) or ``handover init``, which runs the migrations too (after any
    options such as ``-e FILE``)."""
    arguments = iter(sys.argv[1:])
    for word in arguments:
        if word in _OPTIONS_WITH_VALUES:
            next(arguments, None)
        elif not word.startswith("-"):
            return word in ("db", "init")
    return False


#: The group's options that take a value: their value is not the command's name.
_OPTIONS_WITH_VALUES = ("-e", "--env-file", "-A", "--app")


def _database_problem():
    """After a command failed on the database: one line on why, when the database is not
    reachable or not at the latest migration (an instance where `handover db upgrade` has not
    run yet meets this in whichever command it runs first); None for any other failure."""
    try:
        app = _create_app()
    except ConfigurationError:
        return None
    return schema_problem(app)
