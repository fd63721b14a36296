"""`handover keys rotate|retire|check`: key-encryption-key maintenance for operators.

Rotation adds a new KEK to the key file and re-wraps every data key in batches. If it stops
half-way (crash, Ctrl-C), run `handover keys rotate` again: it sees data keys still on an older
KEK and finishes them onto the active one without adding another KEK. `--resume` does only that
and never adds a KEK (use it after changing the active KEK in HANDOVER_KEYS yourself).
"""

import click
from flask.cli import with_appcontext

from handover.services import key_maintenance


@click.group("keys")
def keys_group():
    """Rotate, retire and check the keys that protect handover content."""


@keys_group.command("rotate")
@click.option("--batch-size", type=click.IntRange(min=1), default=100, show_default=True,
              help="Data keys re-wrapped per transaction.")
@click.option("--resume", is_flag=True,
              help="Only finish re-wrapping onto the active KEK; never add a new KEK.")
@with_appcontext
def rotate_command(batch_size, resume):
    """Add a new active KEK and re-wrap every data key with it (resumable)."""
    try:
        result = key_maintenance.rotate(batch_size=batch_size, resume_only=resume,
                                        echo=click.echo)
    except key_maintenance.KeyOperationRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Re-wrapped {key_maintenance.counted(result.done())} with {result.kek_id}.")
    if result.failed:
        click.echo("Could not unwrap the data key of handovers: "
                   + ", ".join(str(handover_id) for handover_id in result.failed), err=True)
    if result.failed_secrets:
        click.echo("Could not open the two-factor secret of users: "
                   + ", ".join(str(user_id) for user_id in result.failed_secrets), err=True)
    if result.failed_endpoints:
        click.echo("Could not open the signing secret of webhook endpoints: "
                   + ", ".join(str(endpoint_id) for endpoint_id in result.failed_endpoints),
                   err=True)
    if result.failed or result.failed_secrets or result.failed_endpoints:
        raise SystemExit(1)
    click.echo("Old KEKs can now be retired with `handover keys retire OLD_ID`.")


@keys_group.command("retire")
@click.argument("kek_id")
@with_appcontext
def retire_command(kek_id):
    """Remove an old KEK from the key file once no data key uses it."""
    try:
        key_maintenance.retire(kek_id, echo=click.echo)
    except key_maintenance.KeyOperationRefused as error:
        raise click.ClickException(str(error)) from None


@keys_group.command("check")
@with_appcontext
def check_command():
    """Open every sealed value; list the handovers and two-factor secrets that fail and exit 1
    if any do."""
    checked, failures, failed_secrets, failed_endpoints = key_maintenance.check()
    for handover_id, parts in failures.items():
        click.echo(f"Handover {handover_id}: cannot open {', '.join(parts)}")
    for user_id in failed_secrets:
        click.echo(f"User {user_id}: cannot open the two-factor secret")
    for endpoint_id in failed_endpoints:
        click.echo(f"Webhook endpoint {endpoint_id}: cannot open the signing secret")
    click.echo(f"Checked {checked} handovers; {len(failures)} failed.")
    if failures or failed_secrets or failed_endpoints:
        raise SystemExit(1)


COMMANDS = (keys_group,)
