"""A review of long-lived data found that deactivating a unit took nothing from its members,
although the page that asks says they lose its inbox and handovers at once: the ward's nurse
still saw, opened and acknowledged its handovers. A membership of a deactivated unit now gives
nothing (`User.memberships`, and the session loader's copy of it), as the unit's integration
client was already refused; reactivating the unit gives it back."""

import lifecycle_support
from api_support import RECEIVING_SCOPES, bearer, make_token
from lifecycle_support import login_as, send_handover

from handover.services import accounts
from handover.store.database import db
from handover.store.models import Unit

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _set_active(app, world, name, active):
    with app.app_context():
        accounts.set_unit_active(db.session.get(Unit, world.units[name].id), active,
                                 actor=world.user("admin"))


def test_a_deactivated_units_members_lose_its_inbox_and_handovers(app, client, world):
    with app.app_context():
        handover_id = send_handover(world, copies=False)
        token = make_token(world, "receiving", RECEIVING_SCOPES)
    login_as(client, app, world.users["receiving_receiver"])
    assert f"/handovers/{handover_id}" in client.get("/handovers/inbox").get_data(as_text=True)
    _set_active(app, world, "receiving", False)

    assert f"/handovers/{handover_id}" not in client.get("/handovers/inbox").get_data(
        as_text=True)
    assert client.get(f"/handovers/{handover_id}").status_code == 404
    assert client.post(f"/handovers/{handover_id}/acknowledge", data={"note": ""}
                       ).status_code == 404
    api = app.test_client()
    # The unit's system is refused as a whole (its client acts for an inactive unit).
    assert api.get(f"/api/v1/handovers/{handover_id}", headers=bearer(token)).status_code == 401

    _set_active(app, world, "receiving", True)
    assert client.get(f"/handovers/{handover_id}").status_code == 200


def test_a_deactivated_sending_units_senders_lose_its_drafts_and_sent_handovers(app, client,
                                                                               world):
    with app.app_context():
        handover_id = send_handover(world, copies=False)
    login_as(client, app, world.users["sending_sender"])
    assert client.get(f"/handovers/{handover_id}").status_code == 200
    _set_active(app, world, "sending", False)
    assert client.get(f"/handovers/{handover_id}").status_code == 404
    assert f"/handovers/{handover_id}" not in client.get("/handovers/outbox").get_data(
        as_text=True)
