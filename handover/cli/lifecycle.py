"""`handover purge` and `handover notify-overdue`: the lifecycle's jobs for cron or a systemd
timer. They call the same services as the web pages."""

import time

import click
from flask.cli import with_appcontext

from handover.services import late_drafts, notifications, retention


@click.command("purge")
@click.option("--dry-run", is_flag=True,
              help="Only list the ids of handovers whose content would be erased.")
@with_appcontext
def purge_command(dry_run):
    """Erase the content of handovers whose retention period is over (metadata, the disclosure
    record and the audit trail are kept). Only the due handovers are read, through the index on
    their erasure time, so a run costs what the due ones cost."""
    started = time.monotonic()
    ids = retention.purge(dry_run=dry_run)
    for handover_id in ids:
        click.echo(handover_id)
    verb = "would be erased" if dry_run else "erased"
    click.echo(f"{len(ids)} handover(s) {verb} in {time.monotonic() - started:.1f} s.",
               err=True)


@click.command("notify-overdue")
@with_appcontext
def notify_overdue_command():
    """E-mail unit leads once about handovers not acknowledged in time, and the sending unit's
    leads once about drafts not sent by their form's send-by date."""
    ids = notifications.notify_overdue()
    click.echo(f"{len(ids)} overdue handover(s) notified.")
    late = late_drafts.notify_late()
    click.echo(f"{len(late)} late draft(s) notified.")


COMMANDS = (purge_command, notify_overdue_command)
