"""`handover check` on what the database holds: its schema, accounts left in a state the
rules now refuse, demo logins, and the worker's heartbeat and deliveries.

Each part but the schema gives up quietly when the database cannot be read: the schema
finding has said so already, in one line.
"""

import os
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from handover.cli import demo
from handover.cli.findings import error, warning
from handover.cli.schema import schema_differences, schema_problem
from handover.plugins import manager as plugin_manager
from handover.services import accounts, deliveries, policy
from handover.services.backup import database_kind
from handover.store.database import db
from handover.store.models import User
from handover.store.models.base import utcnow


def database_problems(app, workers):
    if database_kind(app) == "sqlite" and workers > 1:
        yield error(f"SQLite with {workers} workers: writers will queue and wait. "
                    "Use PostgreSQL (HANDOVER_DATABASE_URL) or one worker.")
    missing = _missing_sqlite_folder(app)
    if missing is not None:
        # Connecting would fail with an OperationalError that says nothing here: say what is
        # missing instead, once (the instance folder's own finding names that folder).
        if os.path.abspath(missing) != os.path.abspath(app.instance_path):
            yield error(f"The folder of the SQLite database, {missing}, does not exist. "
                        "Create it, or correct HANDOVER_DATABASE_URL.")
        return
    problem = schema_problem(app)
    if problem:
        yield error(problem)
        return
    differences = schema_differences(app)
    if differences:
        yield error(f"The database is at the latest revision but differs from the schema this "
                    f"code declares ({len(differences)}: {'; '.join(differences[:5])}). It was "
                    "migrated while a revision read otherwise; do not serve it: restore its "
                    "backup into a new database, migrated by this version.")
    if database_kind(app) == "postgresql":
        yield from _search_locale_problems(app)


def _missing_sqlite_folder(app):
    """The folder a SQLite database file should be in, when it does not exist; else None."""
    if database_kind(app) != "sqlite":
        return None
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not path or path == ":memory:":
        return None
    folder = os.path.dirname(os.path.abspath(path))
    return None if os.path.isdir(folder) else folder


#: LC_CTYPE values under which PostgreSQL's lower() folds the ASCII letters only.
_ASCII_ONLY_CTYPES = {"c", "posix"}


def _search_locale_problems(app):
    """Searches by a person's name (the admin's user search, the audit log's) fold capitals
    with the database's lower() (`handover.store.database.folded`). Under the C locale that
    folds A-Z only: "äyräs" would not find "Äyräs". An ICU default collation folds every letter
    whatever LC_CTYPE says."""
    with app.app_context():
        ctype = db.session.execute(text("SELECT current_setting('lc_ctype')")).scalar_one()
        icu = db.engine.dialect.server_version_info >= (15,) and db.session.execute(text(
            "SELECT datlocprovider = 'i' FROM pg_database "
            "WHERE datname = current_database()")).scalar_one()
        db.session.rollback()
    if not icu and ctype.lower() in _ASCII_ONLY_CTYPES:
        yield warning(f"The database's LC_CTYPE is {ctype}: searches by name fold only A-Z, "
                      "so \"äyräs\" does not find \"Äyräs\". Create the database with a UTF-8 "
                      "locale (CREATE DATABASE ... TEMPLATE template0 LC_COLLATE 'C.UTF-8' "
                      "LC_CTYPE 'C.UTF-8', or an ICU locale) and restore a backup into it.")


def account_problems(app):
    """Administrators and auditors are refused memberships, but data from before the rule can
    still hold some. They give no access (the policy ignores them), yet they confuse whoever
    reads the member lists, and the account should say what the person is."""
    with app.app_context():
        try:
            holders = policy.system_accounts_with_memberships()
        except Exception:  # no database or no schema: the database findings say so already
            return
        for user in holders:
            role = "administrator" if user.is_admin else "auditor"
            units = ", ".join(sorted(f"{m.unit.name} ({m.role})" for m in user.all_memberships))
            yield warning(f"{user.email} is an {role} and still a member of {units}: "
                          "administrators and auditors may not hold unit memberships (they "
                          "get nothing through them). Run `handover users remove-memberships "
                          f"{user.email}`.")


