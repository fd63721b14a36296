"""The scale-out test: real gunicorn nodes, a worker, PgBouncer, PostgreSQL and Redis. Marked
`fault` like tests/fault (it starts and kills servers); it reuses that suite's harness."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fault"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/scale/" in str(item.fspath):
            item.add_marker(pytest.mark.fault)


@pytest.fixture
def report(request):
    """report("text") prints a figure now and keeps it with the test's results."""

    def write(text):
        print(f"[{request.node.name}] {text}")
        request.node.user_properties.append(("figure", text))

    return write
