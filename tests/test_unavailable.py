"""The database goes away while people work: they get a clear 503 page (no traceback), the load
balancer's /healthz says so, and when the database returns the same server serves again."""

import contextlib
import os
import shutil
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from handover.services import integration_clients
from handover.store.database import db
from handover.store.models.base import utcnow
from tests.support import create_unit, create_user, login


class SqliteOutage:
    """The database file disappears (a directory takes its place) and comes back."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            self.path = db.engine.url.database

    def begin(self):
        with self.app.app_context():
            db.engine.dispose()  # the connections are lost with the file
        os.rename(self.path, self.path + ".away")
        os.mkdir(self.path)

    def end(self):
        os.rmdir(self.path)
        os.rename(self.path + ".away", self.path)

    def idle_in_transaction(self):
        return 0


class PostgresOutage:
    """The database refuses connections and every open one is cut, as in a server restart.
    The app's pool is left alone: finding dead connections is the app's own job."""

    def __init__(self, app):
        with app.app_context():
            url = db.engine.url
        self.name = url.database
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def _run(self, sql, **parameters):
        with self.admin.connect() as connection:
            result = connection.execute(text(sql), parameters)
            return result.fetchall() if result.returns_rows else []

    def begin(self):
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self._run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE datname = :name AND pid <> pg_backend_pid()", name=self.name)

    def end(self):
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    def idle_in_transaction(self):
        return len(self._run("SELECT pid FROM pg_stat_activity WHERE datname = :name "
                             "AND state LIKE 'idle in transaction%'", name=self.name))


@pytest.fixture
def outage(app, database_backend):
    """Make the app's database unreachable with ``outage.begin()``; ``outage.end()`` (also run
    after the test) brings it back. The app object is never rebuilt: no restart."""
    switch = (SqliteOutage if database_backend == "sqlite" else PostgresOutage)(app)
    yield switch
    if database_backend == "sqlite":
        if os.path.isdir(switch.path):
            shutil.rmtree(switch.path)
            os.rename(switch.path + ".away", switch.path)
    else:
        switch.end()
        switch.admin.dispose()


@pytest.fixture
def logged_in_nurse(app, client):
    """A ward nurse logged in through the real two-step login on ``client``."""
    with app.app_context():
        ward = create_unit("Nuorisopsykiatrian osasto 4", kind="psychiatric_ward")
        nurse = create_user("omahoitaja@example.fi", memberships=[(ward, "receiver")])
        login(client, nurse)
    return client


def unavailable_message(app, language):
    with app.test_request_context(), force_locale(language):
        return _("The service is temporarily unavailable. Try again in a moment.")


def test_healthz_reports_the_outage_and_the_recovery(client, outage):
    assert client.get("/healthz").status_code == 200

    outage.begin()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}

    outage.end()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_logged_in_user_sees_clear_503_then_carries_on_after_recovery(app, logged_in_nurse,
                                                                      outage):
    client = logged_in_nurse
    assert client.get("/").status_code == 200

    outage.begin()
    for _attempt in range(3):  # every worker connection is dead, not just the first
        response = client.get("/")
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert unavailable_message(app, "fi") in page
        assert "Traceback" not in page and "OperationalError" not in page
        assert "Omahoitaja" not in page, "the outage page does not reach for the user"

    outage.end()
    response = client.get("/")
    assert response.status_code == 200, "still logged in: the session row survived"
    assert "Omahoitaja" in response.get_data(as_text=True)
    assert outage.idle_in_transaction() == 0


def test_outage_page_speaks_the_chosen_language(app, client, outage):
    client.post("/language", data={"language": "sv"})
    outage.begin()
    response = client.get("/healthz")
    assert response.status_code == 503
    response = client.post("/login", data={"email": "a@example.fi", "password": "x" * 12})
    assert response.status_code == 503
    assert unavailable_message(app, "sv") in response.get_data(as_text=True)
    assert 'lang="sv"' in response.get_data(as_text=True)


def test_a_write_cut_off_mid_request_leaves_no_broken_session(logged_in_nurse, outage):
    """A language change commits to the account; cut off, it fails with 503, and the next
    request on the same worker does not inherit a half-done transaction."""
    client = logged_in_nurse
    outage.begin()
    assert client.post("/language", data={"language": "en", "next": "/"}).status_code == 503
    outage.end()
    response = client.post("/language", data={"language": "en", "next": "/"})
    assert response.status_code == 302
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    assert outage.idle_in_transaction() == 0


def test_integrity_errors_are_not_hidden_as_outages(app_config):
    """A bug (a constraint violation) must stay a 500 so that it gets noticed and fixed."""
    from handover import create_app

    app_config["PROPAGATE_EXCEPTIONS"] = False
    application = create_app(app_config)

    def broken():
        raise IntegrityError("INSERT", {}, Exception("unique"))

    application.add_url_rule("/broken", view_func=broken)
    response = application.test_client().get("/broken")
    assert response.status_code == 500
    with application.app_context():
        db.engine.dispose()


def test_an_integrating_system_gets_the_apis_json_503_in_its_language(app, client, outage):
    """A receiving system polling its inbox while the database is away is told so in the
    API's one shape of error (JSON, with Retry-After), not given the people's HTML page."""
    with app.app_context():
        ward = create_unit("Osasto 5", kind="psychiatric_ward")
        admin = create_user("admin@example.fi", admin=True)
        _client, token = integration_clients.create(
            admin, "Ward system", ward, {"inbox:read"}, utcnow() + timedelta(days=1),
            confirmed=True)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "sv"}
    assert client.get("/api/v1/inbox", headers=headers).status_code == 200

    outage.begin()
    response = client.get("/api/v1/inbox", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.headers["Retry-After"] == "30"
    assert response.get_json() == {"status": 503, "errors": [],
                                   "message": unavailable_message(app, "sv")}

    outage.end()
    assert client.get("/api/v1/inbox", headers=headers).status_code == 200


def test_a_failed_statement_the_request_caught_does_not_fail_its_end(app):
    """A check that tolerates a failing query (`handover check` before the schema exists)
    leaves PostgreSQL's transaction aborted; the end of the request rolls it back instead of
    asking it a question it can no longer answer."""
    with app.app_context():
        with contextlib.suppress(SQLAlchemyError):
            db.session.execute(text("SELECT * FROM no_such_table"))
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
