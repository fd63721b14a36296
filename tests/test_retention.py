"""Retention: `handover purge` erases exactly the expired handovers' content and keys, keeps
their metadata and audit trail, and the UI says the content was erased under the rule."""

import re
from datetime import timedelta

import lifecycle_support
from lifecycle_support import (
    access_for,
    handover,
    login_as,
    send_handover,
)
from sqlalchemy import func, select

from handover.cli import cli
from handover.services import reading, replies, retention
from handover.store.database import db
from handover.store.models import AuditEvent, Reply
from handover.store.models.base import utcnow

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world



def _acknowledge(world, hid, now):
    reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                        world.user("receiving_receiver"), "note", now=now)


def test_purge_with_time_moved_forward_erases_exactly_the_expired(app, world):
    start = utcnow()
    with app.app_context():
        acknowledged_long_ago = send_handover(world, now=start)
        _acknowledge(world, acknowledged_long_ago, start)
        replies.add_message(access_for(world, "receiving_receiver", acknowledged_long_ago,
                                       "reply"), world.user("receiving_receiver"), "hello")
        acknowledged_recently = send_handover(world, now=start + timedelta(days=70))
        _acknowledge(world, acknowledged_recently, start + timedelta(days=70))
        never_opened = send_handover(world, now=start)
        sent_recently = send_handover(world, now=start + timedelta(days=10))

        later = start + timedelta(days=91)
        assert retention.purge(now=later, dry_run=True) == [acknowledged_long_ago,
                                                             never_opened]
        assert handover(never_opened).content is not None  # dry run changes nothing

        erased = retention.purge(now=later)
        assert erased == [acknowledged_long_ago, never_opened]
        for hid in erased:
            row = handover(hid)
            assert row.content is None and row.summary is None and row.wrapped_key is None
            assert row.acknowledgement_note is None and row.erased_at == later
            assert row.sender_unit_id and row.form_key and row.identity_hash  # metadata kept
        for hid in (acknowledged_recently, sent_recently):
            assert handover(hid).content is not None and handover(hid).wrapped_key
        bodies = db.session.execute(select(Reply.body).where(
            Reply.handover_id == acknowledged_long_ago)).scalars().all()
        assert bodies == [None]
        assert db.session.execute(select(func.count()).where(
            AuditEvent.action == "handover.erased")).scalar() == 2
        assert retention.purge(now=later) == []  # nothing twice


def test_erased_handover_shows_the_retention_notice(app, client, world):
    with app.app_context():
        hid = send_handover(world, now=utcnow() - timedelta(days=100))
        retention.purge()
    login_as(client, app, world.users["receiving_receiver"])
    response = client.get(f"/handovers/{hid}")
    assert response.status_code == 200
    assert "Content erased on" in response.get_data(as_text=True)


def test_reading_erased_content_does_not_open_the_handover(app, client, world):
    """A handover nobody opened before its content was erased stays unopened when the receiver
    (or a copy unit) then looks at it: they saw only that it was erased, and the sender must
    not be told it was read. The look is still logged."""
    with app.app_context():
        hid = send_handover(world, now=utcnow() - timedelta(days=100))
        assert retention.purge() == [hid]
    for reader in ("receiving_receiver", "copy_receiver"):
        login_as(client, app, world.users[reader])
        assert "Content erased on" in client.get(f"/handovers/{hid}").get_data(as_text=True)
    with app.app_context():
        erased = handover(hid)
        assert (erased.status, erased.opened_at) == ("sent", None)
        assert all(copy.opened_at is None for copy in erased.copies)
        actions = db.session.execute(select(AuditEvent.action).where(
            AuditEvent.handover_id == hid)).scalars().all()
    # Logged as a look without content, not as a read (only that it was erased was shown).
    assert actions.count("handover.viewed_without_content") == 2
    assert "handover.viewed" not in actions
    assert "handover.opened" not in actions and "handover.copy_opened" not in actions
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    # Its status is not "Opened" (the printed header's "Opened by <the sender>" is the page).
    assert "Opened" not in re.sub(r'<div class="print-header.*?</div>', "", page, flags=re.S)


def test_purge_command_dry_run_lists_ids_only(app, runner, world):
    with app.app_context():
        hid = send_handover(world, now=utcnow() - timedelta(days=100))
    result = runner.invoke(cli, args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert str(hid) in result.output
    with app.app_context():
        assert handover(hid).content is not None
    result = runner.invoke(cli, args=["purge"])
    assert result.exit_code == 0
    with app.app_context():
        assert handover(hid).content is None
