"""Fault tests: real gunicorn servers on their own instances (SQLite, and PostgreSQL in a fresh
database when HANDOVER_TEST_DATABASE_URL is set). Every test here is marked `fault`, so
``pytest -m fault tests/fault -s`` runs them alone; the figures each test measured are printed
as it runs and again in the summary at the end."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import harness  # noqa: E402

BACKENDS = ["sqlite"] + (["postgresql"] if harness.POSTGRES_URL else [])


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/fault/" in str(item.fspath):
            item.add_marker(pytest.mark.fault)


def pytest_terminal_summary(terminalreporter):
    """The figures travel with each test's report (its user properties), so that they reach
    this summary also from the worker processes of pytest-xdist."""
    lines = [f"[{report.nodeid.rsplit('::', 1)[-1]}] {value}"
             for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == "figure"]
    if lines:
        terminalreporter.section("fault-test figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(params=BACKENDS)
def database_backend(request):
    return request.param


@pytest.fixture
def make_server(tmp_path, database_backend):
    """make_server(workers=2, extra_env=None) -> an initialised, started Server. Everything
    it made (processes, the PostgreSQL database) is removed after the test."""
    made, databases = [], []

    def make(workers=2, extra_env=None, start=True):
        url = None
        if database_backend == "postgresql":
            database = harness.PostgresDatabase().create()
            databases.append(database)
            url = database.url
        instance = tmp_path / f"instance{len(made)}"
        server = harness.Server(instance, database_url=url, workers=workers,
                                extra_env=extra_env)
        server.database = databases[-1] if databases else None
        made.append(server)
        server.init()
        return server.start() if start else server

    yield make
    for server in made:
        server.kill()
        server.dispose()
    for database in databases:
        database.drop()
