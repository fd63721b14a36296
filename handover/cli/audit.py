"""`handover audit verify`: prove the audit log has not been edited, added to by someone
without the instance's keys, or had rows deleted (the newest ones too, given a head noted
earlier with ``--expect``)."""

import click
from flask.cli import with_appcontext

from handover.store import audit


@click.group("audit")
def audit_group():
    """Inspect the audit log."""


def _noted_heads(_context, _parameter, values):
    """``ID:HASH`` (as a previous verify printed it) as ``(id, hash)``; the hash itself may
    hold a colon (``h2:...``), the id never does."""
    heads = []
    for value in values:
        noted_id, separator, noted_hash = value.partition(":")
        if not (separator and noted_id.strip().isdigit() and noted_hash.strip()):
            raise click.BadParameter(f"{value!r} is not ID:HASH (such as 1234:h2:Xq...).")
        heads.append((int(noted_id), noted_hash.strip()))
    return heads


@audit_group.command("verify")
@click.option("--expect", "noted", multiple=True, callback=_noted_heads, metavar="ID:HASH",
              help="A head noted earlier (from this command's output): report it when that "
                   "event is gone (the newest events were deleted) or has another hash. "
                   "May be given more than once.")
@with_appcontext
def verify_command(noted):
    """Walk the hash chain; name the first broken link and exit 1 if there is one."""
    ok, broken_id, reason, checked = audit.walk_chain()
    if not ok:
        click.echo(f"Audit chain broken at event {broken_id}: {reason}")
        raise SystemExit(1)
    for noted_id, noted_hash in noted:
        problem = audit.check_noted_head(noted_id, noted_hash)
        if problem is not None:
            click.echo(f"Audit chain broken at event {noted_id}: {problem}")
            raise SystemExit(1)
    click.echo(f"Audit chain OK ({checked} events)")
    last_id, last_hash = audit.chain_head()
    if last_id is not None:
        # Deleting the newest rows leaves a shorter, valid chain: note this head elsewhere.
        click.echo(f"Newest event {last_id}, hash {last_hash}")
        click.echo(f"Check later with: handover audit verify --expect {last_id}:{last_hash}")


COMMANDS = (audit_group,)
