"""The data protection officer's review: a queued notice is checked when the worker sends it.
A "new handover is waiting" e-mail for a handover withdrawn, returned or erased since it was
queued is dropped (with a log line that names no child), not sent; an overdue notice for a
handover acknowledged meanwhile too. `deliveries.deliver_due()` does here what the worker does.
"""

from datetime import timedelta

import lifecycle_support
from lifecycle_support import (
    ADDRESS,
    CHILD_CODE,
    CHILD_NAME,
    FREE_TEXT_MARKER,
    access_for,
    send_handover,
)
from sqlalchemy import select

from handover.services import deliveries, notifications, reading, retention, returning, withdrawal
from handover.store.database import db
from handover.store.models import Delivery
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def rows(handover_id, event="arrived"):
    return list(db.session.execute(
        select(Delivery).where(Delivery.handover_id == handover_id, Delivery.channel == "email",
                               Delivery.event == event)).scalars())


def mailed(caplog, handover_id, subject="A new handover is waiting"):
    """The notices of ``subject`` the worker handed on for ``handover_id`` (without SMTP, to
    the log)."""
    return [record.getMessage() for record in caplog.records
            if record.getMessage().startswith("notification to ")
            and subject in record.getMessage()
            and record.getMessage().endswith(f"/handovers/{handover_id}")]


def assert_no_child_data(text):
    for secret in (CHILD_NAME, CHILD_CODE, FREE_TEXT_MARKER, ADDRESS, "Testilomake"):
        assert secret not in text


def test_a_withdrawn_handovers_arrival_notices_are_dropped_not_sent(app, world, caplog):
    app.config["SMTP_HOST"] = None
    with app.app_context(), caplog.at_level("INFO"):
        kept = send_handover(world)
        withdrawn = send_handover(world)
        assert rows(withdrawn)   # queued with the send
        withdrawal.withdraw(access_for(world, "sending_sender", withdrawn, "withdraw"),
                            world.user("sending_sender"))
        deliveries.deliver_due()
        assert mailed(caplog, withdrawn) == []
        assert mailed(caplog, kept)   # one still standing is sent as before
        assert {row.status for row in rows(withdrawn)} == {deliveries.DROPPED}
        assert {row.status for row in rows(kept)} == {"delivered"}
        # Nothing is tried again, and the backlog does not count them.
        assert deliveries.deliver_due() == []
        assert deliveries.backlog()["pending"] == deliveries.backlog()["failed"] == 0
    dropped = [record.getMessage() for record in caplog.records
               if "dropped" in record.getMessage()]
    assert dropped and all("withdrawn" in line for line in dropped)
    for line in dropped:
        assert_no_child_data(line)


def test_a_returned_or_erased_handovers_arrival_notices_are_dropped(app, world, caplog):
    app.config["SMTP_HOST"] = None
    with app.app_context(), caplog.at_level("INFO"):
        returned = send_handover(world, copies=False)
        returning.give_back(access_for(world, "receiving_receiver", returned, "return"),
                            world.user("receiving_receiver"), "wrong_unit", "")
        erased = send_handover(world, copies=False)
        assert retention.erase(erased)
        deliveries.deliver_due()
        for handover_id in (returned, erased):
            assert mailed(caplog, handover_id) == []
            assert {row.status for row in rows(handover_id)} == {deliveries.DROPPED}


def test_an_overdue_notice_for_a_handover_acknowledged_meanwhile_is_dropped(app, world,
                                                                           caplog):
    app.config["SMTP_HOST"] = None
    with app.app_context(), caplog.at_level("INFO"):
        late = send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
        deliveries.deliver_due()
        assert notifications.notify_overdue() == [late]
        reading.acknowledge(access_for(world, "receiving_receiver", late, "acknowledge"),
                            world.user("receiving_receiver"))
        caplog.clear()
        deliveries.deliver_due()
        assert mailed(caplog, late, "A handover has not been acknowledged") == []
        assert {row.status for row in rows(late, "overdue")} == {deliveries.DROPPED}


def test_the_check_reads_the_handover_as_it_is_when_the_notice_is_sent(app, world):
    with app.app_context():
        hid = send_handover(world)
        [row, *_] = rows(hid)
        assert notifications.no_longer_due(row) is None
        withdrawal.withdraw(access_for(world, "sending_sender", hid, "withdraw"),
                            world.user("sending_sender"))
        assert notifications.no_longer_due(row) == "handover withdrawn"
