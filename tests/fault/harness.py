"""Machinery shared by the fault tests and the benchmark: a real Handover under gunicorn on its
own instance (SQLite, or a fresh PostgreSQL database made for the run and dropped after), people
made straight in its database, and an HTTP client that logs in like a browser (password, then
TOTP, CSRF token read from the page) and writes, sends, opens and acknowledges handovers.

Everything talks only to 127.0.0.1, and every loop has a count and a deadline.
"""

import hashlib
import http.client
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PLUGINS = ROOT / "tests" / "plugins"
FORM_KEY = "lifecycle_test"
PASSWORD = "correct horse battery staple"
CHILD_CODE = "010594Y9032"
_CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def child_code(marker):
    """A valid identity code in the temporary range (individual number 900-999) of its own
    for each ``marker``: each handover the load tests send is about a different child, as in
    real use, where a child has a handful of handovers, not thousands."""
    n = int.from_bytes(hashlib.sha256(str(marker).encode()).digest()[:8], "big")
    birth = f"{1 + n % 28:02d}{1 + n // 28 % 12:02d}{n // 336 % 100:02d}"
    individual = 900 + n // 33600 % 100
    return f"{birth}-{individual}{_CHECK_CHARACTERS[int(f'{birth}{individual}') % 31]}"
POSTGRES_URL = os.environ.get("HANDOVER_TEST_DATABASE_URL")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scale():
    """HANDOVER_FAULT_SCALE: 1 is the issue's full numbers (50 senders x 20 handovers, 20
    receivers), which take several minutes on a 2-core machine; the default 0.2 (10 x 4, 4)
    keeps a CI run of the whole suite within a few minutes."""
    return float(os.environ.get("HANDOVER_FAULT_SCALE", "0.2"))


def psql(sql, url=None):
    """Run one statement as the PostgreSQL superuser of HANDOVER_TEST_DATABASE_URL."""
    base = urllib.parse.urlsplit(url or POSTGRES_URL)
    admin = base._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                   capture_output=True, timeout=60)


class PostgresDatabase:
    """A database of its own on the PostgreSQL server CI provides; dropped on `drop`."""

    def __init__(self, base_url=None):
        self.base_url = base_url or POSTGRES_URL
        self.name = "handover_fault_" + secrets.token_hex(4)
        self.url = urllib.parse.urlsplit(self.base_url)._replace(path="/" + self.name).geturl()

    def create(self):
        psql(f'CREATE DATABASE "{self.name}"', self.base_url)
        return self

    def drop(self):
        psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', self.base_url)

    def connection_count(self):
        base = urllib.parse.urlsplit(self.base_url)._replace(path="/postgres").geturl()
        result = subprocess.run(
            ["psql", base, "-qAtc",
             f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.name}'"],
            check=True, capture_output=True, text=True, timeout=30)
        return int(result.stdout.strip())


