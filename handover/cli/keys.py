"""`handover keys list|rotate|retire|check`: key-encryption-key maintenance for operators.

Rotation adds a new KEK to the key file and re-wraps every data key in batches. If it stops
half-way (crash, Ctrl-C), run `handover keys rotate` again: it sees data keys still on an older
KEK and finishes them onto the active one without adding another KEK. `--resume` does only that
and never adds a KEK (use it after changing the active KEK in HANDOVER_KEYS yourself).
"""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from handover.security import key_backends
from handover.services import key_maintenance, sealed_secrets
from handover.store.database import db
from handover.store.models import Handover


@click.group("keys")
def keys_group():
    """List, rotate, retire and check the keys that protect handover content."""


def _every_kek():
    """(KEK id, backend) of every KEK the key file and the configured backend hold, and the
    active KEK's id. Ids only: key material is never read out here."""
    try:
        active_id = key_backends.active_kek_id()
        _, readers = key_backends.backends()
        return [(kek_id, backend) for backend in readers
                for kek_id in backend.kek_ids()], active_id
    except key_backends.KeyBackendUnavailable as error:
        raise click.ClickException(f"The key backend is unavailable: {error}") from None


def _uses(kek_id):
    """{what: how many} a KEK still wraps or seals: handovers' data keys (counted as `keys
    retire` counts them) and each kind of sealed secret."""
    data_keys = db.session.scalar(
        select(func.count(Handover.id))
        .where(Handover.kek_id == kek_id, Handover.wrapped_key.is_not(None))) or 0
    return {"data key": data_keys, **sealed_secrets.count_sealed_by(kek_id)}


def _counted(uses):
    return ", ".join(f"{count} {label}(s)" for label, count in uses.items())


@keys_group.command("list")
@with_appcontext
def list_command():
    """List the KEKs by id (never their key material): where each is kept, which is active,
    and how many data keys and secrets each still wraps."""
    keks, active_id = _every_kek()
    for kek_id, backend in keks:
        uses = _uses(kek_id)
        if kek_id == active_id:
            state = "active"
        elif any(uses.values()):
            state = "old, still in use: run `handover keys rotate`"
        else:
            state = "old, unused: `handover keys retire` can remove it"
        click.echo("\t".join([kek_id, backend.describe(), state, _counted(uses)]))
    click.echo(f"{len(keks)} KEK(s); active: {active_id}.")


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
    old = [kek_id for kek_id, _ in _every_kek()[0] if kek_id != result.kek_id]
    if old:
        click.echo("Old KEKs can now be retired, each with `handover keys retire OLD_ID`: "
                   + ", ".join(old) + ". `handover keys list` shows what each still wraps.")
    else:
        click.echo("There is no old KEK to retire.")


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
