"""Event hooks hear of a send, a first view and an acknowledgement through a frozen summary of
the handover (ids, form, status, times), never the database row or its content."""

import dataclasses

import lifecycle_support
import pytest
from formdef_samples import install_plugins
from lifecycle_support import CHILD_NAME, access_for, send_handover

from handover.hookspecs import HandoverSummary, UnitSummary
from handover.services import reading

world = lifecycle_support.world


@pytest.fixture
def app_config(app_config, instance_path):
    """The lifecycle test form, and a plugin that listens to every event."""
    lifecycle_support.install_plugin(instance_path)
    install_plugins(instance_path, "event_listener")
    return app_config


def _received(app):
    return app.extensions["handover_plugins"].records["event_listener"].module.RECEIVED


def test_event_hooks_receive_a_read_only_summary_without_content(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        receiver = world.user("receiving_receiver")
        reading.record_view(access_for(world, "receiving_receiver", handover_id), receiver)
        reading.acknowledge(access_for(world, "receiving_receiver", handover_id, "acknowledge"),
                            receiver)
    events = _received(app)
    assert [name for name, _handover, _unit in events] == ["sent", "opened", "acknowledged"]
    sent, opened, acknowledged = (handover for _name, handover, _unit in events)
    for summary in (sent, opened, acknowledged):
        assert isinstance(summary, HandoverSummary)
        assert summary.id == handover_id and summary.form_key == lifecycle_support.FORM_KEY
        assert summary.sender_unit_id == world.units["sending"].id
        assert summary.receiver_unit_id == world.units["receiving"].id
        assert summary.copy_unit_ids == (world.units["copy"].id,)
        assert CHILD_NAME not in repr(summary)
        with pytest.raises(dataclasses.FrozenInstanceError):
            summary.status = "draft"
    assert sent.status == "sent" and sent.sent_at is not None
    assert acknowledged.status == "acknowledged" and acknowledged.acknowledged_at is not None
    unit = events[1][2]
    assert unit == UnitSummary(id=world.units["receiving"].id, kind="psychiatric_ward",
                               name="Receiving unit")
