"""Browser tests: a real server (gunicorn, two workers, its own instance made by `handover init`)
driven by Debian's chromium through playwright, with axe-core checking every page visited."""

import os
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


class LiveServer:
    """A gunicorn server on its own instance; `app` opens the same database for set-up."""

    def __init__(self, instance_path, port):
        self.instance_path = instance_path
        self.url = f"http://127.0.0.1:{port}"
        self.environment = {**os.environ, "HANDOVER_INSTANCE_PATH": str(instance_path)}
        self.environment.pop("HANDOVER_DATABASE_URL", None)
        self.app = None
        self.process = None
        self.port = port

    def start(self):
        subprocess.run([VENV_BIN / "handover", "init"], env=self.environment, check=True,
                       capture_output=True)
        return self.serve()

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


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A running Handover for one test module."""
    server = LiveServer(tmp_path_factory.mktemp("live") / "instance", free_port()).start()
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
def demo_server(live_server):
    """The live server with the demo's units, users and handovers of each form
    (`handover demo`, as a new instance's administrator would run it)."""
    subprocess.run([str(VENV_BIN / "handover"), "demo"], env=live_server.environment,
                   check=True, capture_output=True)
    return live_server
