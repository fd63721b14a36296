"""`handover backup` and `handover restore`: the database and, in a separate file, its keys.
The work is `services.backup`'s; this module says what happened and what to do next."""

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from handover.cli.schema import head_revision
from handover.services.backup import KEYS_BACKUP, BackupError, create_backup, restore_backup


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False))
@with_appcontext
def backup_command(destination):
    """Back up the database, and the keys into a separate file, into the folder DESTINATION."""
    try:
        manifest = create_backup(current_app._get_current_object(), destination)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {manifest['handovers']['total']} handover(s) of a "
               f"{manifest['database']} database at revision {manifest['schema_revision']} "
               f"into {destination}.")
    click.echo(f"Move {os.path.join(destination, manifest['keys_file'])} to a different place "
               "than the database backup: one without the other cannot be read, and both "
               "together in one place protect nothing.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@click.option("--with-keys", is_flag=True,
              help="Also restore the key file from the backup folder.")
@click.option("--keys", "keys_path", type=click.Path(exists=True, dir_okay=False),
              help="Restore the key file from this key backup (kept apart from SOURCE).")
@with_appcontext
def restore_command(source, force, with_keys, keys_path):
    """Restore the backup in the folder SOURCE into this instance's (empty) database."""
    if with_keys and keys_path:
        raise click.UsageError("Give either --with-keys or --keys FILE, not both.")
    if with_keys:
        keys_path = os.path.join(source, KEYS_BACKUP)
        if not os.path.exists(keys_path):
            raise click.ClickException(f"No {KEYS_BACKUP} in {source}; use --keys FILE.")
    app = current_app._get_current_object()
    try:
        manifest, restored = restore_backup(app, source, force=force, keys_path=keys_path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {restored['handovers']['total']} handover(s) from the backup of "
               f"{manifest['created_at']} (revision {restored['schema_revision']}).")
    if restored["handovers"] != manifest["handovers"]:
        raise click.ClickException("The restored handovers do not match the manifest's counts.")
    if keys_path:
        click.echo(f"Key file restored to {app.config['KEYS_FILE']}.")
    if restored["schema_revision"] != head_revision(app):
        click.echo("Run `handover db upgrade`: the backup is from an older schema.")
    click.echo("Run `handover keys check` to open every record with the restored keys.")
