"""The instance folder is the operator's alone: another account on the machine can read
neither the SQLite database (password hashes, sealed content) nor its WAL, and `handover check`
names any file there that it could read."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

import handover
from handover import create_app
from handover.cli import cli
from handover.store.database import db

HANDOVER = Path(sys.executable).with_name("handover")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_handover_init_leaves_nothing_readable_by_others(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)  # made beforehand, as scripts/start or a package might
    environment = {**os.environ, "HANDOVER_INSTANCE_PATH": str(instance),
                   "PYTHONPATH": str(Path(handover.__file__).resolve().parents[1])}
    for variable in ("HANDOVER_DATABASE_URL", "HANDOVER_SECRET_KEY", "HANDOVER_KEYS"):
        environment.pop(variable, None)
    done = subprocess.run([str(HANDOVER), "init"], capture_output=True, text=True,
                          env=environment, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert mode(instance) == 0o700
    for name in ("config.py", "keys.json", "handover.sqlite3"):
        assert mode(instance / name) == 0o600, name
    for path in instance.iterdir():
        if path.is_file():
            assert mode(path) & 0o077 == 0, path.name


@pytest.mark.parametrize("database_backend", ["sqlite"])
def test_database_and_its_wal_are_created_0600(app_config, instance_path, request):
    path = str(instance_path / "created.sqlite3")   # not the usual name: the app creates it
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.execute(sqlalchemy.text("CREATE TABLE scratch (value TEXT)"))
        db.session.execute(sqlalchemy.text("INSERT INTO scratch VALUES ('written')"))
        db.session.commit()
        for suffix in ("", "-wal", "-shm"):
            assert os.path.exists(path + suffix), suffix
            assert mode(path + suffix) == 0o600, suffix


def test_a_database_left_0644_by_an_older_version_is_tightened(tmp_path):
    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE scratch (value TEXT)"))
    engine.dispose()
    assert mode(path) == 0o600


def run_check(app):
    try:
        return app.test_cli_runner().invoke(cli, ["check"])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("database_backend", ["sqlite"])
def test_check_reports_an_instance_file_others_can_read(app_config, app, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    instance = Path(app_config["INSTANCE_PATH"])
    leaked = instance / "handover.sqlite3-copy"
    leaked.write_bytes(b"an operator's copy")
    os.chmod(leaked, 0o644)
    result = run_check(create_app(app_config))
    assert f"error: {leaked} has mode 0644: other accounts can read it. " \
           f"Run `chmod 600 {leaked}`." in result.output
    assert result.exit_code == 1
    os.chmod(leaked, 0o600)
    assert str(leaked) not in run_check(create_app(app_config)).output


@pytest.mark.parametrize("database_backend", ["sqlite"])
def test_check_reports_an_instance_folder_others_can_enter(app_config, app, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    instance = app_config["INSTANCE_PATH"]
    os.chmod(instance, 0o755)
    result = run_check(create_app(app_config))
    assert f"error: The instance folder {instance} has mode 0755" in result.output
    assert f"Run `chmod 700 {instance}`." in result.output


def test_plugin_code_may_be_readable(app_config, app, monkeypatch):
    """Plugins are code, not secrets: a 0644 plugin module is no finding."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    plugin = Path(app_config["INSTANCE_PATH"]) / "plugins" / "local_form.py"
    plugin.write_text("")
    os.chmod(plugin, 0o644)
    assert "local_form.py" not in run_check(create_app(app_config)).output


SECOND_PROCESS = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
print(connection.execute("SELECT count(*) FROM scratch").fetchone()[0])
connection.close()
"""


@pytest.mark.parametrize("database_backend", ["sqlite"])
def test_a_new_connection_keeps_the_wal_of_a_running_server(app):
    """Each new pooled connection makes the file private. Opening and closing the file to do
    that dropped the server's own SQLite locks: the next process to close its connection took
    itself for the last user and deleted the -wal under the running server, whose later
    writes no other process (the worker, the CLI) saw again."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with app.app_context():
        engine = db.engine
        held = engine.connect()   # the server's first connection, kept open as a pool keeps it
        held.execute(sqlalchemy.text("CREATE TABLE scratch (value TEXT)"))
        held.execute(sqlalchemy.text("INSERT INTO scratch VALUES ('one')"))
        held.commit()
        with engine.connect() as second:   # a second pooled connection: the hook runs again
            second.execute(sqlalchemy.text("SELECT 1"))
        done = subprocess.run([sys.executable, "-c", SECOND_PROCESS, path],
                              capture_output=True, text=True, check=True, timeout=60)
        assert done.stdout.strip() == "1"
        assert os.path.exists(path + "-wal")
        held.execute(sqlalchemy.text("INSERT INTO scratch VALUES ('two')"))
        held.commit()
        done = subprocess.run([sys.executable, "-c", SECOND_PROCESS, path],
                              capture_output=True, text=True, check=True, timeout=60)
        assert done.stdout.strip() == "2"   # another process sees the server's later write
        held.close()
