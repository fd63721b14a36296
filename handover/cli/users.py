"""`handover users create|list|deactivate|set-roles|remove-memberships`: account management
from the command line, for the first admin of a new instance and for scripted set-ups. Same
actions as the admin pages."""

import sys

import click
from flask.cli import with_appcontext

from handover.cli.refusals import refused
from handover.services import accounts


@click.group("users")
def users_group():
    """Create, list and deactivate users, and set their system roles."""


@users_group.command("create")
@click.option("--email", required=True, help="Login e-mail address (stored in lower case).")
@click.option("--name", required=True, help="The person's name as shown to colleagues.")
@click.option("--admin", is_flag=True, help="System administrator (manages units and users).")
@click.option("--auditor", is_flag=True, help="Reads the audit log.")
@click.option("--unit", "units", multiple=True, metavar="UNIT_NAME",
              help="A unit to join, by its name (capital letters do not matter); pair each "
                   "--unit with a --role, in order. Repeatable.")
@click.option("--role", "roles", multiple=True, metavar="ROLE",
              help="Role in the matching --unit: sender, receiver or lead. Repeatable.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (first line). Without it a "
                   "temporary password is printed and must be changed at first login.")
@with_appcontext
def create_command(email, name, admin, auditor, units, roles, password_stdin):
    """Create a user."""
    memberships = _memberships(units, roles)
    password = _read_password() if password_stdin else None
    try:
        user, temporary = accounts.create_user(email, name, password=password, admin=admin,
                                               auditor=auditor, memberships=memberships)
    except accounts.AccountError as error:
        raise refused(error) from None
    click.echo(f"Created user {user.email}.")
    if temporary:
        click.echo(f"Temporary password (shown once, must be changed at first login): "
                   f"{temporary}")
    click.echo("Two-factor authentication is set up at first login.")


@users_group.command("list")
@with_appcontext
def list_command():
    """List users: e-mail, name, system roles, state and memberships."""
    for user in accounts.search_users():
        flags = [flag for flag, on in (("admin", user.is_admin), ("auditor", user.is_auditor),
                                       ("admin awaiting confirmation",
                                        user.admin_awaiting_confirmation),
                                       ("inactive", not user.active)) if on]
        memberships = ", ".join(
            f"{m.unit.name} ({m.role}{'' if m.confirmed_at else ', awaiting confirmation'})"
            for m in sorted(user.all_memberships, key=lambda m: (m.unit.name, m.role))
        )
        click.echo("\t".join([user.email, user.name, ",".join(flags) or "-", memberships or "-"]))


@users_group.command("deactivate")
@click.argument("emails", nargs=-1, required=True, metavar="EMAIL...")
@with_appcontext
def deactivate_command(emails):
    """Deactivate the users with these e-mail addresses and end their sessions at once. An
    unknown address deactivates nobody."""
    users = [accounts.find_user(email) for email in emails]
    unknown = [email for email, user in zip(emails, users, strict=True) if user is None]
    if unknown:
        raise click.ClickException(
            "No user with the e-mail address " + ", ".join(repr(email) for email in unknown)
            + ("; nobody was deactivated." if len(emails) > 1 else "."))
    for user in users:
        try:
            accounts.set_user_active(user, False)
        except accounts.AccountError as error:
            raise refused(error) from None
        click.echo(f"Deactivated {user.email}; their sessions have ended.")


@users_group.command("set-roles")
@click.argument("email")
@click.option("--admin/--no-admin", default=False, help="System administrator or not.")
@click.option("--auditor/--no-auditor", default=False, help="Reads the audit log or not.")
@with_appcontext
def set_roles_command(email, admin, auditor):
    """Give the user with EMAIL exactly these system roles. Refused while they are a member
    of a unit (administrators and auditors never hold memberships), for both roles at once
    (one person is never both), and for the last active administrator without --admin."""
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email!r}.")
    try:
        accounts.set_system_roles(user, admin, auditor)
    except accounts.AccountError as error:
        raise refused(error) from None
    roles = [name for name, on in (("admin", admin), ("auditor", auditor)) if on]
    click.echo(f"{user.email}: {', '.join(roles) or 'no system roles'}.")


@users_group.command("remove-memberships")
@click.argument("email")
@with_appcontext
def remove_memberships_command(email):
    """Remove every unit membership of the user with EMAIL (each removal is audited). The way
    to clear the memberships an administrator or auditor still holds from before they were
    refused, which `handover check` reports; for a member, the first step of `set-roles`."""
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email!r}.")
    removed = sorted(user.all_memberships, key=lambda m: (m.unit.name, m.role))
    if not removed:
        click.echo(f"{user.email} holds no unit memberships.")
        return
    for membership in removed:
        described = f"{membership.unit.name} ({membership.role})"
        accounts.remove_membership(membership)
        click.echo(f"{user.email}: removed from {described}.")


def _memberships(unit_names, roles):
    if len(unit_names) != len(roles):
        raise click.ClickException("Give each --unit exactly one --role, in the same order.")
    memberships = []
    for unit_name, role in zip(unit_names, roles, strict=True):
        unit = accounts.find_unit(unit_name)
        if unit is None:
            raise click.ClickException(_no_unit_named(unit_name))
        memberships.append((unit, role))
    return memberships


def _no_unit_named(unit_name):
    """One line: the name matched no unit (capital letters aside), and the likest there are."""
    closest = accounts.closest_units(unit_name)
    if not closest:
        return (f"--unit: no unit named {unit_name!r}; there are no units yet "
                f"(`handover units create`).")
    names = ", ".join(repr(unit.name) for unit in closest)
    return f"--unit: no unit named {unit_name!r}. Closest: {names} (`handover units list`)."


def _read_password():
    """The first line of standard input, without its line ending: a password may contain
    spaces, so nothing else is stripped. At a terminal, ask without echoing instead."""
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("--password-stdin: no password on standard input.")
    return password


COMMANDS = (users_group,)
