"""`handover forms upload|list|enable|disable`: the uploaded-forms page on the command line.

The same service as the admin's page (`services.form_uploads`): the same strict reading and
checks, the same audit events (with the command line as the actor), and the running workers
pick a change up within ``FORM_UPLOADS_RECHECK_SECONDS`` without a restart. Approval under the
four-eyes rule is a second admin's, given on the page, never the command line's.
"""

from pathlib import Path

import click
from flask.cli import with_appcontext

from handover.services import form_uploads
from handover.services.form_packages import PackageRefused


@click.group("forms")
def forms_group():
    """Upload, list, enable and disable declarative form packages."""


@forms_group.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def upload_command(file):
    """Check FILE (.toml, or a .zip/.tar of .toml files) and store it, not yet enabled."""
    with file.open("rb") as stream:  # a larger file is refused without reading it all
        data = stream.read(form_uploads.max_bytes() + 1)
    try:
        outcome = form_uploads.upload(file.name, data, size=file.stat().st_size)
    except PackageRefused as refusal:
        for problem in refusal.problems:
            click.echo(str(problem))
        raise SystemExit(1) from None
    if outcome.created:
        click.echo(f"Stored {outcome.key} version {outcome.version} (not enabled). Enable it "
                   f"with: handover forms enable {outcome.key} {outcome.version}")
    else:
        click.echo(f"{outcome.key} version {outcome.version} is already stored with exactly "
                   f"this content; nothing changed.")


def state_of(item):
    if item["enabled"]:
        return "enabled"
    if item["replaced_by"]:
        return f"replaced by version {item['replaced_by']}"
    if item["needs_approval"]:
        return "awaiting approval"
    return "disabled" if item["released_at"] else "stored"


@forms_group.command("list")
@with_appcontext
def list_command():
    """Every uploaded version: key, version, state, title, who uploaded and approved it."""
    items = form_uploads.uploads()
    if not items:
        click.echo("No uploaded forms.")
    for item in items:
        click.echo("\t".join([
            item["key"], f"v{item['version']}", state_of(item), item["title"].get("en", ""),
            f"uploaded {item['uploaded_at']:%Y-%m-%d %H:%M} by "
            f"{item['uploaded_by'] or 'the command line'}",
            f"approved by {item['approved_by']}" if item["approved_by"] else "not approved",
            item["checksum"][:12],
        ]))


@forms_group.command("enable")
@click.argument("key")
@click.argument("version", type=int)
@with_appcontext
def enable_command(key, version):
    """Offer version VERSION of form KEY to its senders on every worker (within a minute)."""
    _step(form_uploads.enable, key, version)
    click.echo(f"{key} version {version} enabled.")


@forms_group.command("disable")
@click.argument("key")
@with_appcontext
def disable_command(key):
    """Take form KEY away from new drafts; its handovers still open."""
    _step(form_uploads.disable, key)
    click.echo(f"{key} disabled. Handovers already made with it still open.")


def _step(action, *args):
    try:
        action(*args)
    except form_uploads.UnknownUpload:
        raise click.ClickException(f"no uploaded form {' version '.join(map(str, args))} "
                                   f"(see: handover forms list)") from None
    except form_uploads.StepRefused as refusal:
        raise click.ClickException(str(refusal)) from None


COMMANDS = (forms_group,)
