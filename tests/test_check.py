"""`handover check`: an operator about to go live hears about every configuration problem, each
on one line with what to do, and the exit status says whether any is an error."""

import json
import os
from pathlib import Path

import pytest
from flask.cli import ScriptInfo
from flask_migrate import stamp
from sqlalchemy import text
from support import invoke, unstamp

from handover import create_app
from handover.cli import cli
from handover.security import keys
from handover.store.database import db


@pytest.fixture
def production_config(app_config):
    """A configuration that `handover check` should pass: what README's production section says."""
    app_config.update({
        "TESTING": False,
        "HTTPS": True,
        "PROXIES": 1,
        "BASE_URL": "https://handover.example.fi",
        "SMTP_HOST": "smtp.example.fi",
        "WTF_CSRF_ENABLED": True,
    })
    del app_config["ARGON2_PROFILE"]   # the suite's cheap hashing starts no server
    return app_config


@pytest.fixture
def migrated(app):
    """The test database stamped at the latest migration, as `handover db upgrade` leaves it."""
    with app.app_context():
        stamp()
    yield app
    with app.app_context():
        unstamp()


def run_check(app, *arguments):
    """`handover check` against ``app``; its database connections are closed afterwards."""
    try:
        return invoke(app, "check", *arguments)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_clean_production_config_passes(production_config, migrated, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    result = run_check(migrated)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 error(s), 0 warning(s)."


def _rewrite_keyring(app_config, change):
    path = os.path.join(app_config["INSTANCE_PATH"], "keys.json")
    with open(path) as handle:
        keyring = json.load(handle)
    change(keyring)
    keys.write_key_file(path, keyring)


def _short_kek(keyring):
    keyring["keks"][keyring["active_kek"]] = keys.decode(
        keyring["keks"][keyring["active_kek"]])[:16].hex()


CONFIG_PROBLEMS = {
    "debug": (lambda config: config.update(DEBUG=True), "Debug mode is on"),
    "no https": (lambda config: config.update(HTTPS=False), "HTTPS is off"),
    "short secret": (lambda config: config.update(SECRET_KEY="x" * 31),
                     "shorter than 32 characters"),
    "redis not answering": (lambda config: config.update(REDIS_URL="redis://127.0.0.1:1/0"),
                            "Redis (HANDOVER_REDIS_URL) does not answer"),
    "csrf off": (lambda config: config.update(WTF_CSRF_ENABLED=False),
                 "CSRF protection is off"),
    "key file missing": (
        lambda config: os.unlink(os.path.join(config["INSTANCE_PATH"], "keys.json")),
        "No key file at"),
    "key file readable by others": (
        lambda config: os.chmod(os.path.join(config["INSTANCE_PATH"], "keys.json"), 0o644),
        "has mode 0644"),
    "key file not JSON": (
        lambda config: Path(config["INSTANCE_PATH"], "keys.json").write_text("{"),
        "key file is not valid JSON"),
    "kek of 16 bytes": (lambda config: _rewrite_keyring(config, _short_kek),
                        "must be 32 bytes in base64"),
    "no active kek": (
        lambda config: _rewrite_keyring(config, lambda ring: ring.update(active_kek="gone")),
        "active KEK gone is not among"),
    "no identity hash key": (
        lambda config: _rewrite_keyring(config, lambda ring: ring.pop("identity_hash_key")),
        "needs active_kek, keks and identity_hash_key"),
}

#: Problems start-up itself refuses (tests/test_operator_review_keys_and_mail.py), made after it.
AFTER_START_UP = {"key file missing"}


@pytest.mark.parametrize("problem", CONFIG_PROBLEMS)
def test_each_configuration_problem_is_an_error_with_advice(production_config, problem,
                                                            monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    change, expected = CONFIG_PROBLEMS[problem]
    if problem in AFTER_START_UP:
        app = create_app(production_config)
        change(production_config)
    else:
        change(production_config)
        app = create_app(production_config)
    with app.app_context():
        db.create_all()   # the tables `handover db upgrade` makes, then its stamp
        stamp()
    try:
        result = run_check(app)
    finally:
        with app.app_context():
            unstamp()
            db.engine.dispose()
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if expected in line]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert result.output.splitlines()[-1] == "1 error(s), 0 warning(s).", result.output


@pytest.mark.parametrize("setting, expected", [
    ("SMTP_HOST", "warning: SMTP is not configured"),
    ("PROXIES", "warning: HTTPS is on but HANDOVER_PROXIES is 0"),
])
def test_missing_smtp_or_proxy_count_is_only_a_warning(production_config, monkeypatch, setting,
                                                       expected):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    production_config[setting] = None if setting == "SMTP_HOST" else 0
    app = create_app(production_config)
    with app.app_context():
        db.create_all()
        stamp()
    try:
        result = run_check(app)
    finally:
        with app.app_context():
            unstamp()
            db.engine.dispose()
    assert result.exit_code == 0
    assert expected in result.output


@pytest.mark.parametrize("how", ["option", "WEB_CONCURRENCY"])
def test_sqlite_or_no_redis_with_several_workers_is_refused(production_config, migrated,
                                                            database_backend, how, monkeypatch):
    arguments = []
    if how == "option":
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
        arguments = ["--workers", "4"]
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", "4")
    result = run_check(migrated, *arguments)
    assert result.exit_code == 1
    assert "error: 4 workers but no Redis" in result.output
    assert ("error: SQLite with 4 workers" in result.output) == (database_backend == "sqlite")


def test_several_workers_with_redis_on_postgres_pass(production_config, database_backend,
                                                      monkeypatch):
    if database_backend != "postgresql":
        pytest.skip("several workers need PostgreSQL")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    production_config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    app = create_app(production_config)
    with app.app_context():
        db.create_all()
        stamp()
    try:
        result = run_check(app)
    finally:
        with app.app_context():
            unstamp()
            db.engine.dispose()
    assert result.exit_code == 0, result.output


def test_unmigrated_database_is_an_error(production_config, app, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    result = run_check(app)
    assert result.exit_code == 1
    assert "schema is at no revision" in result.output
    assert "handover db upgrade" in result.output


def test_a_database_newer_than_the_code_says_so_not_run_db_upgrade(
        production_config, migrated, monkeypatch):
    """The old release's check after an upgrade (a rollback of the code): `db upgrade` would
    not find the revision, so the advice is to downgrade with the newer release first."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with migrated.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        db.session.commit()
    result = run_check(migrated)
    assert result.exit_code == 1
    assert "schema is at 9999, newer than this code knows" in result.output
    assert "handover db downgrade" in result.output and "Run `handover db upgrade`" not in \
        result.output


def test_a_database_at_the_latest_revision_without_its_tables_is_an_error(
        production_config, migrated, monkeypatch):
    """A database migrated while a revision still read otherwise reaches the same revision
    without what the revision makes now: the check said nothing, and every login failed."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with migrated.app_context():
        db.session.execute(text("DROP TABLE kept_typing"))
        db.session.commit()
    try:
        result = run_check(migrated)
    finally:
        with migrated.app_context():
            db.create_all()
    assert result.exit_code == 1
    assert ("The database is at the latest revision but differs from the schema this code "
            "declares") in result.output and "missing table kept_typing" in result.output


def test_a_table_beside_the_declared_ones_is_none_of_the_checks_business(
        production_config, migrated, monkeypatch):
    """An extension's table, or a report's index a DBA added, told the operator not to serve
    the database."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with migrated.app_context():
        db.session.execute(text("CREATE TABLE extra_thing (id INTEGER)"))
        db.session.execute(text("CREATE INDEX ix_extra_report ON handovers (status, sent_at)"))
        db.session.commit()
    try:
        result = run_check(migrated)
    finally:
        with migrated.app_context():
            db.session.execute(text("DROP INDEX ix_extra_report"))
            db.session.execute(text("DROP TABLE extra_thing"))
            db.session.commit()
    assert result.exit_code == 0, result.output


def test_unreachable_database_is_an_error(production_config, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    production_config["SQLALCHEMY_DATABASE_URI"] = "postgresql://nobody@127.0.0.1:1/none"
    result = run_check(create_app(production_config))
    assert result.exit_code == 1
    assert "error: The database cannot be reached (OperationalError)" in result.output


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_unwritable_instance_folder_is_an_error(production_config, monkeypatch):
    """/proc refuses new files even to root, so this holds whoever runs the tests."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    instance = production_config["INSTANCE_PATH"]
    production_config.update(INSTANCE_PATH="/proc/self",
                             KEYS_FILE=os.path.join(instance, "keys.json"),
                             PLUGINS_DIR=os.path.join(instance, "plugins"))
    result = run_check(create_app(production_config))
    assert "error: The instance folder /proc/self is not writable" in result.output
    assert result.exit_code == 1


def test_missing_instance_folder_is_an_error(production_config, tmp_path, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    production_config["INSTANCE_PATH"] = str(tmp_path / "nowhere")
    result = run_check(create_app(production_config))
    assert "The instance folder" in result.output and "does not exist" in result.output
    assert result.exit_code == 1


def test_missing_secret_is_reported_with_the_other_problems(instance_path, monkeypatch):
    """Start-up refuses without a secret key; check still goes on to list everything else."""
    monkeypatch.delenv("HANDOVER_SECRET_KEY", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(instance_path))
    info = ScriptInfo(create_app=lambda: create_app({"INSTANCE_PATH": str(instance_path)}))
    runner_app = create_app({"SECRET_KEY": "k" * 32, "INSTANCE_PATH": str(instance_path)})
    result = runner_app.test_cli_runner().invoke(cli, ["check"], obj=info)
    with runner_app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert result.output.count("No secret key") == 1
    assert "error: No secret key. Run `handover init`" in result.output
    assert "error: HTTPS is off" in result.output


def test_a_test_suites_hashing_profile_is_an_error_with_advice(instance_path, monkeypatch):
    """An operator who copied the suite's cheap hashing into config.py is told before go-live,
    as for any refusal at start-up."""
    (instance_path / "config.py").write_text(
        f"SECRET_KEY = {'k' * 40!r}\nARGON2_PROFILE = 'CHEAPEST'\n")
    monkeypatch.delenv("HANDOVER_SECRET_KEY", raising=False)
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(instance_path))
    info = ScriptInfo(create_app=lambda: create_app({"INSTANCE_PATH": str(instance_path)}))
    runner_app = create_app({"INSTANCE_PATH": str(instance_path),
                             "ARGON2_PROFILE": "RFC_9106_LOW_MEMORY"})
    result = runner_app.test_cli_runner().invoke(cli, ["check"], obj=info)
    with runner_app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert ("error: ARGON2_PROFILE 'CHEAPEST' is for the test suite only: a stolen database "
            "would give up its passwords at once. Use 'RFC_9106_LOW_MEMORY'.") in result.output


def test_testing_mode_is_an_error(production_config, migrated):
    """Flask's TESTING lets the suite's cheap password hashing start: never in production."""
    migrated.config["TESTING"] = True
    result = run_check(migrated)
    assert result.exit_code == 1
    assert "error: TESTING is on" in result.output


def test_a_lost_key_file_is_reported_once(instance_path, monkeypatch):
    """Start-up refuses without the key file; check goes on and says so once, with the rest."""
    (instance_path / "config.py").write_text(f"SECRET_KEY = {'k' * 40!r}\n")
    os.unlink(instance_path / "keys.json")
    monkeypatch.delenv("HANDOVER_SECRET_KEY", raising=False)
    monkeypatch.setenv("HANDOVER_INSTANCE_PATH", str(instance_path))
    info = ScriptInfo(create_app=lambda: create_app({"INSTANCE_PATH": str(instance_path)}))
    runner_app = create_app({"INSTANCE_PATH": str(instance_path),
                             "KEY_FILE_MAY_BE_MISSING": True})
    result = runner_app.test_cli_runner().invoke(cli, ["check"], obj=info)
    with runner_app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert result.output.count("No key file at") == 1, result.output


def test_a_plugin_that_failed_to_load_is_a_warning(production_config, instance_path, migrated,
                                                   monkeypatch):
    """Its forms are silently missing from the senders' pages: the go-live check says so."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    (instance_path / "plugins" / "broken_import.py").write_text(
        (Path(__file__).parent / "plugins" / "broken_import.py").read_text())
    result = run_check(create_app(production_config))   # `migrated`'s database, stamped
    assert result.exit_code == 0, result.output
    assert "warning: Plugin broken_import failed to load, so its forms are not offered" \
        in result.output
    assert result.output.strip().endswith("0 error(s), 1 warning(s).")
