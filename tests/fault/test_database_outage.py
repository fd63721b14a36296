"""PostgreSQL stopped and started again while senders send and receivers acknowledge.

The cluster is a private one made for this test (initdb into a temporary folder, its own port
and socket folder), never the machine's shared server, because stopping that would break every
other test and CI job using it. While it is down, every page answers a clear 503 (no 500, no
traceback) and /healthz says "unavailable"; once it is back the same gunicorn serves again
without a restart, every send and acknowledgement that was answered with success is still there
exactly once, sealed content opens (`keys check`) and the audit chain verifies.

Senders here behave like people: when a send fails with the 503 page, they wait until the
service is back (/healthz) and send that handover again, so the load also runs after recovery.
"""

import collections
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import harness
import pytest
from flask_babel import force_locale, gettext

SENDERS, PER_SENDER, RECEIVERS = 6, 4, 3
OUTAGE_SECONDS = 5
RECOVERY_DEADLINE = 30
UNAVAILABLE_JSON = {"status": "unavailable", "database": "unreachable"}


def _postgres_bindir():
    """The folder of initdb/pg_ctl/postgres, or None when the server is not installed."""
    candidates = []
    if shutil.which("pg_config"):
        result = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                timeout=30, check=False)
        candidates.append(Path(result.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


class PrivateCluster:
    """A throw-away PostgreSQL cluster: trust auth, 127.0.0.1 only, a socket in its own folder.
    initdb refuses to run as root, so as root it runs as the `postgres` OS user."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="handover-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = harness.free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.owner = None
        if os.geteuid() == 0:
            self.owner = pwd.getpwnam("postgres")
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, program, *args, timeout=120):
        command = [str(self.bindir / program), *args]
        if self.owner:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False, cwd=self.folder)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}"
                               f"{self.log.read_text() if self.log.exists() else ''}")
        return result

    def init(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync")
        return self

    def start(self):
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=100")
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60", "-o", options)

    def stop(self, mode="fast"):
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def running(self):
        command = [str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)]
        if self.owner:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, timeout=30,
                              check=False).returncode == 0

    def destroy(self):
        try:
            if self.data.exists() and self.running():
                self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_cluster():
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and (not shutil.which("runuser") or not _has_user("postgres")):
        pytest.skip("running as root needs the postgres OS user and runuser for initdb")
    cluster = PrivateCluster(bindir)
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.destroy()


def _has_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def outage_server(private_cluster, tmp_path):
    database = harness.PostgresDatabase(base_url=private_cluster.url).create()
    server = harness.Server(tmp_path / "instance", database_url=database.url, workers=2)
    try:
        server.init().start()
        yield server
    finally:
        server.kill()
        server.dispose()


Answer = collections.namedtuple("Answer", "started ended method path status body")


@pytest.fixture
def timeline(monkeypatch):
    """Every answer any harness.Client gets in this test, with when it was asked and answered;
    the body is kept for 5xx answers, to check what people were shown."""
    answers, lock = [], threading.Lock()
    original = harness.Client.request

    def recorded(self, method, path, *args, **kwargs):
        started = time.monotonic()
        response = original(self, method, path, *args, **kwargs)
        body = response.text if response.status >= 500 else ""
        with lock:
            answers.append(Answer(started, time.monotonic(), method, path.split("?")[0],
                                  response.status, body))
        return response

    monkeypatch.setattr(harness.Client, "request", recorded)
    return answers


class PatientLoad(harness.Load):
    """harness.Load whose senders, shown a failure, wait for /healthz to say the service is
    back and send that handover again (up to three tries), as a person would."""

    def _sender(self, index, person):
        def work(client):
            for number in range(self.per_sender):
                for _attempt in range(3):
                    if self.stop.is_set() or time.monotonic() > self.deadline:
                        return
                    draft_id, token, ok = client.write_and_send(
                        self.people.sending_unit_id, self._receiver_unit(index, number),
                        f"load-{index}-{number}")
                    self._note_send(index, number, draft_id, token, ok)
                    if ok:
                        break
                    self.wait_for_server()

        self._as(person, work)


def _unavailable_messages(server):
    messages = set()
    with server.app.test_request_context():
        for language in server.app.config["LANGUAGES"]:
            with force_locale(language):
                messages.add(gettext(
                    "The service is temporarily unavailable. Try again in a moment."))
    return messages


def _is_clear(answer, messages):
    """A 503 that says what is going on in words, and nothing from the inside of the server."""
    if answer.status != 503 or "Traceback" in answer.body or "Error:" in answer.body:
        return False
    if answer.path == "/healthz":
        return json.loads(answer.body) == UNAVAILABLE_JSON
    return any(message in answer.body for message in messages)


def _healthz_ok(server):
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as answer:  # noqa: S310
            return answer.status == 200
    except OSError:
        return False


def _statuses_by_id(server, ids):
    from sqlalchemy import select

    from handover.store.database import db
    from handover.store.models import Handover

    with server.app.app_context():
        rows = db.session.execute(
            select(Handover.id, Handover.status).where(Handover.id.in_(ids))).all()
        db.session.remove()
    return dict(rows)


def test_database_stopped_and_started_during_load_loses_nothing(
        private_cluster, outage_server, timeline, report):
    server = outage_server
    messages = _unavailable_messages(server)
    people = harness.People(server, SENDERS + 1, RECEIVERS)
    watcher = harness.Client(server.url).login(people.senders.pop())  # not part of the load
    visitor = harness.Client(server.url)
    visitor.read_csrf("/login")
    target = SENDERS * PER_SENDER
    moments, probes = {}, []

    def probe_while_down():
        """Ask what people would ask during the outage: a logged-in page, the inbox, a login
        and /healthz; returns the answers."""
        return [watcher.get("/"), watcher.get("/handovers/inbox"),
                visitor.post("/login", {"email": people.receivers[0]["email"],
                                        "password": harness.PASSWORD}),
                visitor.get("/healthz")]

    def outage(load):
        assert harness.wait_until(lambda: len(load.sent) >= target // 4, timeout=120), \
            "the load did not get going before the outage"
        moments["sent_before"] = len(load.sent)
        moments["stopping"] = time.monotonic()
        private_cluster.stop()
        moments["stopped"] = time.monotonic()
        while time.monotonic() < moments["stopped"] + OUTAGE_SECONDS:
            probes.extend(probe_while_down())
            time.sleep(0.2)
        moments["starting"] = time.monotonic()
        private_cluster.start()
        moments["started"] = time.monotonic()
        moments["recovered"] = harness.wait_until(
            lambda: _healthz_ok(server) and watcher.get("/").status == 200,
            timeout=RECOVERY_DEADLINE, interval=0.1) and time.monotonic()

    load = PatientLoad(server, people, PER_SENDER, deadline_seconds=150).run(during=outage)

    down = [a for a in timeline if moments["stopped"] <= a.started < moments["starting"]]
    by_status = collections.Counter(answer.status for answer in down)
    server_errors = [a for a in timeline if a.status >= 500]
    unclear = [a for a in server_errors if not _is_clear(a, messages)]
    report(f"{SENDERS} senders x {PER_SENDER}, {RECEIVERS} receivers on 2 workers; "
           f"PostgreSQL stopped after {moments['sent_before']}/{target} sends, "
           f"down {moments['starting'] - moments['stopped']:.1f} s "
           f"(fast stop took {moments['stopped'] - moments['stopping']:.1f} s)")
    report(f"requests while down: {len(down)} by status {dict(sorted(by_status.items()))}; "
           f"all 5xx in the run: {dict(collections.Counter(a.status for a in server_errors))}, "
           f"unclear: {len(unclear)}")
    if moments["recovered"]:
        report(f"serving again {moments['recovered'] - moments['started']:.2f} s after "
               f"PostgreSQL accepted connections "
               f"({moments['recovered'] - moments['stopping']:.1f} s after the stop), "
               f"no restart")
    report(f"{len(load.sent)} sends answered 'sent', {len(load.failures)} failed while down "
           f"and were sent again, {len(load.acknowledged)} acknowledged, "
           f"{len(load.statuses)} requests in {load.seconds:.1f} s, "
           f"client errors: {len(load.errors)}")

    assert moments["recovered"], f"not serving {RECOVERY_DEADLINE} s after the database returned"
    # While it was down: the 503 page, the clear message, /healthz saying so; never a 500.
    assert probes and {response.status for response in probes} == {503}
    assert 503 in by_status and all(status < 500 or status == 503 for status in by_status)
    assert unclear == [], [(a.method, a.path, a.status, a.body[:300],
                            f"asked {a.started - moments['stopping']:+.2f} s from the stop",
                            f"answered {a.ended - moments['stopping']:+.2f} s")
                           for a in unclear]
    assert {a.status for a in server_errors} <= {503}
    # After it: full service. No request asked after recovery failed, gunicorn never went away.
    assert [a for a in timeline if a.started >= moments["recovered"] and a.status >= 400] == []
    assert all(moments["stopping"] <= failed_at <= moments["recovered"] + 1
               for _index, _number, failed_at in load.failures), load.failures
    assert load.errors == []
    assert len(load.sent) == target

    # Nothing answered with success is lost: each send once, opening, and acknowledged.
    harness.fresh_app(server)
    opened = harness.verify_sent(server, load.sent)
    assert sorted(content["health_notes"] for _, content in opened.values()) == sorted(
        f"load-{i}-{n}" for i in range(SENDERS) for n in range(PER_SENDER))
    assert {status for status, _ in opened.values()} == {"acknowledged"}
    acknowledged = _statuses_by_id(server, load.acknowledged)
    assert set(acknowledged) == load.acknowledged
    assert set(acknowledged.values()) == {"acknowledged"}
    assert load.drafts <= harness.draft_ids(server)
    keys = server.cli("keys", "check")
    audit = server.cli("audit", "verify")
    report(f"{len(opened)} sent handovers open, {len(acknowledged)} acknowledgements kept; "
           f"keys check exit {keys.returncode}; audit verify exit {audit.returncode}")
    assert keys.returncode == 0, keys.stdout + keys.stderr
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_a_connection_cut_after_the_last_query_is_not_a_500(private_cluster, tmp_path):
    """The database restarts after a page's last query but before the request ends: the page
    was made, only the closing ROLLBACK fails. That must not escape past the error handlers
    (gunicorn would answer a bare 500 and log a traceback), and the next request works."""
    from sqlalchemy import text

    from handover.store.database import db

    database = harness.PostgresDatabase(base_url=private_cluster.url).create()
    server = harness.Server(tmp_path / "instance", database_url=database.url).init()
    app = server.app

    def cut_after_the_last_query():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        harness.psql(f"SELECT pg_terminate_backend({pid})", database.url)
        assert harness.wait_until(lambda: not _backend_alive(database, pid), timeout=10)
        return "made"

    app.add_url_rule("/cut-after-query", view_func=cut_after_the_last_query)
    try:
        client = app.test_client()
        response = client.get("/cut-after-query")
        assert response.status_code == 200 and response.get_data(as_text=True) == "made"
        assert client.get("/healthz").status_code == 200
    finally:
        server.dispose()


def _backend_alive(database, pid):
    result = subprocess.run(
        ["psql", database.url, "-qAtc", f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"],
        capture_output=True, text=True, timeout=30, check=True)
    return result.stdout.strip() != "0"
