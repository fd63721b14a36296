"""`handover init`: create the instance folder, its secret key and key file, then migrate."""

import os
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from handover import create_app
from handover.cli.demo import current_code, refusal, seed
from handover.security import keys

CONFIG_TEMPLATE = """# Handover instance configuration, written by `handover init`.
# Keep this file secret: the key signs sessions and CSRF tokens for every worker.
SECRET_KEY = {secret!r}
"""


@click.command("init")
@click.option("--instance-path", envvar="HANDOVER_INSTANCE_PATH", default=None,
              help="Instance folder (default: the instance/ folder beside the package).")
def init_command(instance_path):
    """Create the instance folder with a secret key and key file, and migrate the database."""
    app = create_app({"INITIALISING_INSTANCE": True, "INSTANCE_PATH": instance_path})
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    # Also when the folder was made beforehand (scripts/start, a package's post-install):
    # it will hold the database, the secret key and the key file.
    os.chmod(app.instance_path, 0o700)
    os.makedirs(app.config["PLUGINS_DIR"], exist_ok=True)
    config_path = os.path.join(app.instance_path, "config.py")
    key_path = app.config["KEYS_FILE"]
    existing = [path for path in (config_path, key_path) if os.path.exists(path)]
    if existing:
        raise click.ClickException(
            "Already initialised; keys are never overwritten: " + ", ".join(existing)
        )
    descriptor = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(CONFIG_TEMPLATE.format(secret=secrets.token_urlsafe(48)))
    keys.create_key_file(key_path)
    click.echo(f"Created {config_path} and {key_path} (mode 0600).")
    app = create_app({"INSTANCE_PATH": app.instance_path})
    with app.app_context():
        upgrade()
    click.echo("Database migrated. Back up the key file separately from the database.")


@click.command("demo")
@click.option("--force", is_flag=True,
              help="Seed even with HTTPS on or beside units and users of the instance's own. "
                   "Never on an instance people use: the demo logins are public.")
@with_appcontext
def demo_command(force):
    """Seed demo units and users (for trying the system only)."""
    refused = None if force else refusal(current_app)
    if refused:
        raise click.ClickException(f"Not seeding demo data: {refused} To seed it here all "
                                   "the same, run `handover demo --force`.")
    seed(click.echo)


@click.command("demo-code")
@click.argument("email")
def demo_code_command(email):
    """Print the current two-factor code of a demo user (demo accounts only)."""
    code = current_code(email)
    if code is None:
        raise click.ClickException(f"{email} is not a demo account; codes of other accounts "
                                   "come only from their owner's authenticator app.")
    click.echo(code)


COMMANDS = (init_command, demo_command, demo_code_command)
