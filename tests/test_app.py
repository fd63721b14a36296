"""The app factory and configuration order."""

import pytest

from handover import create_app
from handover.config import ConfigurationError
from handover.security import keys


def test_missing_secret_key_stops_start_up_and_names_the_command(tmp_path, monkeypatch):
    monkeypatch.delenv("HANDOVER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="handover init"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_environment_overrides_instance_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file'\nSMTP_PORT = 2525\n")
    keys.create_key_file(str(tmp_path / "keys.json"))   # start-up refuses without it
    monkeypatch.setenv("HANDOVER_SMTP_PORT", "1025")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["SMTP_PORT"] == 1025


def test_postgres_url_uses_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOVER_DATABASE_URL", "postgresql://u@127.0.0.1/x")
    keys.create_key_file(str(tmp_path / "keys.json"))   # start-up refuses without it
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 32})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_a_variable_set_to_nothing_counts_as_not_set(tmp_path, monkeypatch):
    """A blank line of an environment file (HANDOVER_DATABASE_URL=) means the default: the
    instance's SQLite database, not a traceback at every start."""
    monkeypatch.setenv("HANDOVER_DATABASE_URL", "")
    monkeypatch.setenv("HANDOVER_SMTP_PORT", " ")
    keys.create_key_file(str(tmp_path / "keys.json"))
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 32})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'handover.sqlite3'}"
    assert app.config["SMTP_PORT"] == 25


def test_healthz_reports_database_without_versions(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "Server" not in response.headers or "Werkzeug" not in response.headers.get("Server", "")


def test_healthz_is_not_ready_while_the_database_is_at_another_migration(app, client):
    """A new release started before `handover db upgrade` (or an old one after it): its pages
    would fail, so the balancer is told it is not ready, and the log says what to run."""
    from flask_migrate import stamp
    from support import unstamp

    with app.app_context():
        stamp()   # at this code's migration: ready
    try:
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
        with app.app_context():
            stamp(revision="0018")
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "database": "not migrated"}
    finally:
        with app.app_context():
            unstamp()
