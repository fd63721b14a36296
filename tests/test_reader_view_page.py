"""What the handover page says about the state it is in comes from the reader view
(`services.reader_view`), not from templates reading the status: the withdrawn banner, and the
date to acknowledge by only while an acknowledgement is awaited."""

from datetime import timedelta

import lifecycle_support
from lifecycle_support import access_for, handover, login_as, send_handover

from handover.services.reader_view import open_for_reader
from handover.store.database import db
from handover.store.models.base import utcnow

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world

WITHDRAWN = "The sender withdrew this handover"
DUE = "Acknowledge by"


def send_with_due_date(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        handover(handover_id).due_at = utcnow() + timedelta(days=2)
        db.session.commit()
        return handover_id


def test_receiver_sees_the_due_date_until_acknowledging(app, client, world):
    handover_id = send_with_due_date(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    assert DUE in client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    response = client.post(f"/handovers/{handover_id}/acknowledge", data={"note": ""})
    assert response.status_code == 302
    assert DUE not in client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    with app.app_context():
        granted = access_for(world, "receiving_receiver", handover_id, "view")
        shown = open_for_reader(granted, world.user("receiving_receiver"))
        assert (shown.shows_due, shown.withdrawn) == (False, False)


def test_sender_sees_the_withdrawn_banner_and_no_due_date(app, client, world):
    handover_id = send_with_due_date(app, world)
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert DUE in page and WITHDRAWN not in page
    assert client.post(f"/handovers/{handover_id}/withdraw",
                       data=lifecycle_support.WITHDRAWN).status_code == 302
    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert WITHDRAWN in page and DUE not in page
    with app.app_context():
        granted = access_for(world, "sending_sender", handover_id, "view")
        shown = open_for_reader(granted, world.user("sending_sender"))
        assert (shown.shows_due, shown.withdrawn) == (False, True)
