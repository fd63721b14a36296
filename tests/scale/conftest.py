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
