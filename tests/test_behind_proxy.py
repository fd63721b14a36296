"""Behind the documented TLS proxy (`HANDOVER_PROXIES=1`) each client is itself: one client's
failed logins do not block another's, and the audit log names the client, not the proxy.
Without the setting, a client's own X-Forwarded-For is not believed."""

import pytest
from sqlalchemy import select

from handover import create_app
from handover.config import ConfigurationError
from handover.store.database import db
from handover.store.models import AuditEvent

PROXY = {"REMOTE_ADDR": "127.0.0.1"}


def _wrong_login(client, email, forwarded):
    return client.post("/login", data={"email": email, "password": "wrong"},
                       headers={"X-Forwarded-For": forwarded}, environ_base=PROXY)


def _failed_login_addresses(app):
    with app.app_context():
        return set(db.session.scalars(select(AuditEvent.client_address).where(
            AuditEvent.action == "auth.login_failed")))


def test_behind_one_proxy_each_client_is_counted_and_logged_apart(app_config, request):
    app_config.update(PROXIES=1, LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    app = request.getfixturevalue("app")
    client = app.test_client()
    for number in range(3):
        assert _wrong_login(client, f"nobody{number}@example.fi",
                            "203.0.113.66").status_code == 200
    assert _wrong_login(client, "nobody9@example.fi", "203.0.113.66").status_code == 429
    nurse = app.test_client()
    assert _wrong_login(nurse, "nurse@example.fi", "10.20.30.40").status_code == 200
    assert _failed_login_addresses(app) == {"203.0.113.66", "10.20.30.40"}


def test_without_proxies_a_clients_own_forwarded_header_is_not_believed(app_config, request):
    app_config.update(LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    app = request.getfixturevalue("app")
    client = app.test_client()
    for number in range(3):
        assert _wrong_login(client, f"nobody{number}@example.fi",
                            f"198.51.100.{number}").status_code == 200
    assert _wrong_login(client, "nobody9@example.fi", "198.51.100.9").status_code == 429
    assert _failed_login_addresses(app) == {"127.0.0.1"}


@pytest.mark.parametrize("proxies", [-1, 11, "1"])
def test_a_number_of_proxies_that_cannot_be_is_refused_at_start(app_config, proxies):
    with pytest.raises(ConfigurationError, match="PROXIES"):
        create_app({**app_config, "PROXIES": proxies})
