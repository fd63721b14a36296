"""Shared fixtures: a fresh app per test on SQLite and, when HANDOVER_TEST_DATABASE_URL points
at a PostgreSQL server, on PostgreSQL as well (every app-using test runs on both); and those
several test modules ask for: a second instance's empty database, an administrator, a fault
test's figures, the browser the browser tests drive. Plain helpers are in `support`."""

import os
import secrets
import shutil

import pytest
from flask.testing import FlaskClient
from lifecycle_support import login_as
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import create_unit, create_user

from handover import create_app
from handover.security import keys
from handover.store.database import db


def _database_of_this_worker():
    """Under pytest-xdist (`scripts/test` runs two workers), each worker gets a PostgreSQL
    database and a Redis database of its own, named after the ones given: the tests empty
    and fill them freely, which two workers must not do to each other. The worker's database is
    created here and dropped when the worker ends (`pytest_unconfigure`)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("HANDOVER_TEST_DATABASE_URL")
    redis_url = os.environ.get("HANDOVER_TEST_REDIS_URL")
    if not worker:
        return None
    number = int(worker.removeprefix("gw"))
    if redis_url:
        base, _, index = redis_url.rpartition("/")
        os.environ["HANDOVER_TEST_REDIS_URL"] = f"{base}/{(int(index or 0) - number) % 16}"
    if not url:
        return None
    given = make_url(url)
    own = given.set(database=f"{given.database}_{worker}")
    _run_on_server(given, f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)',
                   f'CREATE DATABASE "{own.database}"')
    os.environ["HANDOVER_TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    return given, own.database


def _run_on_server(url, *statements):
    import psycopg

    with psycopg.connect(url.set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


_WORKER_DATABASE = _database_of_this_worker()
POSTGRES_URL = os.environ.get("HANDOVER_TEST_DATABASE_URL")


def pytest_unconfigure(config):
    if _WORKER_DATABASE:
        given, name = _WORKER_DATABASE
        _run_on_server(given, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])

_postgres_schema_ready = False


@pytest.fixture(params=BACKENDS)
def database_backend(request):
    """Which database this test runs on."""
    return request.param


@pytest.fixture
def instance_path(tmp_path):
    """An instance folder with a key file, as `handover init` would leave it."""
    path = tmp_path / "instance"
    path.mkdir(mode=0o700)
    keys.create_key_file(str(path / "keys.json"))
    (path / "plugins").mkdir()
    return path


@pytest.fixture(scope="session")
def compiled_templates(tmp_path_factory):
    """One folder of compiled templates for every app of this test process (`TEMPLATE_CACHE`).
    """
    return str(tmp_path_factory.mktemp("compiled-templates"))


@pytest.fixture
def app_config(instance_path, database_backend, compiled_templates):
    """The configuration tests start from; a test may change it before asking for `app`."""
    if database_backend == "sqlite":
        url = f"sqlite:///{instance_path / 'handover.sqlite3'}"
    else:
        url = POSTGRES_URL
    return {
        "TESTING": True,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "BASE_URL": "http://localhost",
        # Tests post forms directly; tests/test_csrf.py switches CSRF back on to prove it.
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        # Argon2 at its cheapest: the suite makes thousands of accounts and logs into them,
        # and at the production profile hashing was a quarter of its time.
        # tests/test_passwords.py checks the production profile itself.
        "ARGON2_PROFILE": "CHEAPEST",
        "TEMPLATE_CACHE": compiled_templates,
    }


class Browser(FlaskClient):
    """The test client, but each request runs in an app context of its own, as under a real
    server, even while the test holds one open: what Flask-Login and Flask-WTF remember on `g`
    for one request (the user, the CSRF token) never reaches the next one, or another browser.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


_empty_sqlite_database = None


