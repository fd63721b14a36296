"""HANDOVER_PGBOUNCER=1 switches psycopg's server-side prepared statements off (PgBouncer in
transaction pooling would hand the next transaction a connection without them), and only for
PostgreSQL; the scale-out test in tests/scale runs a real PgBouncer."""

from handover import create_app


def _engine_options(monkeypatch, instance_path, url, pgbouncer):
    if pgbouncer:
        monkeypatch.setenv("HANDOVER_PGBOUNCER", "1")
    else:
        monkeypatch.delenv("HANDOVER_PGBOUNCER", raising=False)
    app = create_app({"INSTANCE_PATH": str(instance_path), "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": url})
    return app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_behind_pgbouncer_psycopg_prepares_nothing(monkeypatch, instance_path):
    options = _engine_options(monkeypatch, instance_path,
                              "postgresql://handover@127.0.0.1:6432/handover", True)
    assert options["connect_args"] == {"prepare_threshold": None}
    assert options["pool_pre_ping"] is True


def test_without_it_or_on_sqlite_nothing_changes(monkeypatch, instance_path):
    direct = _engine_options(monkeypatch, instance_path,
                             "postgresql://handover@127.0.0.1:5432/handover", False)
    sqlite = _engine_options(monkeypatch, instance_path,
                             f"sqlite:///{instance_path}/handover.sqlite3", True)
    assert "connect_args" not in direct and "connect_args" not in sqlite
