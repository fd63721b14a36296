"""Debian's PgBouncer in transaction pooling, started for one test in front of one database of
the PostgreSQL server the tests use (trust authentication on 127.0.0.1, as CI's server has)."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import harness

BINARY = "/usr/sbin/pgbouncer"


def available():
    return Path(BINARY).exists()


class PgBouncer:
    def __init__(self, database_url, pool_size=20):
        parts = urllib.parse.urlsplit(database_url)
        self.database = parts.path.lstrip("/")
        self.user = parts.username or "postgres"
        self.port = harness.free_port()
        # PgBouncer refuses to run as root; as another user it must read its own folder.
        self.folder = Path(tempfile.mkdtemp(prefix="handover-pgbouncer-"))
        os.chmod(self.folder, 0o755)
        (self.folder / "userlist.txt").write_text(f'"{self.user}" ""\n')
        server = (f"host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} "
                  f"dbname={self.database} user={self.user}")
        (self.folder / "pgbouncer.ini").write_text(f"""\
[databases]
{self.database} = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.folder / 'userlist.txt'}
pool_mode = transaction
max_client_conn = 400
default_pool_size = {pool_size}
ignore_startup_parameters = extra_float_digits,options
logfile = {self.folder / 'pgbouncer.log'}
pidfile = {self.folder / 'pgbouncer.pid'}
""")
        for name in ("userlist.txt", "pgbouncer.ini"):
            os.chmod(self.folder / name, 0o644)
        self.url = parts._replace(netloc=f"{self.user}@127.0.0.1:{self.port}").geturl()
        self.process = None

    def start(self, timeout=20):
        command = [BINARY, str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("pgbouncer exited: " + self.log())
            if _listening(self.port):
                return self
            time.sleep(0.1)
        raise RuntimeError("pgbouncer did not start: " + self.log())

    def log(self):
        path = self.folder / "pgbouncer.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)


def _listening(port):
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