class Server:
    """Handover under gunicorn, started in its own process group so a crash test can SIGKILL
    the master and every worker at once."""

    def __init__(self, instance_path, *, database_url=None, workers=2, extra_env=None):
        self.instance_path = Path(instance_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.environment = {**os.environ, "HANDOVER_INSTANCE_PATH": str(self.instance_path)}
        self.environment.pop("HANDOVER_DATABASE_URL", None)
        self.environment.pop("HANDOVER_REDIS_URL", None)
        if database_url:
            self.environment["HANDOVER_DATABASE_URL"] = database_url
        self.environment.update(extra_env or {})
        self.database_url = database_url
        self.process = None
        self._app = None

    # -- instance -------------------------------------------------------------------------
    def init(self):
        self.cli("init", check=True)
        for suffix in (".py", ".toml"):
            shutil.copy(PLUGINS / f"lifecycle_form{suffix}", self.instance_path / "plugins")
        return self

    def cli(self, *args, check=False, timeout=300):
        return subprocess.run([str(VENV_BIN / "handover"), *args], env=self.environment,
                              capture_output=True, text=True, timeout=timeout, check=check)

    @property
    def app(self):
        """The same instance opened in this process, for set-up and for counting in the DB."""
        if self._app is None:
            from handover import create_app

            overrides = {"INSTANCE_PATH": str(self.instance_path)}
            if self.database_url:
                overrides["SQLALCHEMY_DATABASE_URI"] = self.database_url
            self._app = create_app(overrides)
        return self._app

    def dispose(self):
        if self._app is not None:
            from handover.store.database import db

            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()

    # -- process --------------------------------------------------------------------------
    def start(self, timeout=60):
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "60",
             "--chdir", str(ROOT), "wsgi:app"],
            env=self.environment, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):  # noqa: S310
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the test server did not start")

    def kill(self):
        """SIGKILL the master and its workers (the process group this object started)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def worker_rss_kb(self):
        """VmRSS of each worker, in kB."""
        sizes = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1])
            except FileNotFoundError:
                continue
        return sizes


class People:
    """Sending units with senders and receiving units with receivers, all enrolled in TOTP and
    reading English. One password hash is computed and shared (hashing is slow by design)."""

    def __init__(self, server, senders, receivers):
        from handover.security import totp
        from handover.security.passwords import hash_password
        from handover.store.database import db
        from handover.store.models import Membership, Unit, User

        self.senders, self.receivers = [], []
        password_hash = hash_password(PASSWORD)
        with server.app.app_context():
            sending = Unit(name="Fault sending unit", kind="child_welfare_institution")
            db.session.add(sending)
            self.receiving_units = []
            for index in range(receivers):
                unit = Unit(name=f"Fault ward {index}", kind="psychiatric_ward")
                db.session.add(unit)
                self.receiving_units.append(unit)
            db.session.flush()
            self.sending_unit_id = sending.id

            def person(email, unit, role):
                user = User(email=email, name=email.split("@")[0], password_hash=password_hash,
                            language="en")
                db.session.add(user)
                db.session.flush()
                secret = pyotp.random_base32()
                totp.store_secret(user, secret)
                db.session.add(Membership(user_id=user.id, unit_id=unit.id, role=role))
                return {"email": email, "secret": secret, "unit_id": unit.id,
                        "id": user.id}

            for index in range(senders):
                self.senders.append(person(f"sender{index}@fault.test", sending, "sender"))
            for index, unit in enumerate(self.receiving_units):
                self.receivers.append(person(f"receiver{index}@fault.test", unit, "receiver"))
            self.receiving_unit_ids = [unit.id for unit in self.receiving_units]
            db.session.commit()


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def location(self):
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')


class Client:
    """One browser: its own cookie jar, no automatic redirects, every answer's status kept."""

    def __init__(self, base_url, timeout=60):
        self.base_url = base_url
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.csrf = None
        self.statuses = []

    def request(self, method, path, data=None, *, body=None, headers=None):
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        request = urllib.request.Request(self.base_url + path, data=body, method=method,
                                         headers=headers or {})
        try:
            response = self._exchange(request)
        except http.client.HTTPException as error:
            # The server died between its headers and its body (the crash test's SIGKILL): to
            # the caller this is a lost connection, like one refused while the server is down.
            raise ConnectionError(f"answer cut off: {error!r}") from error
        self.statuses.append(response.status)
        if b"database is locked" in response.body:
            self.statuses.append("database is locked")
        return response

    def _exchange(self, request):
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read())

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, data=None, **kwargs):
        if data is not None and self.csrf:
            data = {"csrf_token": self.csrf, **data}
        return self.request("POST", path, data, **kwargs)

    def read_csrf(self, path):
        response = self.get(path)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def login(self, person):
        """Password step then TOTP step; raises AssertionError with the page if refused."""
        self.read_csrf("/login")
        response = self.post("/login", {"email": person["email"], "password": PASSWORD})
        assert response.status == 302, (response.status, response.text[:300])
        self.read_csrf("/login/totp")
        code = pyotp.TOTP(person["secret"]).now()
        response = self.post("/login/totp", {"code": code})
        assert response.status == 302, (response.status, response.text[:300])
        self.read_csrf("/handovers/new")
        return self

    # -- the handover journey -------------------------------------------------------------
    def start_draft(self, sending_unit_id, receiver_unit_id):
        """Steps 1 and 2; returns the draft id, or None when a step did not redirect."""
        response = self.post("/handovers/new", {"choice": f"{sending_unit_id}:{FORM_KEY}"})
        if response.status != 302:
            return None
        path = urllib.parse.urlsplit(response.location).path
        response = self.post(path, {"receiver": str(receiver_unit_id),
                                    "legal_basis": "lsl_disclosure"})
        found = re.search(r"/handovers/(\d+)/edit", response.location)
        return int(found.group(1)) if response.status == 302 and found else None

    def fill(self, draft_id, marker, **fields):
        values = {"child_name": f"Child {marker}", "child_identity_code": child_code(marker),
                  "non_disclosure": "no", "location_hidden": "no",
                  "placement_address": "Testikatu 1", "health_notes": marker, **fields}
        return self.post(f"/handovers/{draft_id}/edit", {**values, "preview": "1"})

    def send(self, draft_id):
        """Preview then send. Returns (submission token, True when the send succeeded)."""
        page = self.get(f"/handovers/{draft_id}/preview")
        found = TOKEN.search(page.text)
        if page.status != 200 or not found:
            return None, False
        token = found.group(1)
        response = self.post(f"/handovers/{draft_id}/send", {"submission_token": token})
        # A sent handover lands on its confirmation page.
        ok = (response.status == 302
              and response.location.endswith(f"/handovers/{draft_id}/sent"))
        return token, ok

    def write_and_send(self, sending_unit_id, receiver_unit_id, marker):
        draft_id = self.start_draft(sending_unit_id, receiver_unit_id)
        if draft_id is None:
            return None, None, False
        if self.fill(draft_id, marker).status != 302:
            return draft_id, None, False
        token, ok = self.send(draft_id)
        return draft_id, token, ok

    def inbox_ids(self, status):
        page = self.get(f"/handovers/inbox?status={status}")
        return sorted({int(i) for i in re.findall(r'href="/handovers/(\d+)"', page.text)})

    def open_and_acknowledge(self, handover_id):
        """Returns True when the handover is acknowledged now (by us or someone before)."""
        page = self.get(f"/handovers/{handover_id}")
        if page.status != 200:
            return False
        response = self.post(f"/handovers/{handover_id}/acknowledge", {"note": ""})
        return response.status == 302