def pending_membership_problems(app):
    """Memberships and administrator roles awaiting confirmation for more than a week (four
    eyes: an administrator gave them or reset the person's password): the person works
    without their unit's handovers, or a role nobody recognises waits to be refused."""
    with app.app_context():
        try:
            late = [(m.user.email, m.unit.name, m.role) for m in accounts.awaiting_too_long()]
            late_admins = [user.email for user in accounts.admin_roles_awaiting_too_long()]
        except Exception:  # no database or no schema: the database findings say so already
            return
    for email, unit, role in late:
        yield warning(f"{email}'s membership of {unit} ({role}) has awaited confirmation for "
                      "more than a week: a lead of the unit or an administrator other than "
                      "the one who added it (or reset the password) confirms or refuses it "
                      "on their page.")
    for email in late_admins:
        yield warning(f"{email}'s administrator role has awaited confirmation for more than a "
                      "week: an administrator other than the one who gave it (or reset the "
                      "password) confirms or refuses it under Awaiting confirmation, or the "
                      f"operator gives it here: handover users set-roles {email} --admin")


def double_role_problems(app):
    """Accounts that are both administrator and auditor, made before one person could not be
    both: the policy lets them administer but not audit (`policy.is_auditor`), so the audit
    someone was meant to do silently stopped, and nobody is told but by this."""
    with app.app_context():
        try:
            emails = list(db.session.scalars(
                select(User.email).where(User.is_admin, User.is_auditor).order_by(User.email)))
        except Exception:  # no database or no schema: the database findings say so already
            return
    for email in emails:
        yield warning(f"{email} is both an administrator and an auditor, from before one "
                      "person could not be both: the account administers but sees no audit "
                      f"log. Keep one role: `handover users set-roles {email} --admin` (and "
                      "give the audit to another person's account), or "
                      f"`handover users set-roles {email} --auditor`.")


def demo_problems(app):
    """Demo accounts that still have the password and two-factor secret printed in the README:
    on a production instance (HTTPS on) that lets anyone in, elsewhere it is worth a word. One
    whose password was reset is left out: the published logins no longer open it."""
    with app.app_context():
        try:
            emails = demo.open_to_anyone()
        except Exception:  # no database or no schema: the database findings say so already
            return
    if not emails:
        return
    finding = error if app.config.get("HTTPS") else warning
    # Every address, not a few: the advice is one command that deactivates them all.
    yield finding(f"{len(emails)} demo account(s) can sign in with the password and two-factor "
                  "secrets published in the README, so anyone can sign in as them. On an "
                  "instance for real use, deactivate them all: "
                  f"`handover users deactivate {' '.join(emails)}`.")


def worker_problems(app):
    """A `handover worker` that stopped reporting, and deliveries that wait too long: notices
    and webhooks are then only on record, and overdue notices and the purge do not run."""
    minutes = int(app.config.get("WORKER_HEARTBEAT_MINUTES", 5))
    with app.app_context():
        try:
            beat = deliveries.last_heartbeat()
            backlog = deliveries.backlog()
        except Exception:  # no database or no schema: the database findings say so already
            return
    now = utcnow()
    # A new instance without a worker yet, and with nothing to deliver, is not warned about.
    never = beat is None and backlog["oldest_seconds"] > minutes * 60
    if never or (beat is not None and now - beat > timedelta(minutes=minutes)):
        since = "has never reported" if beat is None else (
            f"has not reported for {int((now - beat).total_seconds() // 60)} minutes")
        yield warning(f"The `handover worker` {since}: e-mail notices and webhooks wait, and "
                      "overdue notices and the retention purge do not run. Start it (see "
                      "docs/deploy/).")
    waited = int(app.config.get("DELIVERY_BACKLOG_MINUTES", 15))
    if backlog["oldest_seconds"] > waited * 60:
        yield warning(f"{backlog['pending'] + backlog['sending']} deliveries are waiting, the "
                      f"oldest for {backlog['oldest_seconds'] // 60} minutes: check the mail "
                      "server and webhook endpoints (Administration, Deliveries).")
    if backlog["failed"]:
        yield warning(f"{backlog['failed']} deliveries failed for good: see Administration, "
                      "Deliveries, and try them again once the recipient works.")


def plugin_problems(app):
    """A plugin that failed to load, or was switched off after a hook failed: its forms are
    not offered, which nothing else at go-live would show."""
    with app.app_context():
        try:
            records = plugin_manager.plugins(app)
        except Exception:  # no database or no schema: the database findings say so already
            return
    for record in records:
        if record.error:
            reason = record.error.splitlines()[0]
            yield warning(f"Plugin {record.name} failed to load, so its forms are not offered: "
                          f"{reason} (all of it: handover plugins list).")
        elif record.failure:
            yield warning(f"Plugin {record.name} was switched off after a failure, so its forms "
                          f"are not offered: {record.failure}. Once it is fixed: handover "
                          f"plugins enable {record.name}.")
