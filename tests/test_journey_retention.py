"""A thread as long as the need: content stays while the handover is in use, the receiving unit
closes it, and `handover purge` erases on schedule, finding the due handovers by the indexed
``erase_after``."""

import secrets
from datetime import UTC, datetime, timedelta

import lifecycle_support
import pytest
from flask_migrate import upgrade
from lifecycle_support import access_for, handover, login_as, send_handover
from sqlalchemy import text
from support import empty_database

from handover.cli import cli
from handover.cli.demo_handovers import ward_content
from handover.services import closing, drafts, reading, replies, retention, sending
from handover.services.policy import WrongState
from handover.store.database import db
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

DAY = timedelta(days=1)


def send_ward_form(world, now):
    """The real psychiatric-ward form, institution -> ward, sent at ``now``."""
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), "psychiatric_ward_preinfo",
                         world.unit("receiving"), [world.unit("copy")],
                         "child_welfare_necessary")
    drafts.save(sender, draft, ward_content())
    return sending.send(sender, draft, secrets.token_urlsafe(16), now=now).id


def test_a_sixty_day_ward_stay_keeps_its_thread_for_the_discharge_summary(app, world):
    start = utcnow()
    nurse = "receiving_receiver"
    with app.app_context():
        hid = send_ward_form(world, start)
        reading.acknowledge(access_for(world, nurse, hid, "acknowledge"), world.user(nurse),
                            "", now=start + DAY)
        # A quiet stay: nobody writes between the first days and the discharge.
        assert retention.purge(now=start + 54 * DAY) == []
        replies.add_form_reply(
            access_for(world, nurse, hid, "reply_form"), world.user(nurse), "ward_discharge",
            {"discharge_date": (start + 55 * DAY).date().isoformat(),
             "follow_up": "Avohoito jatkuu", "summary_author": "Omahoitaja"})
        assert retention.purge(now=start + 59 * DAY) == []
        closing.close(access_for(world, nurse, hid, "close"), world.user(nurse),
                      now=start + 60 * DAY)
        rule = retention.retention_of(handover(hid))
        due = start + (60 + rule["after_closing_days"]) * DAY
        assert handover(hid).erase_after == due
        assert retention.purge(now=due - timedelta(minutes=1)) == []
        assert handover(hid).content is not None
        assert retention.purge(now=due) == [hid]
        assert handover(hid).content is None and handover(hid).erase_after is None


def test_the_discharge_summary_on_day_55_is_accepted_by_the_shipped_ward_rule(app, world):
    """The shipped `[retention]` of the ward form, not a test's own: a quiet stay of 55 days
    after acknowledgement still has its content."""
    with app.app_context():
        rule = retention.retention_of("psychiatric_ward_preinfo")
    start = utcnow()
    due = retention.deadline(rule, status="acknowledged", updated_at=start, sent_at=start,
                             last_activity_at=start + DAY)
    assert due > start + 60 * DAY


def test_an_active_thread_is_never_purged_before_the_maximum(app, world):
    start = utcnow()
    with app.app_context():
        hid = send_handover(world, now=start)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "", now=start)
        for day in range(20, 341, 20):
            retention.record_activity(handover(hid), start + day * DAY)
            db.session.commit()
            assert retention.purge(now=start + (day + 19) * DAY) == []
        rule = retention.retention_of(handover(hid))
        assert retention.purge(now=start + rule["max_days"] * DAY) == [hid]


def test_a_reply_moves_the_erasure_and_withdrawal_sets_it(app, world):
    start = utcnow()
    with app.app_context():
        hid = send_handover(world, now=start)
        assert handover(hid).erase_after == start + 90 * DAY  # unopened_days of the test form
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "", now=start + DAY)
        assert handover(hid).erase_after == start + 31 * DAY
        replies.add_message(access_for(world, "sending_sender", hid, "reply"),
                            world.user("sending_sender"), "Kiitos")
        assert handover(hid).erase_after > utcnow() + 29 * DAY
        other = send_handover(world, now=start)
        from handover.services import withdrawal
        withdrawal.withdraw(access_for(world, "sending_sender", other, "withdraw"),
                            world.user("sending_sender"), now=start + DAY)
        assert handover(other).erase_after == start + 90 * DAY


def test_only_the_receiving_unit_closes_and_a_closed_thread_takes_no_replies(app, world):
    with app.app_context():
        hid = send_handover(world)
        with pytest.raises(WrongState):
            access_for(world, "receiving_receiver", hid, "close")  # not acknowledged yet
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "")
        for reader in ("sending_sender", "copy_receiver"):   # they read it; told why not
            with pytest.raises(WrongState):
                access_for(world, reader, hid, "close")
        with pytest.raises(LookupError):
            access_for(world, "other_receiver", hid, "close")
        closing.close(access_for(world, "receiving_lead", hid, "close"),
                      world.user("receiving_lead"))
        with pytest.raises(WrongState):
            access_for(world, "sending_sender", hid, "reply")
        with pytest.raises(WrongState):
            access_for(world, "receiving_receiver", hid, "close")


