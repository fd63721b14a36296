"""Helpers for tests: make units and users straight in the database, and log in through the
real two-step login (password, then TOTP) like a browser would; run the `handover` command,
read a page or a draft as a test checks it, find a free port."""

import html
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyotp
from sqlalchemy import event, func, select, text

from handover.cli import cli
from handover.security import totp
from handover.security.passwords import hash_password
from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover, Membership, Unit, User

PASSWORD = "correct horse battery staple"
#: The `handover` command installed beside this Python, as an operator's shell runs it.
HANDOVER = Path(sys.executable).with_name("handover")


def create_unit(name, kind="child_welfare_institution", **fields):
    unit = Unit(name=name, kind=kind, **fields)
    db.session.add(unit)
    db.session.commit()
    return unit


def create_user(email, *, name=None, password=PASSWORD, admin=False, auditor=False,
                memberships=(), enrolled=True, must_change_password=False):
    """A user with TOTP enrolled (unless ``enrolled=False``); ``memberships`` is (unit, role)."""
    user = User(
        email=email,
        name=name or email.split("@")[0].title(),
        password_hash=hash_password(password),
        is_admin=admin,
        is_auditor=auditor,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    if enrolled:
        totp.store_secret(user, pyotp.random_base32())
    for unit, role in memberships:
        db.session.add(Membership(user_id=user.id, unit_id=unit.id, role=role))
    db.session.commit()
    return user


def totp_code(user):
    """A code the server will still accept for ``user``: TOTP codes are single-use, so when a
    test logs the same user in twice within one 30-second step we step forward.

    The code is never from the previous step: the server accepts one step either side, and a
    previous-step code computed just before a step boundary is two steps old when it arrives.
    """
    db.session.refresh(user)
    step = int(time.time()) // 30
    usable = max(step, user.totp_last_step + 1)
    if usable > step + 1:
        user.totp_last_step = step - 1
        db.session.commit()
        usable = step
    return pyotp.TOTP(totp.secret_of(user)).at(usable * 30)


def enrolment_secret_in(page):
    """The secret the enrolment page shows for typing into an authenticator app."""
    return re.search(r'<code class="secret" id="totp-secret">([^<]+)</code>', page)[1]


def login(client, user, password=PASSWORD):
    """Log ``user`` in through /login and /login/totp; returns the last response."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    response = client.post("/login/totp", data={"code": totp_code(user)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def statements_during(work):
    """(what ``work()`` returned, the SQL statements it sent), in an app context: how many a
    page or a service costs, and what they read."""
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        return work(), statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def raw_database(database_backend):
    """What a thief copying the database gets, as bytes to search: the SQLite file and its
    write-ahead log after a checkpoint, or every row of every table as PostgreSQL prints it.
    Call inside an app context."""
    if database_backend == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(FULL)"))
        db.session.commit()
        path = Path(db.engine.url.database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    rows = []
    for table in db.metadata.sorted_tables:
        rows += db.session.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars()
    return "\n".join(rows).encode()


# --- the `handover` command ---------------------------------------------------------------


def invoke(app, *arguments):
    """Run the `handover` command with ``arguments`` on ``app``; click's result."""
    return app.test_cli_runner().invoke(cli, list(arguments))


def run_command(runner, *arguments, input=None):
    """Run the `handover` command with ``arguments`` through the CLI test ``runner``, typing
    ``input`` at its prompts; click's result."""
    return runner.invoke(cli, args=list(arguments), input=input)


def run_all(commands):
    """Run each (arguments, environment) at once (each start takes seconds); their results."""
    running = [subprocess.Popen([str(HANDOVER), *arguments], env=environment, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
               for arguments, environment in commands]
    results = []
    for process in running:
        stdout, stderr = process.communicate(timeout=180)
        results.append((process.returncode, stdout, stderr))
    return results


# --- what a test reads: pages, drafts, the handovers table ---------------------------------


def page_text(response):
    """The page's HTML, as text."""
    return response.get_data(as_text=True)


def text_of(response):
    """The page's text with white space collapsed and entities read (&#39; is ')."""
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def error_summary(response):
    """The text of the page's error summary; the page must have one."""
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page, page[:2000]
    return html.unescape(page.split('class="error-summary"', 1)[1].split("</div>", 1)[0])


def error_of(page, field_id):
    """The message shown beside the input ``field_id`` (its "Error:" prefix left out); None
    when there is none."""
    found = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</', page, re.S)
    if not found:
        return None
    return html.unescape(re.sub(r"<[^>]+>|Error:", "", found.group(1))).strip()


def empty_database():
    """Drop every table, Alembic's version too, so that a test can upgrade from a revision.
    Needs an app context."""
    db.drop_all()
    unstamp()


#: Columns the models gained after an older revision that migration tests build rows at
#: through the models: 0015, a membership's confirmation; 0016, an administrator role's;
#: 0018, the wrong codes in a row; 0020, why a handover was withdrawn.
#: `add_later_columns` adds them as plain columns, and `drop_later_columns` takes them away
#: again before the real upgrade adds them.
LATER_COLUMNS = {"memberships": (("confirmed_at", "TIMESTAMP WITH TIME ZONE"),
                                 ("confirmed_by_id", "INTEGER"), ("pending_by_id", "INTEGER"),
                                 ("pending_since", "TIMESTAMP WITH TIME ZONE")),
                 "users": (("admin_requested_at", "TIMESTAMP WITH TIME ZONE"),
                           ("admin_requested_by_id", "INTEGER"),
                           ("failed_codes", "INTEGER DEFAULT 0")),
                 "handovers": (("withdrawal_reason", "VARCHAR(32)"),)}


def add_later_columns(*tables):
    """Add `LATER_COLUMNS` of ``tables`` (all without). Needs an app context."""
    _alter_later_columns(tables, "ADD COLUMN {name} {kind}")


def drop_later_columns(*tables):
    db.session.remove()
    _alter_later_columns(tables, "DROP COLUMN {name}")


def _alter_later_columns(tables, change):
    with db.engine.begin() as connection:
        for table, columns in LATER_COLUMNS.items():
            if tables and table not in tables:
                continue
            for name, kind in columns:
                connection.execute(text(f"ALTER TABLE {table} "
                                        + change.format(name=name, kind=kind)))


def unstamp():
    """Undo `flask_migrate.stamp()`: drop Alembic's version table, leaving the tables at no
    revision as the `app` fixture makes them (PostgreSQL keeps both between tests). Needs an
    app context."""
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def summary_lines(page):
    """The items of the page's error summary (its HTML ``page``), as text."""
    start = page.index('id="error-summary"')
    items = re.findall(r"<li>(.*?)</li>", page[start:page.index("</ul>", start)], re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def stored_content(app, draft_id):
    """What the draft ``draft_id`` holds now, opened as the drafts service opens it."""
    with app.app_context():
        return drafts.content_of(db.session.get(Handover, draft_id))


def count_handovers(app):
    """How many handovers (drafts included) the database holds."""
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Handover)).scalar()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on just now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def operator_environment(instance, **variables):
    """The environment of an operator's shell running the `handover` command: none of the
    test run's HANDOVER_ settings, the instance folder ``instance``, and ``variables``."""
    import handover

    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("HANDOVER_")}
    environment.update(HANDOVER_INSTANCE_PATH=str(instance), FLASK_SKIP_DOTENV="1",
                       PYTHONPATH=str(Path(handover.__file__).resolve().parents[1]),
                       **variables)
    return environment
