"""Every action on a handover against every status it can be in: nobody ever gets a server
error, and an action the status no longer allows leads to the handover's own, audited page
(or is refused as not found) instead of showing or changing anything."""

import re
from datetime import timedelta

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_NAME,
    FORM_KEY,
    FREE_TEXT_MARKER,
    access_for,
    content,
    handover,
    login_as,
    send_handover,
)
from sqlalchemy import select

from handover.services import drafts, reading, retention, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
WITHDRAWN = lifecycle_support.WITHDRAWN
world = lifecycle_support.world

PDF = b"%PDF-1.4 test"

#: Every route on one handover: (method, path after /handovers/<id>, form data).
ROUTES = [
    ("GET", "", None), ("GET", "/print", None), ("GET", "/edit", None),
    ("POST", "/edit", {"save": "1"}), ("POST", "/edit", {"preview": "1"}),
    ("GET", "/preview", None), ("GET", "/routing", None), ("POST", "/routing", {}),
    ("POST", "/send", {"submission_token": "t"}), ("POST", "/discard", {}),
    ("POST", "/attachments", {}), ("POST", "/attachments/1/delete", {}),
    ("GET", "/attachments/1", None), ("POST", "/acknowledge", {"note": ""}),
    ("POST", "/reply", {"message": "hello"}), ("GET", "/reply/ward_reply", None),
    ("POST", "/reply/ward_reply", {"primary_nurse": "Noora"}), ("POST", "/withdraw", WITHDRAWN),
    ("POST", "/correct", {}),
]
STATUSES = ["draft", "sent", "opened", "acknowledged", "withdrawn", "erased"]
ACTORS = ["sending_sender", "sending_lead", "receiving_receiver", "copy_receiver", "admin"]
SENSIBLE = {200, 302, 303, 400, 404, 409, 410}


def _in_status(world, status):
    """A handover of the lifecycle test form in ``status``; returns its id."""
    sender = world.user("sending_sender")
    if status == "draft":
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [world.unit("copy")], "lsl_disclosure")
        drafts.save(sender, draft, content())
        return draft.id
    start = utcnow() - timedelta(days=200) if status == "erased" else None
    hid = send_handover(world, now=start)
    if status in ("opened", "acknowledged"):
        reading.record_view(access_for(world, "receiving_receiver", hid),
                            world.user("receiving_receiver"))
    if status == "acknowledged":
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "bed 4")
    if status == "withdrawn":
        withdrawal.withdraw(access_for(world, "sending_sender", hid, "withdraw"), sender)
    if status == "erased":
        retention.erase(hid, now=utcnow())
    return hid


@pytest.mark.parametrize("status", STATUSES)
def test_no_action_on_a_handover_in_any_status_is_a_server_error(app, client, world, status):
    with app.app_context():
        hid = _in_status(world, status)
    for actor in ACTORS:
        login_as(client, app, world.users[actor])
        for method, path, data in ROUTES:
            response = client.open(f"/handovers/{hid}{path}", method=method, data=data)
            assert response.status_code in SENSIBLE, (actor, method, path, status,
                                                      response.status_code)
            if actor == "admin":
                assert response.status_code == 404, (method, path, status)


@pytest.mark.parametrize("path", ["/edit", "/preview", "/routing"])
def test_editor_of_a_sent_handover_leads_to_its_audited_page(app, client, world, path):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    response = client.get(f"/handovers/{hid}{path}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/handovers/{hid}")
    assert FREE_TEXT_MARKER not in response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already been sent" in page and FREE_TEXT_MARKER in page
    with app.app_context():
        viewed = db.session.execute(select(AuditEvent.handover_id).where(
            AuditEvent.action == "handover.viewed")).scalars().all()
        assert viewed == [hid]


@pytest.mark.parametrize("path, data", [("/edit", {"save": "1", "child_name": "Changed"}),
                                        ("/discard", {})])
def test_changing_or_discarding_a_sent_handover_is_refused_without_error(
        app, client, world, path, data):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{hid}{path}", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/handovers/{hid}")
    with app.app_context():
        assert handover(hid).status == "sent"
        assert reading.content_for_reader(
            access_for(world, "sending_sender", hid))["child_name"] == CHILD_NAME


def test_withdraw_button_is_offered_only_while_the_policy_allows_it(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    assert f"/handovers/{hid}/withdraw" in client.get(f"/handovers/{hid}").get_data(as_text=True)
    with app.app_context():
        reading.record_view(access_for(world, "receiving_receiver", hid),
                            world.user("receiving_receiver"))
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert f"/handovers/{hid}/withdraw" not in page
    response = client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN)
    assert response.status_code == 303
    assert "can no longer be withdrawn" in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_acknowledgement_note_is_not_shown_to_copy_units(app, client, world):
    note = "NOTE-MARKER primary nurse Anna"
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), note)
    for reader, sees in (("receiving_lead", True), ("sending_sender", True),
                         ("copy_receiver", False), ("copy_lead", False)):
        login_as(client, app, world.users[reader])
        for path in ("", "/print"):
            page = client.get(f"/handovers/{hid}{path}").get_data(as_text=True)
            assert (note in page) is sees, (reader, path)


def test_preview_shows_what_send_would_refuse_instead_of_promising_it(app, client, world):
    """The form's own cross-field rule (its plugin's validate_form) refuses this content; the
    preview says so and offers no Send button, and sending it is refused the same way."""
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content(non_disclosure="yes", location_hidden="no"))
        draft_id = draft.id
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    assert "sees it as shown here" not in page
    assert "Location hidden: A non-disclosure marking hides the location" in page
    assert not re.search(rf'action="/handovers/{draft_id}/send"', page)
    client.post(f"/handovers/{draft_id}/send", data={"submission_token": "t"})
    with app.app_context():
        assert handover(draft_id).status == "draft"


def test_preview_of_valid_content_still_promises_what_the_receiver_sees(app, client, world):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        draft_id = draft.id
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    assert "sees it as shown here" in page
    assert f'action="/handovers/{draft_id}/send"' in page
