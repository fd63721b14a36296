"""Every role against every handover URL gets exactly the answer it should. Members of the
sending, receiving and copied units act by their role; one who may read the handover but whose
role or unit's relation to it does not allow the action is led back to it (303) with the reason;
everyone else — an unrelated unit, an administrator, an auditor — is told the handover does not
exist (404), and that attempt is audited. Anonymous visitors are sent to the login page."""

import lifecycle_support
import pytest
from lifecycle_support import (
    FORM_KEY,
    UNIT_KINDS,
    content,
    login_as,
)
from sqlalchemy import func, select

from handover.services import attachments, drafts, sending
from handover.services import policy as access
from handover.store.database import db
from handover.store.models import Attachment, AuditEvent

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


PDF = b"%PDF-1.4 test"
USERS = [f"{unit}_{role}" for unit in UNIT_KINDS for role in ("sender", "receiver", "lead")]
USERS += ["admin", "auditor", "anonymous"]

READERS = {"sending_sender", "sending_lead", "receiving_receiver", "receiving_lead",
           "copy_receiver", "copy_lead"}
RECEIVERS = {"receiving_receiver", "receiving_lead"}


def _expect(allowed, ok=200, readers=READERS, refused=303):
    """``ok`` for ``allowed``; ``refused`` (back to the handover, 303) for the other
    ``readers``; 404 for everyone else."""
    return {user: ok if user in allowed else refused if user in readers else 404
            for user in USERS} | {"anonymous": 302}


#: (method, url template, expected status per user). Actions answer with a redirect (302).
MATRIX = {
    "view": ("GET", "/handovers/{id}", _expect(READERS)),
    "print": ("GET", "/handovers/{id}/print", _expect(READERS)),
    "acknowledge": ("POST", "/handovers/{id}/acknowledge", _expect(RECEIVERS, 302)),
    # A refused reply shows the handover's page again with the text kept, to copy.
    "reply": ("POST", "/handovers/{id}/reply",
              _expect(RECEIVERS | {"sending_sender"}, 302, refused=409)),
    "reply_form": ("GET", "/handovers/{id}/reply/ward_reply", _expect(RECEIVERS)),
    "withdraw": ("POST", "/handovers/{id}/withdraw", _expect({"sending_sender"}, 302)),
    "correct": ("POST", "/handovers/{id}/correct", _expect({"sending_sender"}, 302)),
    # A copy's attachments are not the copy unit's to fetch: not found, as for strangers.
    "attachment": ("GET", "/handovers/{id}/attachments/{attachment}",
                   _expect(RECEIVERS | {"sending_sender", "sending_lead"}, readers=())),
    # A draft is the sending unit's senders' alone.
    "draft_edit": ("GET", "/handovers/{draft}/edit", _expect({"sending_sender"}, readers=())),
    "draft_view": ("GET", "/handovers/{draft}", _expect({"sending_sender"}, 302, readers=())),
    "draft_send": ("POST", "/handovers/{draft}/send",
                   _expect({"sending_sender"}, 302, readers=())),
    "draft_upload": ("POST", "/handovers/{draft}/attachments",
                     _expect({"sending_sender"}, 302, readers=())),
}


def _handover_with_attachment(world):
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                         [world.unit("copy")], "lsl_disclosure")
    drafts.save(sender, draft, content())
    attachments.add(access.require(sender, draft.id, "attach"), sender, "a.pdf", PDF)
    sent = sending.send(sender, draft, None)
    other_draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                               [], "lsl_disclosure")
    drafts.save(sender, other_draft, content())
    attachment_id = db.session.execute(
        select(Attachment.id).where(Attachment.handover_id == sent.id)).scalar_one()
    return {"id": sent.id, "attachment": attachment_id, "draft": other_draft.id}


def _denied_count():
    return db.session.execute(select(func.count()).where(
        AuditEvent.action == "handover.access_denied")).scalar()


@pytest.mark.parametrize("name", list(MATRIX))
def test_every_role_gets_exactly_the_expected_answer(app, world, name):
    method, template, expected = MATRIX[name]
    answers = {}
    for user_name in USERS:
        with app.app_context():
            ids = _handover_with_attachment(world)
            denied_before = _denied_count()
        client = app.test_client()
        if user_name != "anonymous":
            login_as(client, app, world.users[user_name])
        url = template.format(**ids)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"message": "hello", "note": "",
                                              "reason": "wrong_unit",   # a withdrawal's
                                              "submission_token": f"t-{user_name}"})
        answers[user_name] = response.status_code
        with app.app_context():
            if response.status_code == 404:
                assert _denied_count() == denied_before + 1, user_name
    assert answers == expected


def test_admin_sees_no_content_anywhere(app, world):
    from lifecycle_support import CHILD_NAME

    with app.app_context():
        ids = _handover_with_attachment(world)
    client = app.test_client()
    login_as(client, app, world.users["admin"])
    for url in ("/handovers/{id}", "/handovers/{id}/print", "/handovers/inbox",
                "/handovers/outbox", "/"):
        response = client.get(url.format(**ids))
        assert CHILD_NAME not in response.get_data(as_text=True)
    assert client.get(f"/handovers/{ids['id']}").status_code == 404


def test_unknown_handover_looks_like_a_forbidden_one(app, world):
    client = app.test_client()
    login_as(client, app, world.users["other_receiver"])
    assert client.get("/handovers/999999").status_code == 404


def test_lists_show_only_the_users_units(app, world):
    from lifecycle_support import CHILD_NAME

    with app.app_context():
        ids = _handover_with_attachment(world)
    for user_name, visible in [("receiving_receiver", True), ("copy_lead", True),
                               ("other_receiver", False), ("sending_receiver", False)]:
        client = app.test_client()
        login_as(client, app, world.users[user_name])
        page = client.get("/handovers/inbox").get_data(as_text=True)
        assert (f"#{ids['id']}" in page) is visible, user_name
        assert (CHILD_NAME in page) is visible, user_name
