"""A draft not sent by its form's send-by date is late (issue 16): the date follows the draft's
content on every save, the sending unit's senders see the draft tagged, its leads are told once,
and a sent draft or another unit's draft is none of their business."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import support
from lifecycle_support import World, login_as
from sqlalchemy import inspect, select, update

from handover.cli import cli
from handover.cli.demo_handovers import ward_content
from handover.formdefs import load_definition
from handover.formdefs.content import TIMEZONE
from handover.services import deliveries, drafts, late_drafts, sending
from handover.store.database import db
from handover.store.models import AuditEvent, Delivery, Handover
from handover.store.models.base import utcnow

FORMS = Path(__file__).resolve().parent.parent / "forms"
CHILD = "Veeti Esimerkki"
WARD_FORM = "psychiatric_ward_preinfo"


def today():
    return datetime.now(TIMEZONE).date()


def day(offset):
    return (today() + timedelta(days=offset)).isoformat()


def shown(value):
    return f"{value.day}.{value.month}.{value.year}"


# -- the send-by date of each built-in form, from its timing ------------------------------------

@pytest.mark.parametrize(("stem", "content", "last_day"), [
    ("psychiatric_ward", {"arrival_type": "planned", "arrival_date": "2026-12-10"},
     date(2026, 12, 10)),
    # within 24 hours of an emergency admission: the forms record no time of arrival, so the
    # day after the arrival day
    ("psychiatric_ward", {"arrival_type": "emergency", "arrival_date": "2026-12-10"},
     date(2026, 12, 11)),
    # not yet known whether it was an emergency: never late before the form allows
    ("psychiatric_ward", {"arrival_date": "2026-12-10"}, date(2026, 12, 11)),
    ("daycare", {"ecec_start_date": "2027-01-11"}, date(2027, 1, 10)),
    ("school_transfer", {"school_start_date": "2027-01-11"}, date(2027, 1, 4)),
    ("pre_placement", {"planned_start_date": "2027-06-15"}, date(2027, 6, 8)),
])
def test_each_form_with_timing_gives_a_send_by_time(stem, content, last_day):
    send_by = late_drafts.send_by_of(load_definition(FORMS / f"{stem}.toml"), content)
    # late from the midnight that ends the last day, in Finland
    assert send_by == datetime.combine(last_day + timedelta(days=1), datetime.min.time(),
                                       TIMEZONE)
    assert late_drafts.due_day(send_by) == last_day


@pytest.mark.parametrize(("stem", "content"), [
    ("placement_update", {"update_date": "2026-12-10"}),   # no timing at all
    ("psychiatric_ward", {"arrival_type": "emergency"}),   # no date to count from
    ("psychiatric_ward", {"arrival_type": "planned", "arrival_date": "10.12.2026"}),
])
def test_no_timing_or_no_date_means_no_send_by_time(stem, content):
    assert late_drafts.send_by_of(load_definition(FORMS / f"{stem}.toml"), content) is None


def test_the_last_day_holds_across_summer_time():
    definition = load_definition(FORMS / "psychiatric_ward.toml")
    send_by = late_drafts.send_by_of(definition, {"arrival_type": "planned",
                                                  "arrival_date": "2027-03-28"})
    assert send_by.astimezone(UTC) == datetime(2027, 3, 28, 21, 0, tzinfo=UTC)  # EEST
    assert late_drafts.due_day(send_by) == date(2027, 3, 28)


# -- a world of units --------------------------------------------------------------------------

UNITS = {
    "institution": "child_welfare_institution",
    "other_institution": "child_welfare_institution",
    "ward": "psychiatric_ward",
    "social_work": "child_welfare_social_work",
    "daycare": "daycare",
    "school": "school",
    "education": "education_department",
}


@pytest.fixture
def world(app, monkeypatch):
    """The units above, a sender and a lead in each; the institution has a second lead."""
    monkeypatch.setattr(support, "hash_password", lambda password: "not-a-password-hash")
    made = World()
    with app.app_context():
        for name, kind in UNITS.items():
            unit = support.create_unit(f"{name} unit", kind=kind, email="")
            made.units[name] = unit
            for role in ("sender", "lead"):
                made.users[f"{name}_{role}"] = support.create_user(
                    f"{name}.{role}@example.test", memberships=[(unit, role)])
        made.users["institution_lead2"] = support.create_user(
            "institution.lead2@example.test", memberships=[(made.units["institution"], "lead")])
        for item in list(made.units.values()) + list(made.users.values()):
            db.session.refresh(item)
            db.session.expunge(item)
    return made


def ward_draft(world, content):
    sender = world.user("institution_sender")
    draft = drafts.start(sender, world.unit("institution"), WARD_FORM, world.unit("ward"), [],
                         "child_welfare_necessary")
    drafts.save(sender, draft, content)
    return draft.id


def late_ward_draft(world):
    """A planned arrival three days ago, never sent."""
    return ward_draft(world, {**ward_content(), "arrival_type": "planned",
                              "arrival_date": day(-3)})


def stored_send_by(draft_id):
    db.session.expire_all()
    send_by = db.session.get(Handover, draft_id).send_by_at
    return late_drafts.due_day(send_by) if send_by else None


# -- saving ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("form_key", "sender", "receiver", "date_field", "offset"), [
    (WARD_FORM, "institution", "ward", "arrival_date", 0),
    ("daycare_placed_child", "social_work", "daycare", "ecec_start_date", -1),
    ("school_transfer", "social_work", "school", "school_start_date", -7),
    ("pre_placement_notice", "social_work", "education", "planned_start_date", -7),
])
def test_every_save_stores_the_send_by_date_from_the_content(app, world, form_key, sender,
                                                             receiver, date_field, offset):
    with app.app_context():
        user = world.user(f"{sender}_sender")
        draft = drafts.start(user, world.unit(sender), form_key, world.unit(receiver), [],
                             "child_welfare_necessary")
        assert stored_send_by(draft.id) is None
        extra = {"arrival_type": "planned"} if form_key == WARD_FORM else {}
        drafts.save(user, db.session.get(Handover, draft.id),
                    {date_field: "2027-02-20", **extra})
        assert stored_send_by(draft.id) == date(2027, 2, 20) + timedelta(days=offset)
        drafts.save(user, db.session.get(Handover, draft.id),
                    {date_field: "2027-03-20", **extra})
        assert stored_send_by(draft.id) == date(2027, 3, 20) + timedelta(days=offset)
        drafts.save(user, db.session.get(Handover, draft.id), {date_field: "", **extra})
        assert stored_send_by(draft.id) is None


def test_an_emergency_admission_moves_the_send_by_date_with_the_answer(app, world):
    with app.app_context():
        draft_id = ward_draft(world, {"arrival_type": "planned", "arrival_date": "2027-02-20"})
        assert stored_send_by(draft_id) == date(2027, 2, 20)
        sender = world.user("institution_sender")
        drafts.save(sender, db.session.get(Handover, draft_id),
                    {"arrival_type": "emergency", "arrival_date": "2027-02-20"})
        assert stored_send_by(draft_id) == date(2027, 2, 21)
        drafts.save(sender, db.session.get(Handover, draft_id),
                    {"arrival_type": "planned", "arrival_date": "2027-02-20"})
        assert stored_send_by(draft_id) == date(2027, 2, 20)


def test_a_section_page_save_keeps_the_send_by_date_of_the_whole_draft(app, client, world):
    """A section page posts one section; the date counts from the draft as saved."""
    with app.app_context():
        draft_id = ward_draft(world, {"arrival_type": "emergency", "arrival_date": "2027-02-20"})
    login_as(client, app, world.users["institution_sender"])
    saved = client.post(f"/handovers/{draft_id}/sections/child",
                        data={"child_name": CHILD, "to_tasks": "1"})
    assert saved.status_code == 302
    with app.app_context():
        assert stored_send_by(draft_id) == date(2027, 2, 21)


# -- what senders see --------------------------------------------------------------------------

def test_a_late_draft_is_tagged_for_its_senders(app, client, world):
    with app.app_context():
        late_id = late_ward_draft(world)
        in_time_id = ward_draft(world, {"child_name": "Aino Ajoissa", "arrival_type": "planned",
                                        "arrival_date": day(5)})
    login_as(client, app, world.users["institution_sender"])
    last_day = shown(today() - timedelta(days=3))
    for page in ("/", "/handovers/outbox"):
        text = client.get(page).get_data(as_text=True)
        row = text[text.index(f"/handovers/{late_id}/tasks"):]
        row = row[:row.index("</tr>")]
        assert "Late" in row and f"Send by {last_day}" in row
        other = text[text.index(f"/handovers/{in_time_id}/tasks"):]
        other = other[:other.index("</tr>")]
        assert "Late" not in other and f"Send by {shown(today() + timedelta(days=5))}" in other
    tasks = client.get(f"/handovers/{late_id}/tasks").get_data(as_text=True)
    assert "When to send:" in tasks and f"Send by {last_day}" in tasks and "Late" in tasks


def test_the_tag_is_in_finnish_and_swedish(app, client, world):
    with app.app_context():
        late_ward_draft(world)
    login_as(client, app, world.users["institution_sender"])
    last_day = shown(today() - timedelta(days=3))
    for language, tag, send_by in (("fi", "Myöhässä", "Lähetettävä viimeistään"),
                                   ("sv", "Försenad", "Ska skickas senast")):
        with client.session_transaction() as session:
            session["language"] = language
        text = client.get("/").get_data(as_text=True)
        assert tag in text and f"{send_by} {last_day}" in text


def test_another_units_people_see_nothing_of_a_late_draft(app, world):
    with app.app_context():
        late_id = late_ward_draft(world)
    for name in ("other_institution_sender", "other_institution_lead", "ward_lead"):
        browser = login_as(app.test_client(), app, world.users[name])
        home = browser.get("/").get_data(as_text=True)
        assert CHILD not in home and "Late" not in home
        assert browser.get(f"/handovers/{late_id}/tasks").status_code == 404


# -- the notice to the sending unit's leads ----------------------------------------------------

def test_the_leads_are_told_once_per_late_draft(app, world, caplog):
    app.config["SMTP_HOST"] = None
    with app.app_context():
        late_id = late_ward_draft(world)
        ward_draft(world, {"arrival_type": "planned", "arrival_date": day(5)})   # in time
        other = world.user("other_institution_sender")
        elsewhere = drafts.start(other, world.unit("other_institution"), WARD_FORM,
                                 world.unit("ward"), [], "child_welfare_necessary")
        drafts.save(other, elsewhere, {"arrival_type": "planned", "arrival_date": day(5)})

        assert late_drafts.notify_late() == [late_id]
        assert late_drafts.notify_late() == []   # the job's next run tells nobody again
        rows = db.session.execute(select(Delivery).where(Delivery.event == "draft_late")
                                  ).scalars().all()
        assert sorted(row.recipient for row in rows) == [
            "institution.lead2@example.test", "institution.lead@example.test"]
        assert {row.handover_id for row in rows} == {late_id}
        audited = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.late_notified")).scalars().all()
        assert [(e.handover_id, e.unit_id) for e in audited] == [
            (late_id, world.units["institution"].id)]
        assert CHILD not in audited[0].detail
        with caplog.at_level("WARNING"):
            deliveries.deliver_due()
        logged = " ".join(record.getMessage() for record in caplog.records)
        assert f"http://localhost/lead/units/{world.units['institution'].id}" in logged
        assert "A draft has not been sent in time" in logged
        assert CHILD not in logged and "psykiatri" not in logged.lower()


def test_the_notice_leads_to_the_leads_page_listing_the_late_draft(app, world):
    """A lead who is not a sender may not open a draft: their unit's page names the late
    drafts (form, who started it, the date), never the child."""
    with app.app_context():
        late_id = late_ward_draft(world)
        ward_draft(world, {"arrival_type": "planned", "arrival_date": day(5)})   # in time
        starter = world.user("institution_sender").name
    unit_page = f"/lead/units/{world.units['institution'].id}"
    lead = login_as(app.test_client(), app, world.users["institution_lead"])
    page = lead.get(unit_page).get_data(as_text=True)
    listed = page[page.index("Drafts not sent in time"):page.index("members-title")]
    assert "psychiatric ward" in listed and starter in listed
    assert "Late" in listed and shown(today() - timedelta(days=3)) in listed
    assert shown(today() + timedelta(days=5)) not in listed, "a draft in time is not listed"
    assert CHILD not in page
    assert f"/handovers/{late_id}/tasks" not in page, "no link the lead could not open"
    assert lead.get(f"/handovers/{late_id}/tasks").status_code == 404

    with app.app_context():
        db.session.add(support.Membership(user_id=world.users["institution_lead"].id,
                                          unit_id=world.units["institution"].id,
                                          role="sender"))
        db.session.commit()
    assert f"/handovers/{late_id}/tasks" in lead.get(unit_page).get_data(as_text=True), \
        "a lead who is also a sender gets the link"

    other = login_as(app.test_client(), app, world.users["other_institution_lead"])
    assert other.get(unit_page).status_code == 404


def test_the_notice_is_sent_to_no_one_else(app, world):
    with app.app_context():
        late_ward_draft(world)
        late_drafts.notify_late()
        recipients = set(db.session.execute(select(Delivery.recipient)).scalars())
    assert recipients == {"institution.lead@example.test", "institution.lead2@example.test"}


def test_the_command_tells_the_leads_too(app, runner, world):
    with app.app_context():
        late_ward_draft(world)
    result = runner.invoke(cli, args=["notify-overdue"])
    assert result.exit_code == 0 and "1 late draft(s) notified." in result.output
    assert "0 late draft(s)" in runner.invoke(cli, args=["notify-overdue"]).output


def test_a_draft_becomes_late_when_its_day_ends(app, world):
    with app.app_context():
        draft_id = ward_draft(world, {"arrival_type": "planned", "arrival_date": day(0)})
        send_by = db.session.get(Handover, draft_id).send_by_at
        assert late_drafts.notify_late(send_by - timedelta(seconds=1)) == []
        assert late_drafts.notify_late(send_by) == [draft_id]


# -- sending ends it ---------------------------------------------------------------------------

def test_a_sent_draft_is_no_longer_late(app, client, world):
    with app.app_context():
        draft_id = late_ward_draft(world)
        sending.send(world.user("institution_sender"), db.session.get(Handover, draft_id),
                     "late-but-sent")
        db.session.expire_all()
        sent = db.session.get(Handover, draft_id)
        assert sent.status == "sent" and sent.send_by_at is None
        assert late_drafts.send_by(sent) is None and not late_drafts.is_late(sent)
        assert late_drafts.notify_late() == []
    login_as(client, app, world.users["institution_sender"])
    assert "Late" not in client.get("/handovers/outbox").get_data(as_text=True)


def test_a_draft_sent_after_the_notice_is_not_told_about_again(app, world):
    with app.app_context():
        draft_id = late_ward_draft(world)
        assert late_drafts.notify_late() == [draft_id]
        sending.send(world.user("institution_sender"), db.session.get(Handover, draft_id),
                     "told-then-sent")
        assert late_drafts.notify_late(utcnow() + timedelta(days=30)) == []
        notices = db.session.execute(select(Delivery).where(Delivery.event == "draft_late")
                                     ).scalars().all()
        assert len(notices) == 2   # the first notice, to the two leads, and no other


# -- the migration -----------------------------------------------------------------------------

def test_migration_0010_adds_and_removes_the_columns(app, database_backend):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        support.empty_database()
        upgrade(revision="0010")
        columns = {c["name"] for c in inspect(db.engine).get_columns("handovers")}
        assert {"send_by_at", "late_notified_at"} <= columns
        downgrade(revision="0009")
        columns = {c["name"] for c in inspect(db.engine).get_columns("handovers")}
        assert not {"send_by_at", "late_notified_at"} & columns
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("handovers")}
        assert "ix_handovers_send_by_at" not in indexes
        downgrade(revision="base")
        upgrade()
        support.unstamp()   # the next test on this database expects no revision recorded


def test_the_leads_notice_is_not_sent_once_the_draft_went(app, world):
    """Queued, then the draft was sent before the worker came to it: the leads were told it
    had not been sent in time, about a handover already on its way."""
    with app.app_context():
        late_id = late_ward_draft(world)
        assert late_drafts.notify_late() == [late_id]
        db.session.execute(update(Handover).where(Handover.id == late_id)
                           .values(status="sent", sent_at=utcnow()))
        db.session.commit()
        outcomes = {row.status for row in deliveries.deliver_due()
                    if row.event == "draft_late"}
    assert outcomes == {deliveries.DROPPED}


def _without(world, roles):
    from handover.store.models import Membership

    db.session.execute(Membership.__table__.delete().where(
        Membership.unit_id == world.units["institution"].id, Membership.role.in_(roles)))
    db.session.commit()


def test_a_unit_without_a_lead_hears_through_its_senders(app, world):
    """Leads only: a unit without one was marked as told, and its log said so, while nobody
    had been."""
    with app.app_context():
        told = late_ward_draft(world)
        _without(world, ("lead",))
        assert late_drafts.notify_late() == [told]
        rows = db.session.execute(select(Delivery).where(Delivery.event == "draft_late")
                                  ).scalars().all()
        assert [row.recipient for row in rows] == ["institution.sender@example.test"]


def test_a_late_notice_nobody_can_get_is_logged_as_failed(app, world):
    with app.app_context():
        late_ward_draft(world)
        _without(world, ("lead", "sender"))
        late_drafts.notify_late()
        [event] = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.late_notified")).scalars().all()
        assert event.outcome == "failed" and "no_recipient" in event.detail