def test_receiver_closes_from_the_handover_page(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "")
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Close the handover" in page
    response = client.post(f"/handovers/{hid}/close", follow_redirects=True)
    assert "The handover was closed" in response.get_data(as_text=True)
    with app.app_context():
        assert handover(hid).closed_at is not None
    sender = app.test_client()
    login_as(sender, app, world.users["sending_sender"])
    assert sender.post(f"/handovers/{hid}/close").status_code == 303   # back to it, told why
    with app.app_context():
        assert handover(hid).closed_at is not None


def test_purge_reads_only_the_due_handovers_through_the_index(app, world, database_backend):
    start = utcnow()
    with app.app_context():
        due = send_handover(world, now=start - 200 * DAY)
        send_handover(world, now=start)
        statements = []

        from sqlalchemy import event

        def remember(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            ids = retention.purge(now=start)
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        assert ids == [due]
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")
                   and "FROM handovers" in s]
        assert selects and all("erase_after <=" in s for s in selects)
        plan_sql = ("EXPLAIN QUERY PLAN " if database_backend == "sqlite" else "EXPLAIN ")
        plan = " ".join(str(row) for row in db.session.execute(text(
            plan_sql + "SELECT id FROM handovers WHERE erase_after <= :now "
            "ORDER BY erase_after, id"), {"now": start}))
        if database_backend == "sqlite":
            assert "ix_handovers_erase_after" in plan


def test_purge_command_reports_what_it_erased(app, runner, world):
    with app.app_context():
        hid = send_handover(world, now=utcnow() - 100 * DAY)
    result = runner.invoke(cli, args=["purge"])
    assert result.exit_code == 0, result.output
    assert str(hid) in result.output and "1 handover(s) erased" in result.output


def test_upgrade_from_0008_backfills_erase_after(app, database_backend):
    """A database holding handovers at revision 0008 gets each one's deadline."""
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        empty_database()
        upgrade(revision="0008")
        db.session.execute(text(
            "INSERT INTO units (id, name, kind, organisation, email, is_active, created_at) "
            "VALUES (1, 'A', 'child_welfare_institution', '', '', true, :now), "
            "(2, 'B', 'psychiatric_ward', '', '', true, :now)"), {"now": now})
        db.session.execute(text(
            "INSERT INTO users (id, email, name, password_hash, must_change_password, "
            "totp_last_step, is_admin, is_auditor, active, created_at) VALUES (1, "
            "'a@example.fi', 'A', 'x', false, 0, false, false, true, :now)"), {"now": now})
        rows = [  # id, status, sent, acknowledged, erased
            (1, "acknowledged", now - 20 * DAY, now - 19 * DAY, None),
            (2, "sent", now - 10 * DAY, None, None),
            (3, "draft", None, None, None),
            (4, "acknowledged", now - 400 * DAY, now - 399 * DAY, now - 300 * DAY),
        ]
        for hid, status, sent, acked, erased in rows:
            db.session.execute(text(
                "INSERT INTO handovers (id, form_key, form_version, status, sender_unit_id, "
                "receiver_unit_id, created_by_id, legal_basis, created_at, updated_at, "
                "sent_at, acknowledged_at, erased_at) VALUES (:id, 'lifecycle_test', 1, "
                ":status, 1, 2, 1, 'lsl_disclosure', :now, :now, :sent, :acked, :erased)"),
                {"id": hid, "status": status, "now": now - 5 * DAY, "sent": sent,
                 "acked": acked, "erased": erased})
        db.session.execute(text(
            "INSERT INTO replies (handover_id, author_id, unit_id, kind, created_at) "
            "VALUES (1, 1, 2, 'message', :when)"), {"when": now - 2 * DAY})
        db.session.commit()
        db.session.remove()
        upgrade()
        found = dict(db.session.execute(text(
            "SELECT id, erase_after FROM handovers ORDER BY id")).all())
        db.session.remove()
        empty_database()
        db.create_all()

    def moment(value):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if value is not None else None

    naive = {hid: moment(value) for hid, value in found.items()}
    utc = now.replace(tzinfo=None)
    assert naive[1] == utc - 2 * DAY + 30 * DAY  # the reply is the latest activity
    assert naive[2] == utc - 10 * DAY + 90 * DAY  # not acknowledged: unopened_days
    assert naive[3] == utc - 5 * DAY + 90 * DAY  # a draft untouched since its last save
    assert naive[4] is None  # already erased
