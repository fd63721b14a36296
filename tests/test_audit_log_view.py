"""The audit log pages: auditors only, filters, and the per-child report found through the
keyed identity-code hash (the code is posted and never stored or logged)."""

import re
from datetime import UTC, datetime

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    access_for,
    login_as,
    send_handover,
)
from sqlalchemy import select

from handover.services import reading
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, Membership, User

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


OTHER_CHILD = "020594X903P"
SENT = '<td class="govuk-table__cell">Handover sent</td>'
OPENED = '<td class="govuk-table__cell">Opened by the receiving unit</td>'


def _rows(response):
    """The audit table's rows of a page."""
    return _rows_of(response.get_data(as_text=True))


def _rows_of(page):
    return page.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in page else ""


@pytest.mark.parametrize("user_name", ["admin", "receiving_lead", "sending_sender"])
def test_only_auditors_see_the_audit_log(app, world, user_name):
    client = app.test_client()
    login_as(client, app, world.users[user_name])
    assert client.get("/audit/").status_code == 404
    assert client.post("/audit/child-report",
                       data={"identity_code": CHILD_CODE}).status_code == 404


def test_auditor_filters_by_action_handover_unit_and_user(app, client, world):
    with app.app_context():
        first = send_handover(world)
        second = send_handover(world)
        reading.record_view(access_for(world, "receiving_receiver", first),
                            world.user("receiving_receiver"))
    login_as(client, app, world.users["auditor"])
    page = _rows(client.get("/audit/?action=handover.opened"))
    assert "Receiving.Receiver" in page and SENT not in page and OPENED in page
    page = _rows(client.get(f"/audit/?handover={second}"))
    assert SENT in page and OPENED not in page
    page = _rows(client.get("/audit/?user=receiving.receiver"))
    assert "Sending.Sender" not in page
    page = _rows(client.get(f"/audit/?unit={world.units['receiving'].id}"))
    assert OPENED in page and ">Draft created<" not in page
    page = client.get("/audit/?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "No events match" in page


def test_a_day_searched_for_is_that_day_in_finland(app, client, world, monkeypatch):
    """01:30 on 6 December in Helsinki is still 5 December in UTC: the page shows the event
    on the 6th, so searching the 6th finds it and searching the 5th does not."""
    half_past_one = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    monkeypatch.setattr(audit, "utcnow", lambda: half_past_one)
    with app.app_context():
        sent = send_handover(world)
    login_as(client, app, world.users["auditor"])
    on_the_sixth = client.get(f"/audit/?handover={sent}&since=2026-12-06&until=2026-12-06")
    assert SENT in _rows(on_the_sixth)
    assert SENT not in _rows(client.get(f"/audit/?handover={sent}&since=2026-12-05"
                                        "&until=2026-12-05"))
    assert SENT not in _rows(client.get(f"/audit/?handover={sent}&since=2026-12-07"))


@pytest.mark.parametrize("occurred, day, found", [
    # 23:30 on 25 October in Helsinki, after the clocks went back: a day of 25 hours.
    (datetime(2026, 10, 25, 21, 30, tzinfo=UTC), "2026-10-25", True),
    # 00:30 on 30 March in Helsinki, the day after the clocks went forward (23 hours).
    (datetime(2026, 3, 29, 21, 30, tzinfo=UTC), "2026-03-29", False),
    (datetime(2026, 3, 29, 21, 30, tzinfo=UTC), "2026-03-30", True),
])
def test_a_day_the_clocks_turn_is_searched_whole(app, client, world, monkeypatch, occurred,
                                                 day, found):
    """The day searched for ended 24 hours after its midnight: on the last Sunday of October
    the last hour was missed, on the last Sunday of March the next day's first hour added."""
    monkeypatch.setattr(audit, "utcnow", lambda: occurred)
    with app.app_context():
        sent = send_handover(world)
    login_as(client, app, world.users["auditor"])
    page = client.get(f"/audit/?handover={sent}&since={day}&until={day}")
    assert (SENT in _rows(page)) is found


def test_child_report_lists_every_event_on_that_childs_handovers_only(app, client, world):
    with app.app_context():
        mine = send_handover(world)
        other = send_handover(world, child_identity_code=OTHER_CHILD)
        reading.record_view(access_for(world, "receiving_receiver", mine),
                            world.user("receiving_receiver"))
    login_as(client, app, world.users["auditor"])
    response = client.post("/audit/child-report", data={"identity_code": CHILD_CODE.lower()})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"#{mine}:" in page and f"#{other}:" not in page
    for words in ("Draft created", "Handover sent", "Opened by the receiving unit",
                  "Handover read"):
        assert f'<td class="govuk-table__cell">{words}</td>' in page
    assert "Receiving.Receiver" in page
    with app.app_context():
        report = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "audit.child_report")).scalar_one()
        assert CHILD_CODE not in report.detail and report.actor_label == "auditor@example.test"


