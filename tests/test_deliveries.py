"""The outbox: a send writes its arrival notices in its own transaction, the worker's attempt
delivers each once, a failure is retried later with backoff and given up after the limit, an
administrator's retry brings a failed one back, and every outcome is audited."""

from datetime import timedelta

import lifecycle_support
import pytest
from lifecycle_support import send_handover
from sqlalchemy import select

from handover.services import deliveries
from handover.store.database import db
from handover.store.models import AuditEvent, Delivery
from handover.store.models.base import utcnow

world = lifecycle_support.world
app_config = lifecycle_support.app_config


@pytest.fixture
def smtp_refused(app):
    """Mail to a port where nothing listens: every attempt fails."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9, SMTP_TIMEOUT=2)
    return app


def _rows():
    return list(db.session.execute(select(Delivery).order_by(Delivery.id)).scalars())


def _actions():
    return [event.action for event in db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_a_send_writes_one_pending_notice_per_recipient_and_the_request_sends_nothing(
        app, world):
    with app.app_context():
        hid = send_handover(world)
        rows = _rows()
        assert {row.recipient for row in rows} == {
            "receiving.receiver@example.test", "receiving.lead@example.test",
            "copy.receiver@example.test", "copy.lead@example.test"}
        assert {(row.channel, row.event, row.handover_id, row.status) for row in rows} == {
            ("email", "arrived", hid, "pending")}


def test_a_notice_already_queued_by_a_send_posted_at_the_same_moment_is_not_written_again(
        app, world):
    """Two posts of one send at once both reach the outbox before either has changed the
    handover: the second finds the first's rows (their dedupe keys) and writes none of its
    own, instead of failing on the key, and then finds the handover sent (tested in
    test_lifecycle_send). Here the first post's row is in place before the send."""
    from handover.services import drafts, sending

    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                             world.unit("receiving"), [world.unit("copy")], "lsl_disclosure")
        drafts.save(sender, draft, lifecycle_support.content())
        queued = deliveries.add(deliveries.EMAIL, "arrived", draft.id,
                                "receiving.lead@example.test")
        db.session.commit()
        sending.send(sender, draft, "token")
        rows = _rows()
        assert sorted(row.recipient for row in rows) == [
            "copy.lead@example.test", "copy.receiver@example.test",
            "receiving.lead@example.test", "receiving.receiver@example.test"]
        assert [row.id for row in rows if row.recipient == "receiving.lead@example.test"] == [
            queued]


def test_a_failed_send_leaves_no_notice(app, world):
    from handover.services import drafts, sending

    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                             world.unit("receiving"), [], "lsl_disclosure")
        drafts.save(sender, draft, {})  # missing required fields: the send is refused
        with pytest.raises(drafts.ValidationFailed):
            sending.send(sender, draft, "token")
        assert _rows() == []


def test_delivered_once_then_the_row_is_never_tried_again(app, world, caplog):
    with app.app_context():
        send_handover(world, copies=False)
        first = deliveries.deliver_due()
        assert {row.status for row in first} == {"delivered"} and len(first) == 2  # receiver, lead
        assert deliveries.deliver_due() == []
        assert all(deliveries.attempt(row.id) is None for row in _rows())
        assert _actions().count("delivery.delivered") == 2


def test_a_refused_delivery_is_retried_with_growing_backoff_then_given_up(smtp_refused, world):
    app = smtp_refused
    app.config.update(DELIVERY_RETRY_BASE_SECONDS=30, DELIVERY_GIVE_UP_HOURS=1)
    with app.app_context():
        send_handover(world, copies=False)
        row_id = _rows()[0].id
        start = utcnow()
        row = deliveries.attempt(row_id, start)
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        assert deliveries.attempt(row_id, start) is None  # not due yet
        first_wait = row.next_attempt_at - start
        row = deliveries.attempt(row_id, row.next_attempt_at)
        assert row.status == "pending" and row.attempts == 2
        assert row.next_attempt_at - start > first_wait * 2
        row = deliveries.attempt(row_id, start + timedelta(hours=2))
        assert row.status == "failed"
        assert "delivery.failed" in _actions()
        # The administrator's retry puts it back; it is due at once.
        assert deliveries.retry(row_id)
        assert db.session.get(Delivery, row_id, populate_existing=True).status == "pending"
        assert "delivery.retried" in _actions()
        assert row_id in [delivery_id for delivery_id, _ in deliveries.due()]


def test_a_claim_whose_worker_vanished_is_taken_over_after_the_lease(app, world):
    app.config.update(DELIVERY_LEASE_SECONDS=60)
    with app.app_context():
        send_handover(world, copies=False)
        row = _rows()[0]
        now = utcnow()
        db.session.execute(
            Delivery.__table__.update().where(Delivery.id == row.id)
            .values(status="sending", locked_until=now + timedelta(seconds=60), attempts=1))
        db.session.commit()
        assert deliveries.attempt(row.id, now) is None  # someone holds it
        assert row.id in [i for i, _ in deliveries.due(now, timedelta(minutes=2))]
        taken = deliveries.attempt(row.id, now + timedelta(seconds=61))
        assert taken.status == "delivered" and taken.attempts == 2


def test_backlog_counts_what_waits(smtp_refused, world):
    with smtp_refused.app_context():
        send_handover(world)
        deliveries.deliver_due()
        backlog = deliveries.backlog()
        assert backlog["pending"] == 4 and backlog["failed"] == 0