class Load:
    """N sender threads each sending M handovers while R receiver threads poll their inboxes
    and acknowledge. Records every answer's status and every send that got a success answer."""

    def __init__(self, server, people, per_sender, *, deadline_seconds=600):
        self.server, self.people, self.per_sender = server, people, per_sender
        self.deadline = time.monotonic() + deadline_seconds
        self.lock = threading.Lock()
        self.sent = {}          # submission token -> draft id, for answers that said "sent"
        self.drafts = set()     # every draft id a step-2 answer created
        self.failures = []      # (sender, number, when) of sends that did not succeed
        self.statuses = []
        self.errors = []        # exceptions (connection refused while the server is down, …)
        self.acknowledged = set()
        self.senders_done = threading.Event()
        self.stop = threading.Event()

    def _as(self, person, work):
        """Log ``person`` in and run ``work(client)``; what breaks it is kept in ``errors`` and
        every answer's status in ``statuses``."""
        client = Client(self.server.url)
        try:
            client.login(person)
            work(client)
        except (OSError, AssertionError) as error:
            with self.lock:
                self.errors.append(repr(error))
        finally:
            with self.lock:
                self.statuses.extend(client.statuses)

    def _note_send(self, index, number, draft_id, token, ok):
        """Book one send: its draft, and either its token (answered "sent") or a failure."""
        with self.lock:
            if draft_id:
                self.drafts.add(draft_id)
            if ok:
                self.sent[token] = draft_id
            else:
                self.failures.append((index, number, time.monotonic()))

    def _receiver_unit(self, index, number):
        units = self.people.receiving_unit_ids
        return units[(index * self.per_sender + number) % len(units)]

    def _sender(self, index, person):
        def work(client):
            for number in range(self.per_sender):
                if self.stop.is_set() or time.monotonic() > self.deadline:
                    break
                try:
                    draft_id, token, ok = client.write_and_send(
                        self.people.sending_unit_id, self._receiver_unit(index, number),
                        f"load-{index}-{number}")
                except OSError as error:
                    # The server is down (crash test): wait for it, then go on with the next.
                    with self.lock:
                        self.errors.append(repr(error))
                    self.wait_for_server()
                    continue
                self._note_send(index, number, draft_id, token, ok)

        self._as(person, work)

    def _receiver(self, person):
        def work(client):
            idle_rounds = 0
            while time.monotonic() < self.deadline and not self.stop.is_set():
                try:
                    waiting = client.inbox_ids("sent") + client.inbox_ids("opened")
                    for handover_id in waiting:
                        if client.open_and_acknowledge(handover_id):
                            with self.lock:
                                self.acknowledged.add(handover_id)
                except OSError as error:
                    with self.lock:
                        self.errors.append(repr(error))
                    self.wait_for_server()
                    continue
                if not waiting:
                    if self.senders_done.is_set():
                        idle_rounds += 1
                        if idle_rounds >= 2:
                            break
                    time.sleep(0.3)

        self._as(person, work)

    def wait_for_server(self, timeout=60):
        def answers():
            try:
                with urllib.request.urlopen(self.server.url + "/healthz", timeout=2):  # noqa: S310
                    return True
            except OSError:
                return False

        wait_until(answers, min(timeout, max(self.deadline - time.monotonic(), 0)), 0.2)

    def run(self, during=None):
        """Run the load; ``during(load)`` runs in this thread while it goes (kill, rotate…)."""
        started = time.monotonic()
        senders = [threading.Thread(target=self._sender, args=(i, p), daemon=True)
                   for i, p in enumerate(self.people.senders)]
        receivers = [threading.Thread(target=self._receiver, args=(p,), daemon=True)
                     for p in self.people.receivers]
        for thread in senders + receivers:
            thread.start()
        if during:
            during(self)
        for thread in senders:
            thread.join(max(self.deadline - time.monotonic(), 1))
        self.senders_done.set()
        for thread in receivers:
            thread.join(max(self.deadline - time.monotonic(), 1))
        self.stop.set()
        self.seconds = time.monotonic() - started
        return self

    def server_errors(self):
        return [status for status in self.statuses
                if isinstance(status, str) or status >= 500]