def test_child_report_with_an_invalid_code_explains(app, client, world):
    login_as(client, app, world.users["auditor"])
    response = client.post("/audit/child-report", data={"identity_code": "010594Y9033"})
    assert response.status_code == 400
    assert "Check the personal identity code" in response.get_data(as_text=True)


def test_action_filter_offers_each_recorded_action_once(app, client, world):
    with app.app_context():
        send_handover(world)
        send_handover(world)
        recorded = sorted(set(db.session.execute(select(AuditEvent.action)).scalars()))
    login_as(client, app, world.users["auditor"])
    page = client.get("/audit/").get_data(as_text=True)
    menu = page.split('name="action"')[1].split("</select>")[0]
    offered = re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)<', menu)
    assert sorted(value for value, _words in offered) == recorded and len(offered) >= 3
    assert ("handover.draft_saved", "Draft saved") in offered, "each option reads as words"
    assert not any("." in words or "_" in words for _value, words in offered)


def _report(client, language="en"):
    client.post("/language", data={"language": language, "next": "/"})
    response = client.post("/audit/child-report", data={"identity_code": CHILD_CODE})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _save_draft_times(world, times, *, then_by=None):
    """A handover of the child saved ``times`` times in a row by the sending unit's sender
    (and once by ``then_by``), then sent: the report finds a child's handovers once sent."""
    from handover.services import drafts, sending

    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                         world.unit("receiving"), [], "lsl_disclosure")
    for _ in range(times):
        drafts.save(sender, draft, lifecycle_support.content())
    if then_by is not None:
        db.session.add(Membership(user_id=then_by, unit_id=world.units["sending"].id,
                                  role="sender"))
        db.session.commit()
        drafts.save(db.session.get(User, then_by), db.session.get(Handover, draft.id),
                    lifecycle_support.content())
    sending.send(sender, db.session.get(Handover, draft.id), "token-" + str(draft.id))
    return draft.id


def test_child_report_names_people_and_units_and_folds_repeated_saves(app, client, world):
    """Seven saves in a row by one person on one draft read as one row, "Draft saved ×7", with
    the person's name and unit's name, never an e-mail address or an action key."""
    with app.app_context():
        draft_id = _save_draft_times(world, 7)
    login_as(client, app, world.users["auditor"])
    page = _report(client)
    rows = _rows_of(page)
    assert "Draft saved ×7" in rows and rows.count("Draft saved") == 1
    assert "Sending.Sender" in rows and "Sending unit" in rows and f"#{draft_id}" in rows
    assert "@example.test" not in rows
    main = page.split('<main', 1)[1]
    assert not re.search(r"handover\.[a-z_]+", main) and "lifecycle_test" not in main
    assert f"#{draft_id}: Test form" in page


def test_child_report_does_not_fold_saves_by_different_people(app, client, world):
    with app.app_context():
        _save_draft_times(world, 2, then_by=world.users["sending_lead"].id)
    login_as(client, app, world.users["auditor"])
    rows = _rows_of(_report(client))
    assert "Draft saved ×2" in rows and "Sending.Lead" in rows
    assert rows.count("Draft saved") == 2


def test_child_report_in_finnish_and_swedish(app, client, world):
    with app.app_context():
        _save_draft_times(world, 3)
    login_as(client, app, world.users["auditor"])
    assert "Luonnos tallennettu ×3" in _report(client, "fi")
    assert "Utkast sparat ×3" in _report(client, "sv")


def test_two_people_of_the_same_name_are_told_apart_by_their_address(app, client, world):
    with app.app_context():
        for key in ("sending_sender", "sending_lead"):
            db.session.get(User, world.users[key].id).name = "Maija Meikäläinen"
        db.session.commit()
        _save_draft_times(world, 1, then_by=world.users["sending_lead"].id)
    login_as(client, app, world.users["auditor"])
    rows = _rows_of(_report(client))
    assert "sending.sender@example.test" in rows and "sending.lead@example.test" in rows


def test_child_report_disclosures_name_the_form_sections_and_basis(app, client, world):
    with app.app_context():
        send_handover(world)
    login_as(client, app, world.users["auditor"])
    page = _report(client)
    record = page[page.index("Disclosures of these handovers"):]
    assert "Test form: The child, Placement, Health" in record
    assert "Test form: The child, Placement" in record  # what the copy unit got
    assert "Child Welfare Act, disclosure" in record
    assert "lsl_disclosure" not in record and "lifecycle_test" not in record


def test_an_action_nobody_labels_any_more_reads_as_words(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        audit.record("handover.fax_sent", actor=world.user("sending_sender"), handover_id=hid)
        db.session.commit()
    login_as(client, app, world.users["auditor"])
    assert "Fax sent (handover)" in _rows_of(_report(client))
    page = client.get("/audit/").get_data(as_text=True)
    assert "Fax sent (handover)" in _rows(client.get("/audit/")) and "handover.fax_sent</" \
        not in page
