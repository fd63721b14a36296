"""Four eyes on integration clients: the administrator who makes a client sees its token, so
the token works only once another administrator (or the operator on the server) confirms it.
Before, one administrator alone could mint a token that read a unit's handovers, or an
`audit:read` token that exported the whole audit log (a reviewer did it in a minute).
"""

import json
from datetime import timedelta

import four_eyes_support
import lifecycle_support
from api_support import bearer
from four_eyes_support import events
from support import run_command, totp_code

from handover.formdefs.content import today
from handover.store.database import db
from handover.store.models import IntegrationClient, User

app_config = lifecycle_support.app_config
world = lifecycle_support.world
admin = four_eyes_support.admin
other_admin = four_eyes_support.other_admin


def api_get(app, path, token):
    """What the other system gets with ``token`` (a client of its own: no browser cookie)."""
    return app.test_client().get(path, headers=bearer(token))


def make_client(app, world, admin, name, scopes, unit="receiving"):
    """The client ``admin`` makes on the page, as they do: their code, then the token."""
    with app.app_context():
        code = totp_code(db.session.get(User, world.users["admin"].id))
    page = admin.post("/admin/clients", data={
        "name": name, "unit": str(world.units[unit].id) if unit else "0", "scopes": scopes,
        "expires_on": (today() + timedelta(days=90)).isoformat(), "code": code})
    assert page.status_code == 200, page.get_data(as_text=True)[:400]
    text = page.get_data(as_text=True)
    assert "The token works once another administrator confirms the client" in text
    token = text.split('<code class="secret">')[1].split("</code>")[0]
    with app.app_context():
        client_id = db.session.query(IntegrationClient.id).filter_by(name=name).scalar()
    return client_id, token


def test_an_admins_audit_token_exports_nothing_until_another_admin_confirms(
        app, world, admin, other_admin):
    client_id, token = make_client(app, world, admin, "Arkisto", ["audit:read"], unit=None)
    waiting = api_get(app, "/api/v1/audit/events", token)
    assert waiting.status_code == 401
    assert waiting.json["message"] == ("This client's token works once another administrator "
                                       "confirms the client.")
    [refused] = events(app, "api.token_refused")
    assert json.loads(refused.detail)["reason"] == "awaiting_confirmation"

    # The maker cannot confirm it.
    listing = admin.get("/admin/clients").get_data(as_text=True)
    assert f"/admin/clients/{client_id}/confirm" not in listing
    assert "Its token works once another administrator confirms it." in listing
    admin.post(f"/admin/clients/{client_id}/confirm")
    assert api_get(app, "/api/v1/audit/events", token).status_code == 401
    assert events(app, "integration_client.confirmed") == []

    # Another administrator does, from the clients page or Awaiting confirmation.
    assert f"/admin/clients/{client_id}/confirm" in other_admin.get(
        "/admin/clients").get_data(as_text=True)
    assert f"/admin/clients/{client_id}/confirm" in other_admin.get(
        "/admin/memberships/awaiting").get_data(as_text=True)
    assert f"/admin/clients/{client_id}/confirm" not in admin.get(
        "/admin/memberships/awaiting").get_data(as_text=True)
    assert other_admin.post(f"/admin/clients/{client_id}/confirm").status_code == 302
    assert api_get(app, "/api/v1/audit/events", token).status_code == 200
    [confirmed] = events(app, "integration_client.confirmed")
    assert confirmed.actor_label == "second.admin@example.test"


def test_a_unit_token_reads_no_handover_until_confirmed(app, world, admin, other_admin):
    with app.app_context():
        handover_id = lifecycle_support.send_handover(world)
    client_id, token = make_client(app, world, admin, "Ward EHR",
                                   ["inbox:read", "handover:read"])
    assert api_get(app, f"/api/v1/handovers/{handover_id}", token).status_code == 401
    other_admin.post(f"/admin/clients/{client_id}/confirm")
    answer = api_get(app, f"/api/v1/handovers/{handover_id}", token)
    assert answer.status_code == 200, answer.get_data(as_text=True)


def test_another_admin_refuses_a_client_and_its_token_never_works(
        app, world, admin, other_admin):
    client_id, token = make_client(app, world, admin, "Ward EHR", ["inbox:read"])
    assert other_admin.post(f"/admin/clients/{client_id}/refuse").status_code == 302
    assert len(events(app, "integration_client.refused")) == 1
    assert other_admin.post(f"/admin/clients/{client_id}/confirm").status_code == 302
    assert api_get(app, "/api/v1/inbox", token).status_code == 401
    assert "Revoked" in admin.get("/admin/clients").get_data(as_text=True)


def test_the_operator_confirms_on_the_server(app, world, admin, runner):
    _client_id, token = make_client(app, world, admin, "Lifecare", ["inbox:read"])
    assert "Lifecare\tinbox:read\tawaiting confirmation" in run_command(
        runner, "clients", "list").output
    result = run_command(runner, "clients", "confirm", "LIFECARE")
    assert result.exit_code == 0, result.output
    assert api_get(app, "/api/v1/inbox", token).status_code == 200
    again = run_command(runner, "clients", "confirm", "Lifecare")
    assert again.exit_code == 1 and "This client does not await confirmation." in again.output
    unknown = run_command(runner, "clients", "confirm", "Nobody")
    assert unknown.exit_code == 1 and "No integration client is named Nobody" in unknown.output
