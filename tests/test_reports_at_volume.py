"""The child's access report, the audit export and the search by identity code read what
they show in a fixed number of statements, however many events or handovers there are. A
year's events of a busy child (tens of thousands: every inbox page logs each row it lists)
were read back one statement per event after the report's commit, and the report ran past the
server's timeout."""

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, send_handover
from support import statements_during

from handover.security import crypto
from handover.services import audit_export, audit_search, listing
from handover.store import audit
from handover.store.database import db

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _statements_during(work):
    return len(statements_during(work)[1])


def _listed(world, handover_id, times):
    """``times`` events on the handover, as the inbox writes for each row it shows."""
    for _ in range(times):
        audit.record("handover.listed", actor=world.user("receiving_receiver"),
                     handover_id=handover_id)
    db.session.commit()


def _with_more_events(world, handover_id, work):
    """The statements of ``work`` with 5 events on the handover, then with 45."""
    _listed(world, handover_id, 5)
    few = _statements_during(work)
    _listed(world, handover_id, 40)
    return few, _statements_during(work)


def _shown(values):
    """Read what a page shows of each row, as the templates do."""
    return [tuple(vars(value).items()) if hasattr(value, "__dict__") else value
            for value in values]


def test_the_childs_report_reads_its_events_at_once(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        auditor = world.user("auditor")

        def report():
            handovers, events = audit_search.child_report(auditor, CHILD_CODE)
            _shown([(e.action, e.actor_label, e.occurred_at, e.detail) for e in events])
            _shown([(h.id, h.status, h.sent_at) for h in handovers])

        few, many = _with_more_events(world, handover_id, report)
    assert many == few


def test_the_audit_export_reads_its_events_at_once(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        auditor = world.user("auditor")
        child = crypto.identity_hash(CHILD_CODE)

        def export():
            audit_export.export(auditor, audit_export.ExportFilter(child_hash=child))

        few, many = _with_more_events(world, handover_id, export)
    assert many == few


def test_finding_a_child_reads_its_handovers_at_once(app, world):
    with app.app_context():
        send_handover(world)
        receiver = world.user("receiving_receiver")
        db.session.refresh(receiver)
        few = _statements_during(lambda: listing.find_by_identity_code(receiver, CHILD_CODE))
        for _ in range(4):
            send_handover(world)
        db.session.refresh(receiver)    # as loaded at the start of a request, like the first
        many = _statements_during(lambda: listing.find_by_identity_code(receiver, CHILD_CODE))
    assert many == few


def _database_work(app, work):
    """How many steps SQLite's engine takes for ``work`` (in thousands): the work itself, not
    the time it took, so the test says the same on a slow machine."""
    steps = [0]

    def count():
        steps[0] += 1
        return 0

    connection = db.session.connection().connection.dbapi_connection
    connection.set_progress_handler(count, 1000)
    try:
        work()
    finally:
        connection.set_progress_handler(None, 0)
    return steps[0]


def test_the_childs_report_grows_with_its_events_not_with_their_square(
        app, world, database_backend):
    """Each event asked "the latest save naming a child before me", walking back through every
    event of its handover: a year of a ward's list views of one handover (20,000 events) took
    a minute. Four times the events may take about four times the work, not sixteen."""
    if database_backend != "sqlite":
        pytest.skip("the count of steps is SQLite's; the statement is the same on PostgreSQL")
    with app.app_context():
        handover_id = send_handover(world)
        auditor = world.user("auditor")

        def report():
            audit_search.child_report(auditor, CHILD_CODE)

        _listed(world, handover_id, 300)
        fewer = _database_work(app, report)
        _listed(world, handover_id, 900)
        more = _database_work(app, report)
    assert more < 6 * fewer, (fewer, more)


def test_the_inbox_reads_which_unit_replied_but_no_reply_text(app, client, world):
    """A list marks a handover the receiving unit replied to; it shows no reply, so it reads
    none of their sealed texts (a long thread was megabytes per inbox page)."""
    from lifecycle_support import access_for, login_as

    from handover.services import replies

    with app.app_context():
        handover_id = send_handover(world)
        nurse = world.user("receiving_receiver")
        replies.add_message(access_for(world, "receiving_receiver", handover_id, "reply"), nurse,
                          "Lapsi saapui osastolle.")
    login_as(client, app, world.users["receiving_receiver"])
    with app.app_context():
        inbox, statements = statements_during(lambda: client.get("/handovers/inbox"))
    assert inbox.status_code == 200
    read_replies = [s for s in statements if "FROM replies" in s]
    assert read_replies and not any("replies.body" in s for s in read_replies)
