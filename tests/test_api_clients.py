"""Integration clients: an administrator creates one after re-entering their code, sees its
token once, and revokes it; only a hash of the token is stored."""

from datetime import timedelta

import lifecycle_support
import pytest
from api_support import bearer
from lifecycle_support import login_as
from support import totp_code

from handover.formdefs.content import TIMEZONE, today
from handover.services import client_confirmation, integration_clients
from handover.services.accounts import AccountError
from handover.store.database import db
from handover.store.models import AuditEvent, IntegrationClient, User
from handover.store.models.base import utcnow

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _form(world, code, **overrides):
    data = {"name": "Ward EHR", "unit": str(world.units["receiving"].id),
            "scopes": ["inbox:read", "handover:read"],
            "expires_on": (today() + timedelta(days=90)).isoformat(), "code": code}
    data.update(overrides)
    return data


def _admin(app, world, client):
    with app.app_context():
        admin = world.user("admin")
    login_as(client, app, admin)
    return admin


def test_admin_creates_client_with_code_and_sees_token_once(app, client, world):
    admin = _admin(app, world, client)
    with app.app_context():
        code = totp_code(db.session.get(User, admin.id))
    page = client.post("/admin/clients", data=_form(world, code))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    token = text.split('<code class="secret">')[1].split("</code>")[0]
    assert token.startswith("hov_")
    with app.app_context():
        stored = db.session.query(IntegrationClient).one()
        assert stored.token_hash == integration_clients.hash_token(token)
        assert token not in repr(stored.__dict__)
        assert db.session.query(AuditEvent).filter_by(
            action="integration_client.created", actor_id=admin.id).count() == 1
    listing = client.get("/admin/clients").get_data(as_text=True)
    assert "Ward EHR" in listing and token not in listing
    # It works once someone else confirms it (tests/test_client_confirmation.py).
    assert client.get("/api/v1/inbox", headers=bearer(token)).status_code == 401
    with app.app_context():
        client_confirmation.confirm(None, db.session.get(IntegrationClient, stored.id))
    assert client.get("/api/v1/inbox", headers=bearer(token)).status_code == 200

    revoked = client.post(f"/admin/clients/{stored.id}/revoke")
    assert revoked.status_code == 302
    assert client.get("/api/v1/inbox", headers=bearer(token)).status_code == 401


def test_a_client_is_valid_until_the_end_of_the_chosen_day_in_finland(app, client, world):
    admin = _admin(app, world, client)
    with app.app_context():
        code = totp_code(db.session.get(User, admin.id))
    chosen = today() + timedelta(days=30)
    client.post("/admin/clients", data=_form(world, code, expires_on=chosen.isoformat()))
    with app.app_context():
        expires_at = db.session.query(IntegrationClient).one().expires_at
    in_finland = expires_at.astimezone(TIMEZONE)
    assert (in_finland.date(), in_finland.hour, in_finland.minute) == (chosen, 23, 59)
    listing = client.get("/admin/clients").get_data(as_text=True)
    assert f"<td>{chosen.day}.{chosen.month}.{chosen.year}, 23.59.59</td>" in listing


def test_a_wrong_code_creates_nothing(app, client, world):
    _admin(app, world, client)
    page = client.post("/admin/clients", data=_form(world, "000000"))
    assert page.status_code == 200
    assert "The code is not valid" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(IntegrationClient).count() == 0


@pytest.mark.parametrize("user_name", ["receiving_lead", "auditor", "sending_sender"])
def test_only_admins_reach_the_page(app, client, world, user_name):
    with app.app_context():
        user = world.user(user_name)
    login_as(client, app, user)
    assert client.get("/admin/clients").status_code == 404


@pytest.mark.parametrize("unit_name, scopes", [
    ("receiving", {"audit:read"}),              # the auditor's scope stands alone
    (None, {"inbox:read"}),                     # unit scopes need a unit
    ("receiving", {"everything"}),
    ("receiving", set()),
])
def test_scope_rules(app, world, unit_name, scopes):
    with app.app_context():
        unit = world.unit(unit_name) if unit_name else None
        with pytest.raises(AccountError):
            integration_clients.create(world.user("admin"), "x", unit, scopes,
                                       utcnow() + timedelta(days=1))


def test_expiry_must_be_in_the_future_and_within_two_years(app, world):
    with app.app_context():
        for expires in (utcnow() - timedelta(days=1), utcnow() + timedelta(days=800)):
            with pytest.raises(AccountError):
                integration_clients.create(world.user("admin"), "x", world.unit("receiving"),
                                           {"inbox:read"}, expires)


def test_the_clients_account_cannot_log_in(app, client, world):
    with app.app_context():
        made, _token = integration_clients.create(
            world.user("admin"), "Ward EHR", world.unit("receiving"), {"inbox:read"},
            utcnow() + timedelta(days=1))
        account = db.session.get(User, made.account_id)
        email, active, memberships = account.email, account.active, account.memberships
    assert not active and memberships == []
    response = client.post("/login", data={"email": email, "password": "!"})
    assert response.status_code != 302 or "/login/totp" not in response.headers["Location"]