@pytest.fixture
def app(app_config, database_backend, instance_path, tmp_path_factory):
    """A fresh app with an empty database; its test clients are `Browser`s."""
    global _postgres_schema_ready
    application = create_app(app_config)
    application.test_client_class = Browser
    with application.app_context():
        if database_backend == "postgresql":
            if not _postgres_schema_ready:
                db.drop_all()
                db.create_all()
                _postgres_schema_ready = True
            _truncate_all()
        else:
            _create_sqlite_tables(instance_path / "handover.sqlite3", tmp_path_factory)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _create_sqlite_tables(usual_path, tmp_path_factory):
    """The tables of a new SQLite database at the usual path: copied from the first test's
    empty database, which is much quicker than creating them for each test; created when the
    test chose another database (tests/test_instance_permissions.py does, to see the app
    create it) or the file exists already."""
    global _empty_sqlite_database
    path = db.engine.url.database
    if path != str(usual_path) or os.path.exists(path):
        db.create_all()
        return
    if _empty_sqlite_database:
        shutil.copy2(_empty_sqlite_database, path)   # its mode (0600) too
        return
    db.create_all()
    db.engine.dispose()   # the last connection's close writes the WAL into the file
    _empty_sqlite_database = str(tmp_path_factory.mktemp("empty-database") / "empty.sqlite3")
    shutil.copy2(path, _empty_sqlite_database)


def _truncate_all():
    """Every table emptied and every id counting from 1 again. A test leaves a handful of rows:
    DELETE takes them in 12 ms where TRUNCATE of the 21 tables took 49 (it makes new files for
    each), a minute of a CI run. The audit log's trigger refuses DELETE, so it alone is
    truncated (no table refers to it)."""
    db.session.execute(text('TRUNCATE "audit_events"'))
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "audit_events":
            db.session.execute(table.delete())
    db.session.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- a second instance: the target of a restore -------------------------------------------


@pytest.fixture
def second_instance_path(tmp_path):
    """Where a second instance's folder goes (a restore's target), not made yet; a SQLite
    `empty_database_url` lies in it, as an instance's database does."""
    return tmp_path / "target"


@pytest.fixture
def empty_database_url(second_instance_path, database_backend):
    """A second, empty database: a SQLite file in `second_instance_path`, or a PostgreSQL
    database made and dropped."""
    if database_backend == "sqlite":
        yield f"sqlite:///{second_instance_path / 'handover.sqlite3'}"
        return
    server = make_url(os.environ["HANDOVER_TEST_DATABASE_URL"])
    name = f"{server.database}_empty_{secrets.token_hex(4)}"
    admin = create_engine(server.set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name"), {"name": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


# --- an administrator ---------------------------------------------------------------------


@pytest.fixture
def admin_unit():
    """The (name, kind) of the unit that exists beside `admin`, as unit 1. A test module whose
    stories are about another unit overrides this fixture."""
    return "Demo: Koulu Kivikko", "school"


@pytest.fixture
def admin(app, admin_unit):
    """An administrator's id; the unit `admin_unit` (id 1) exists."""
    with app.app_context():
        create_unit(*admin_unit)
        return create_user("admin@example.fi", name="Ylläpitäjä", admin=True).id


@pytest.fixture
def admin_client(app, client, admin):
    """A client logged in as `admin`, reading English."""
    return login_as(client, app, type("Admin", (), {"id": admin}))


# --- figures and browsers: the fault, scale and browser tests -----------------------------


@pytest.fixture
def report(request):
    """report("text") prints a figure now and keeps it with the test's results (the fault
    tests list them again in their summary)."""

    def write(text):
        print(f"[{request.node.name}] {text}")
        request.node.user_properties.append(("figure", text))

    return write


CHROMIUM = os.environ.get("HANDOVER_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's chromium, headless, without the network this machine does not have."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test, which installs Debian's chromium")
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def base_url():
    """Every browser test goes to its own server's URL. This replaces pytest-playwright's
    fallback fixture, which is an instance method (deprecated by pytest 9, so an error here)."""
    return None
