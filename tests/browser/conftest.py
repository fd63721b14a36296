"""Browser tests: a real server (gunicorn, two workers, its own copy of an instance made once by
`handover init`, and `handover demo` where asked) driven by Debian's chromium through playwright,
with axe-core checking every page visited."""

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from support import free_port

from handover import create_app

VENV_BIN = Path(sys.executable).parent
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def artifacts_dir():
    """Screenshots for reviewers; kept after the run, never committed (.gitignore)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def instance_environment(instance_path):
    """The environment of a command or server on ``instance_path`` (its SQLite database)."""
    environment = {**os.environ, "HANDOVER_INSTANCE_PATH": str(instance_path)}
    environment.pop("HANDOVER_DATABASE_URL", None)
    return environment


class LiveServer:
    """A gunicorn server on its own instance; `app` opens the same database for set-up."""

    def __init__(self, instance_path, port):
        self.instance_path = instance_path
        self.url = f"http://127.0.0.1:{port}"
        self.environment = instance_environment(instance_path)
        self.app = None
        self.process = None
        self.port = port

    def serve(self):
        """Start gunicorn on the instance (again, after `stop`: its config is read anew)."""
        self.app = create_app({"INSTANCE_PATH": str(self.instance_path)})
        self.process = subprocess.Popen(
            [VENV_BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "handover:create_app()"],
            env=self.environment,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):  # noqa: S310
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the test server did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


def _run(command, instance_path):
    subprocess.run([str(VENV_BIN / "handover"), command], env=instance_environment(instance_path),
                   check=True, capture_output=True)


@pytest.fixture(scope="session")
def initialised_instance(tmp_path_factory):
    """An instance as `handover init` leaves it, made once for the test process's modules."""
    path = tmp_path_factory.mktemp("initialised") / "instance"
    _run("init", path)
    return path


@pytest.fixture(scope="session")
def demo_instance(initialised_instance, tmp_path_factory):
    """That instance with the demo's units, users and handovers of each form (`handover
    demo`, as a new instance's administrator would run it), made once."""
    path = tmp_path_factory.mktemp("demo") / "instance"
    shutil.copytree(initialised_instance, path)
    _run("demo", path)
    return path


def _served_copy(instance, tmp_path_factory):
    """A server on a copy of ``instance`` of its own (modes kept: the folder 0700, its files
    0600), with a secret key of its own: a module's server never reads another's cookies."""
    path = tmp_path_factory.mktemp("live") / "instance"
    shutil.copytree(instance, path)
    with (path / "config.py").open("a") as config:
        config.write(f"\nSECRET_KEY = {secrets.token_urlsafe(32)!r}\n")
    return LiveServer(path, free_port()).serve()


@pytest.fixture(scope="module")
def live_server(initialised_instance, tmp_path_factory):
    """A running Handover for one test module, on a new instance."""
    server = _served_copy(initialised_instance, tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture
def check_accessibility():
    """Call with a page: fails listing every axe-core violation on it."""
    axe = Axe()

    def check(page):
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"

    return check


@pytest.fixture(scope="module")
def demo_server(demo_instance, tmp_path_factory):
    """A running Handover for one test module, on a copy of the demo's instance."""
    server = _served_copy(demo_instance, tmp_path_factory)
    yield server
    server.stop()