def verify_sent(server, tokens):
    """For each submission token: exactly one handover, sealed content that opens.
    Returns {token: (status, content)}."""
    from sqlalchemy import select

    from handover.security import crypto
    from handover.services import open_json
    from handover.store.database import db
    from handover.store.models import Handover

    found = {}
    with server.app.app_context():
        for token in tokens:
            rows = db.session.execute(
                select(Handover).where(Handover.submission_token == token)).scalars().all()
            assert len(rows) == 1, f"{len(rows)} handovers for one successful send"
            handover = rows[0]
            content = open_json(handover, handover.content, crypto.Purpose.CONTENT)
            found[token] = (handover.status, content)
        db.session.remove()
    return found


def count_handovers(server, *statuses):
    from sqlalchemy import func, select

    from handover.store.database import db
    from handover.store.models import Handover

    with server.app.app_context():
        query = select(func.count()).select_from(Handover)
        if statuses:
            query = query.where(Handover.status.in_(statuses))
        count = db.session.execute(query).scalar()
        db.session.remove()
    return count


def wait_until(predicate, timeout, interval=0.1):
    """Poll ``predicate`` until true or ``timeout`` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def fresh_app(server):
    """Forget the in-process app so the next use reads the key file and database again."""
    server.dispose()
    server._app = None
    return server.app


def draft_ids(server):
    from sqlalchemy import select

    from handover.store.database import db
    from handover.store.models import Handover

    with server.app.app_context():
        ids = set(db.session.execute(select(Handover.id)).scalars())
        db.session.remove()
    return ids
