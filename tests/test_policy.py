"""The one access policy: for each relation and status, exactly which actions are open now.
The pages offer what this table says, and `policy.require` refuses the rest — as "not found"
when the person's role never allows it, as "not now" when the status no longer does."""

import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import FORM_KEY, access_for, content, send_handover
from test_state_actions import _in_status

from handover.services import drafts, policy
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

READ = {"view", "print"}
FILES = READ | {"download"}
#: status -> person -> the actions open to them now.
EXPECTED = {
    "draft": {
        "sending_sender": {"view", "download", "edit", "preview", "discard", "routing", "send",
                           "attach"},
        "sending_lead": set(), "receiving_receiver": set(), "copy_receiver": set(),
    },
    "sent": {
        "sending_sender": FILES | {"reply", "withdraw", "correct", "update"},
        "sending_lead": FILES,
        "receiving_receiver": FILES | {"acknowledge", "reply", "reply_form", "return"},
        "copy_receiver": READ,
    },
    "opened": {
        "sending_sender": FILES | {"reply", "correct", "update"},
        "sending_lead": FILES,
        "receiving_receiver": FILES | {"acknowledge", "reply", "reply_form", "return"},
        "copy_receiver": READ,
    },
    "acknowledged": {
        "sending_sender": FILES | {"reply", "correct", "update"},
        "sending_lead": FILES,
        "receiving_receiver": FILES | {"reply", "reply_form", "close"},
        "copy_receiver": READ,
    },
    "withdrawn": {
        "sending_sender": FILES | {"correct"},
        "sending_lead": FILES,
        "receiving_receiver": READ,
        "copy_receiver": READ,
    },
    "erased": {
        "sending_sender": READ, "sending_lead": READ, "receiving_receiver": READ,
        "copy_receiver": READ,
    },
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_actions_open_now_per_person_and_status(app, world, status):
    with app.app_context():
        hid = _in_status(world, status)
        for person, expected in EXPECTED[status].items():
            handover = db.session.get(Handover, hid)
            granted = policy.evaluate(world.user(person), handover)
            assert set(granted.actions) == expected, (person, status)
            for admin in ("admin", "auditor"):
                assert not policy.evaluate(world.user(admin), handover).actions


def test_refusal_by_role_is_not_found_and_audited(app, world):
    with app.app_context():
        hid = send_handover(world)
        with pytest.raises(policy.NotFound):
            policy.require(world.user("copy_receiver"), hid, "download")
        with pytest.raises(policy.NotFound):
            policy.require(world.user("other_receiver"), hid, "view")
        denied = db.session.query(AuditEvent).filter_by(action="handover.access_denied").count()
        assert denied == 2


def test_refusal_by_status_says_why_and_names_the_handover(app, world):
    with app.app_context():
        hid = send_handover(world)
        with pytest.raises(policy.WrongState) as refused:
            policy.require(world.user("sending_sender"), hid, "edit")
        assert refused.value.handover_id == hid
        with force_locale("en"):
            assert str(refused.value) == "This handover has already been sent."


def test_services_know_no_http(app, world):
    """`require` raises a domain exception, never an HTTP one, so the CLI and the API can
    call it too."""
    from werkzeug.exceptions import HTTPException

    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        for action in policy.ACTIONS:
            try:
                access_for(world, "receiving_receiver", draft.id, action)
            except HTTPException:  # pragma: no cover - the defect this guards against
                pytest.fail(f"{action}: HTTP exception from the service layer")
            except policy.NotFound:
                pass
