"""Count the SQL statements and commits Handover issues per send, open and inbox request, in
process (Flask's test client), so that the "matched" yardstick (bench/minimal_app.py) can issue
exactly as many of each kind in the same run, as the issue describes it ("the same number of
inserts and selects")."""

import contextlib
import re
import tempfile
import urllib.parse
from collections import Counter
from pathlib import Path

import harness
from sqlalchemy import event

KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "COMMIT")
#: The first data-changing keyword in a statement that begins with WITH.
WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class TestClient(harness.Client):
    """harness.Client over the Flask test client instead of HTTP."""

    def __init__(self, app):
        super().__init__("")
        self.client = app.test_client()

    def request(self, method, path, data=None, *, body=None, headers=None):
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        answer = self.client.open(path, method=method, data=body, headers=headers or {},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"})
        return harness.Response(answer.status_code, answer.headers, answer.get_data())

    def post_followed(self, path, data):
        """POST as a browser does when it follows the redirect that answers it: the page it
        lands on shows the flash message the POST left in the session, which takes it out
        again. That page is not the POST's work, so it is not requested (the POST alone is
        measured); the session cookie it would leave, the one from before the POST, is put
        back instead. Otherwise a client sending in a loop carries one more message in its
        session with every send, and each request unpacks and signs them all again. (Over
        HTTP, `run.LeanClient` sends fixed cookies and keeps none.)"""
        kept = self.client.get_cookie(self.client.application.config["SESSION_COOKIE_NAME"])
        answer = self.post(path, data)
        if kept is not None:
            self.client.set_cookie(kept.key, kept.value, domain=kept.domain, path=kept.path)
        return answer


class StatementCounter:
    """Counts statements by their first word, and commits, while it is `active`. A statement
    that begins with a common table expression counts as the first INSERT, UPDATE or DELETE in
    it, or as a SELECT: the audit log's conditional append (``WITH inserted AS (INSERT ...)
    SELECT ...``) is one INSERT, which the yardstick makes as one."""

    def __init__(self, app):
        from handover.store.database import db

        with app.app_context():
            self.engine = db.engine
        self.counts = Counter()
        self.active = False
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.counts[statement_kind(statement)] += 1

    def _commit(self, conn):
        if self.active:
            self.counts["COMMIT"] += 1

    def measure(self, work, requests):
        """Run ``work()`` (``requests`` requests); the mean count of each kind per request."""
        self.counts.clear()
        self.active = True
        try:
            work()
        finally:
            self.active = False
        return {kind: self.counts[kind] / requests for kind in KINDS}

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def statement_kind(statement):
    """SELECT, INSERT, UPDATE or DELETE (see `StatementCounter`)."""
    words = str(statement).split(None, 1)
    kind = words[0].upper() if words else ""
    if kind == "WITH":
        changing = WRITES.search(statement)
        return changing.group(1).upper() if changing else "SELECT"
    return kind


def prepare_sends(sender, sending_unit_id, receiving_unit_id, count, label="count"):
    """``count`` filled drafts with their preview's submission token: [(draft id, token)]."""
    jobs = []
    for number in range(count):
        draft = sender.start_draft(sending_unit_id, receiving_unit_id)
        assert draft and sender.fill(draft, f"{label}-{number}").status == 302
        token = harness.TOKEN.search(sender.get(f"/handovers/{draft}/preview").text)
        jobs.append((draft, token.group(1)))
    return jobs


def operations(sender, receiver, jobs):
    """The three measured operations as (label, work) over ``jobs``."""
    return (
        ("send", lambda: [sender.post_followed(f"/handovers/{d}/send", {"submission_token": t})
                          for d, t in jobs]),
        ("open", lambda: [receiver.get(f"/handovers/{d}") for d, _ in jobs]),
        ("inbox", lambda: [receiver.get("/handovers/inbox") for _ in jobs]),
    )


def per_operation(app, sender_person, receiver_person, sending_unit_id, receiving_unit_id,
                  count=10):
    """{"send"|"open"|"inbox": {kind: mean per request}} for ``count`` requests of each."""
    sender = TestClient(app).login(sender_person)
    receiver = TestClient(app).login(receiver_person)
    jobs = prepare_sends(sender, sending_unit_id, receiving_unit_id, count)
    counter = StatementCounter(app)
    try:
        return {label: counter.measure(work, count)
                for label, work in operations(sender, receiver, jobs)}
    finally:
        counter.close()


@contextlib.contextmanager
def in_process_instance(stored, database_url=None):
    """A fresh instance (SQLite, or a new database on the PostgreSQL server ``database_url``)
    holding ``stored`` bulk handovers, with a sender and a receiver logged in over the test
    client: yields (app, people, sender, receiver, database or None). Removed afterwards."""
    import run

    with tempfile.TemporaryDirectory() as folder:
        database = harness.PostgresDatabase(database_url).create() if database_url else None
        server = harness.Server(Path(folder) / "handover", database_url=database and database.url)
        server.init()
        try:
            people = harness.People(server, 1, 1)
            run.bulk_load(server, people, stored, 1)
            yield (server.app, people, TestClient(server.app).login(people.senders[0]),
                   TestClient(server.app).login(people.receivers[0]), database)
        finally:
            server.dispose()
            if database:
                database.drop()
