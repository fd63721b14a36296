"""`handover backup` and `handover restore`: the database and, in a separate file, its keys.
The work is `services.backup`'s; this module says what happened and what to do next.

Neither writes an audit event, and a restore brings the audit log back to the backup's: the
events written since are not in the restored database. So both say where the audit log ends,
and a restore over a database in use says how many of its events the restored one lacks, for
the operator to note (README, "Backups and checks")."""

import os

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from handover.services.backup import KEYS_BACKUP, BackupError, create_backup, restore_backup
from handover.services.backup_facts import head_revision, newest_audit_event
from handover.store.database import db


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
    click.echo(f"The backup's audit log ends at {_event(manifest.get('audit_newest_id'))}.")


def _event(event_id):
    return "no event" if event_id is None else f"event {event_id}"


def _live_newest_audit_event():
    """The newest audit event of the database a restore is about to replace (None for none)."""
    with db.engine.connect() as connection:
        return newest_audit_event(connection)


def _say_where_the_audit_log_ends(replaced, restored):
    """What the restore did to the audit log: it is now the backup's, and the events the
    replaced database had after it are gone from it, with nothing in the log saying so."""
    click.echo(f"The audit log is now the backup's: it ends at {_event(restored)}. A restore "
               "writes no audit event; note it where you keep the audit log's heads.")
    if replaced is not None and (restored is None or replaced > restored):
        lost = replaced - (restored or 0)
        click.echo(f"The replaced database's audit log went up to event {replaced}: its "
                   f"{lost} newer event(s) are not in the restored one, and new events will "
                   "take their numbers again.")


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
    replaced = _live_newest_audit_event()
    try:
        manifest, restored = restore_backup(app, source, force=force, keys_path=keys_path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    # Which database was replaced, first: a shell still set up for the live instance restores
    # over it (the README asks for the server to be stopped first).
    target = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    click.echo(f"Restored {restored['handovers']['total']} handover(s) into {target} (instance "
               f"{app.instance_path}) from the backup of {manifest['created_at']} (revision "
               f"{restored['schema_revision']}).")
    if restored["handovers"] != manifest["handovers"]:
        raise click.ClickException("The restored handovers do not match the manifest's counts.")
    if keys_path:
        click.echo(f"Key file restored to {app.config['KEYS_FILE']}.")
    if restored["schema_revision"] != head_revision(app):
        click.echo("Run `handover db upgrade`: the backup is from an older schema.")
    _say_where_the_audit_log_ends(replaced, restored.get("audit_newest_id"))
    click.echo("Run `handover keys check` to open every record with the restored keys, and "
               "`handover audit verify` to check the restored audit log.")
