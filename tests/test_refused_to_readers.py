"""Someone who may read a handover, but whose unit's relation to it or role in that unit does not
allow an action, is told why instead of "not found": they see the handover, so a 404 would
say it is gone. A copy unit reads for information; the receiving unit acknowledges and answers.
Strangers still get 404 (`test_access_matrix`)."""

import api_support
import lifecycle_support
from api_support import bearer
from lifecycle_support import login_as, send_handover

from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
WITHDRAWN = lifecycle_support.WITHDRAWN
world = lifecycle_support.world
api = api_support.api

COPY_MESSAGE = "The receiving unit acknowledges it, answers it and closes it."


def _sent(app, world):
    with app.app_context():
        return send_handover(world)


def test_copy_reader_who_acknowledges_is_told_who_does(app, world):
    handover_id = _sent(app, world)
    client = login_as(app.test_client(), app, world.users["copy_receiver"])
    answer = client.post(f"/handovers/{handover_id}/acknowledge", data={"note": ""},
                         follow_redirects=True)
    assert answer.status_code == 200
    assert COPY_MESSAGE in answer.text
    with app.app_context():
        assert db.session.get(Handover, handover_id).status != "acknowledged"


def test_sending_lead_who_withdraws_is_told_the_role_does_not_allow_it(app, world):
    handover_id = _sent(app, world)
    client = login_as(app.test_client(), app, world.users["sending_lead"])
    answer = client.post(f"/handovers/{handover_id}/withdraw", data=WITHDRAWN,
                         follow_redirects=True)
    assert "Your role in your unit does not allow this for this handover." in answer.text
    with app.app_context():
        assert db.session.get(Handover, handover_id).status == "sent"


def test_sender_who_closes_is_told_the_receiving_unit_does(app, world):
    handover_id = _sent(app, world)
    client = login_as(app.test_client(), app, world.users["sending_sender"])
    answer = client.post(f"/handovers/{handover_id}/close", follow_redirects=True)
    assert "The receiving unit does this, not the sending unit." in answer.text


def test_copy_units_system_gets_409_with_the_reason(app, world, api):
    handover_id = _sent(app, world)
    client = app.test_client()
    for path, body in (("acknowledge", {}), ("replies", {"message": "hello"})):
        answer = client.post(f"/api/v1/handovers/{handover_id}/{path}", json=body,
                             headers=bearer(api["copy"]))
        assert answer.status_code == 409, path
        assert COPY_MESSAGE in answer.json["message"], path
    with app.app_context():
        assert db.session.get(Handover, handover_id).status != "acknowledged"
        assert not db.session.query(AuditEvent).filter_by(
            handover_id=handover_id, action="handover.acknowledged").count()


def test_a_strangers_refused_attempt_is_logged_under_their_unit(app, world):
    """The log filtered by a unit finds its people's refused attempts (the data protection
    officer's look for snooping); one without a unit (the administrator) is logged without."""
    handover_id = _sent(app, world)
    for name in ("other_receiver", "admin"):
        client = login_as(app.test_client(), app, world.users[name])
        assert client.get(f"/handovers/{handover_id}").status_code == 404
    with app.app_context():
        denied = {event.actor_id: event.unit_id
                  for event in db.session.query(AuditEvent).filter_by(
                      action="handover.access_denied")}
        assert denied == {world.users["other_receiver"].id: world.units["other"].id,
                          world.users["admin"].id: None}
