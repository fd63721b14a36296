"""Issue 14 for nurses, teachers and daycare directors, through the web pages: the inbox row
says when the handover arrived, how urgent it is, by when to acknowledge it, whether it is
unread and which case hides where the child lives (never where); filling the ward's receipt
reply acknowledges the handover in the same step, with the nurse's name and today's date filled
in; nobody acknowledges through a reply who could not press the button."""

import re
import secrets
from types import SimpleNamespace

import lifecycle_support
import pytest
from formdef_samples import every_type, field
from lifecycle_support import handover, login_as
from sqlalchemy import func, select

from handover.cli.demo_handovers import ward_content
from handover.formdefs.content import today
from handover.formdefs.validation import check_definition
from handover.plugins.manager import registry
from handover.services import LifecycleError, drafts, replies, sending
from handover.services.policy import COPY, RECEIVING, HandoverAccess
from handover.store.database import db
from handover.store.models import AuditEvent, Reply

app_config = lifecycle_support.app_config
world = lifecycle_support.world

WARD_FORM = "psychiatric_ward_preinfo"
KINDS = ("child_welfare_institution", "psychiatric_ward", "child_welfare_social_work")
NON_DISCLOSURE = "Non-disclosure marking"
HIDDEN_PLACEMENT = "Placement hidden from parents (Child Welfare Act, s. 62)"


def send_ward_form(world, **overrides):
    """The ward form, filled as the demo fills it, from the world's institution to its ward
    with a copy to its social work. Needs an app context; returns the handover's id."""
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), WARD_FORM, world.unit("receiving"),
                         [world.unit("copy")], "child_welfare_necessary")
    drafts.save(sender, draft, {**ward_content(), **overrides})
    return sending.send(sender, draft, secrets.token_urlsafe(16)).id


def sent(app, world, **overrides):
    with app.app_context():
        return send_ward_form(world, **overrides)


def page(client, app, user, path):
    login_as(client, app, user)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def row_of(inbox, handover_id):
    """The inbox's table row of one handover."""
    found = re.search(rf"<tr class=\"govuk-table__row[^\"]*\">(?:(?!</tr>).)*#{handover_id}<"
                      rf"(?:(?!</tr>).)*</tr>", inbox, re.S)
    assert found, handover_id
    return found.group(0)


def cell(row, label):
    found = re.search(rf'data-label="{re.escape(label)}">(.*?)</td>', row, re.S)
    assert found, label
    return re.sub(r"<[^>]+>", " ", found.group(1))


def events(action):
    return db.session.execute(select(func.count()).where(AuditEvent.action == action)).scalar()


def receipt(**overrides):
    return {"received_on": today().isoformat(), "primary_nurse_name": "Tiina Mäkelä",
            "care_meeting_date": today().isoformat(), "acknowledged_by": "Tiina, nurse",
            "legal_basis": "patient_data_necessary", **overrides}


# --- the inbox ------------------------------------------------------------------------------


def test_the_ward_inbox_row_shows_arrival_time_urgency_deadline_and_unread(app, client, world):
    urgent = sent(app, world, arrival_type="emergency")
    planned = sent(app, world, arrival_type="planned")
    nurse = world.users["receiving_receiver"]
    inbox = page(client, app, nurse, "/handovers/inbox")
    urgent_row, planned_row = row_of(inbox, urgent), row_of(inbox, planned)
    assert "Veeti Esimerkki" in cell(urgent_row, "Child")
    assert "Pre-admission information for a child or adolescent psychiatric ward" in cell(
        urgent_row, "Form") and WARD_FORM not in urgent_row
    assert re.search(r"\d{1,2}[:.]\d{2}", cell(urgent_row, "Arrived")), "no time of arrival"
    assert "Urgent" in cell(urgent_row, "Urgency") and "Planned" not in urgent_row
    assert "Planned" in cell(planned_row, "Urgency")
    assert re.search(r"\d", cell(urgent_row, "Acknowledge by"))
    assert "hv-unread" in urgent_row
    client.get(f"/handovers/{urgent}")
    assert "hv-unread" not in row_of(client.get("/handovers/inbox").get_data(as_text=True),
                                     urgent)


def test_the_child_comes_first_name_before_birth_date(app, client, world):
    handover_id = sent(app, world)
    child = cell(row_of(page(client, app, world.users["receiving_receiver"],
                             "/handovers/inbox"), handover_id), "Child")
    assert child.index("Veeti Esimerkki") < child.index("2011")


@pytest.mark.parametrize(("flags", "shown", "not_shown"), [
    ({"non_disclosure": "yes"}, NON_DISCLOSURE, HIDDEN_PLACEMENT),
    ({"location_hidden": "yes"}, HIDDEN_PLACEMENT, NON_DISCLOSURE),
])
@pytest.mark.parametrize("reader", ["receiving_receiver", "copy_receiver", "sending_sender"])
def test_the_hidden_location_tag_names_the_case_and_never_the_place(
        app, client, world, flags, shown, not_shown, reader):
    handover_id = sent(app, world, **flags)
    with app.app_context():
        definition = registry().get(WARD_FORM)
        places = [str(value) for key, value in ward_content().items()
                  if definition.field(key).reveals_location
                  and definition.field(key).type in ("text", "textarea", "phone")]
    assert places, "the demo content names where the child lives"
    path = "/handovers/outbox" if reader == "sending_sender" else "/handovers/inbox"
    listing = page(client, app, world.users[reader], path)
    row = row_of(listing, handover_id)
    assert shown in cell(row, "Child") and not_shown not in row
    assert not any(place in listing for place in places)
    home = page(client, app, world.users[reader], "/")
    assert shown in home and not any(place in home for place in places)


def test_no_tag_when_nothing_is_hidden(app, client, world):
    handover_id = sent(app, world)
    row = row_of(page(client, app, world.users["receiving_receiver"], "/handovers/inbox"),
                 handover_id)
    assert NON_DISCLOSURE not in row and HIDDEN_PLACEMENT not in row


def test_the_home_page_list_shows_urgency_and_arrival_too(app, client, world):
    handover_id = sent(app, world, arrival_type="emergency")
    row = row_of(page(client, app, world.users["receiving_receiver"], "/"), handover_id)
    assert "Urgent" in cell(row, "Urgency")
    assert re.search(r"\d{1,2}[:.]\d{2}", cell(row, "Arrived"))


def test_the_filters_fold_away_until_used(app, client, world):
    sent(app, world)
    nurse = world.users["receiving_receiver"]
    inbox = page(client, app, nurse, "/handovers/inbox")
    assert re.search(r'<details class="govuk-details hv-filters">', inbox)
    assert inbox.index("hv-filters") < inbox.index("<table")
    filtered = client.get("/handovers/inbox?status=sent").get_data(as_text=True)
    assert re.search(r'<details class="govuk-details hv-filters" open>', filtered)
    assert "Veeti Esimerkki" in filtered


def test_a_form_without_urgency_shows_none(app, client, world):
    with app.app_context():
        handover_id = lifecycle_support.send_handover(world)
    row = row_of(page(client, app, world.users["receiving_receiver"], "/handovers/inbox"),
                 handover_id)
    assert "Urgent" not in row and "Planned" not in row


# --- the receipt reply ----------------------------------------------------------------------


def test_the_receipt_reply_comes_with_the_nurses_name_and_todays_date(app, client, world):
    handover_id = sent(app, world)
    nurse = world.users["receiving_receiver"]
    form = page(client, app, nurse, f"/handovers/{handover_id}/reply/ward_receipt")
    with app.app_context():
        name = world.user("receiving_receiver").name
    assert re.search(rf'name="acknowledged_by"[^>]*value="{re.escape(name)}"', form) or \
        re.search(rf'value="{re.escape(name)}"[^>]*name="acknowledged_by"', form)
    day = today()
    received_on = re.search(r'<input[^>]*name="received_on"[^>]*>', form).group(0)
    assert re.search(rf'value="({day.isoformat()}|0?{day.day}\.0?{day.month}\.{day.year})"',
                     received_on), received_on
    assert "Send reply and acknowledge receipt" in form


def test_sending_the_receipt_acknowledges_the_handover_in_one_step(app, client, world):
    handover_id = sent(app, world)
    nurse = world.users["receiving_receiver"]
    login_as(client, app, nurse)
    client.get(f"/handovers/{handover_id}")
    response = client.post(f"/handovers/{handover_id}/reply/ward_receipt", data=receipt())
    assert response.status_code == 302
    assert "Reply sent and receipt acknowledged." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        acknowledged = handover(handover_id)
        assert acknowledged.status == "acknowledged"
        assert acknowledged.acknowledged_by_id == nurse.id
        assert events("handover.acknowledged") == 1 and events("handover.replied") == 1
        assert db.session.execute(select(AuditEvent.actor_id).where(
            AuditEvent.action == "handover.acknowledged")).scalar() == nurse.id
    sender_page = page(client, app, world.users["sending_sender"], f"/handovers/{handover_id}")
    assert re.search(r"<dt>Status</dt><dd>\s*Received", sender_page)
    assert "Tiina Mäkelä" in sender_page
    assert re.search(r"<dt>Received</dt><dd>\d", sender_page)
    # The receipt above the facts names the reply form it was given with and leads to it.
    receipt_box = sender_page[sender_page.index('id="receipt"'):].split("</section>")[0]
    assert "No note was written." not in receipt_box
    link = re.search(r'href="#(reply-\d+)">The ward&#39;s acknowledgement</a>', receipt_box)
    assert link and f'id="{link.group(1)}"' in sender_page


def test_the_receipt_acknowledges_before_a_care_meeting_is_agreed(app, client, world):
    handover_id = sent(app, world, arrival_type="emergency")
    login_as(client, app, world.users["receiving_receiver"])
    response = client.post(f"/handovers/{handover_id}/reply/ward_receipt",
                           data=receipt(care_meeting_date=""))
    assert response.status_code == 302
    with app.app_context():
        assert handover(handover_id).status == "acknowledged"


def test_a_receipt_after_the_button_is_only_a_reply(app, client, world):
    handover_id = sent(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    assert client.post(f"/handovers/{handover_id}/acknowledge",
                       data={"note": ""}).status_code == 302
    form = client.get(f"/handovers/{handover_id}/reply/ward_receipt").get_data(as_text=True)
    assert "Send reply and acknowledge receipt" not in form
    assert client.post(f"/handovers/{handover_id}/reply/ward_receipt",
                       data=receipt()).status_code == 302
    with app.app_context():
        assert events("handover.acknowledged") == 1 and events("handover.replied") == 1
    receipt_box = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    receipt_box = receipt_box[receipt_box.index('id="receipt"'):].split("</section>")[0]
    assert "No note was written." in receipt_box   # acknowledged with the button, before


def test_a_reply_form_that_does_not_acknowledge_leaves_the_handover_awaiting(app, client, world):
    handover_id = sent(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    client.get(f"/handovers/{handover_id}")
    response = client.post(f"/handovers/{handover_id}/reply/ward_discharge", data={
        "discharge_date": today().isoformat(), "follow_up": "Outpatient clinic",
        "ward_contact": "Ward 3", "summary_author": "Tiina", "medication_changes": "None",
        "discharge_warning_signs": "Withdrawal", "legal_basis": "patient_data_necessary"})
    assert response.status_code == 302
    with app.app_context():
        assert handover(handover_id).status == "opened"
        assert events("handover.acknowledged") == 0


def test_a_copy_receiver_cannot_acknowledge_through_the_receipt(app, client, world):
    handover_id = sent(app, world)
    login_as(client, app, world.users["copy_receiver"])
    # The copy unit reads the handover: it is told who answers it, not "not found".
    page = client.get(f"/handovers/{handover_id}/reply/ward_receipt", follow_redirects=True)
    assert "The receiving unit acknowledges it, answers it and closes it." in page.text
    assert client.post(f"/handovers/{handover_id}/reply/ward_receipt",
                       data=receipt()).status_code in (303, 409)
    with app.app_context():
        assert handover(handover_id).status == "sent"
        assert events("handover.acknowledged") == 0 and events("handover.replied") == 0


def test_a_receiver_who_may_reply_but_not_acknowledge_sends_no_receipt(app, world):
    """The reply asks the same capability as the button: without it, nothing is stored."""
    with app.app_context():
        handover_id = send_ward_form(world)
        nurse = world.user("receiving_receiver")
        without = HandoverAccess(handover(handover_id), RECEIVING, world.units["receiving"].id,
                                 frozenset({"read", "reply", "reply_form"}),
                                 frozenset({"view", "reply", "reply_form"}))
        content = {key: value for key, value in receipt().items() if key != "legal_basis"}
        with pytest.raises(LifecycleError):
            replies.add_form_reply(without, nurse, "ward_receipt", content,
                                   "patient_data_necessary")
        assert handover(handover_id).status == "sent"
        assert db.session.execute(select(func.count()).select_from(Reply)).scalar() == 0


def test_every_built_in_receipt_acknowledges_and_prefills(app):
    with app.app_context():
        receipts = {reply.key: reply for definition in registry().forms()
                    for reply in definition.reply_forms}
    for key in ("ward_receipt", "daycare_receipt", "school_receipt", "pre_placement_receipt"):
        assert receipts[key].acknowledges, key
        assert receipts[key].field("received_on").prefill == "today", key
    assert not receipts["ward_discharge"].acknowledges


# --- the definition format ------------------------------------------------------------------


def with_reply(**reply_changes):
    reply = {"key": "answer", "version": 1, "title": {"fi": "V", "sv": "S", "en": "A"},
             "sections": [{"key": "s", "title": {"fi": "O", "sv": "D", "en": "P"},
                           "fields": [field("who"), field("when", "date")]}]}
    reply.update(reply_changes)
    return every_type(reply_forms=[reply])


@pytest.mark.parametrize(("definition", "problem"), [
    (with_reply(acknowledges="yes"), "'acknowledges' must be true or false"),
    (every_type(acknowledges=True), "only a reply form can acknowledge"),
    (with_reply(sections=[{"key": "s", "title": {"fi": "O", "sv": "D", "en": "P"},
                           "fields": [field("when", "date", prefill="user_name")]}]),
     "prefill 'user_name' must be one of"),
    (with_reply(sections=[{"key": "s", "title": {"fi": "O", "sv": "D", "en": "P"},
                           "fields": [field("who", prefill="password")]}]),
     "prefill 'password' must be one of"),
    (every_type(urgency={"field": "story", "urgent": ["x"]}), "must be a choice field"),
    (every_type(urgency={"field": "arrival", "urgent": ["soon"]}), "urgent must list values"),
    (every_type(urgency="arrival"), "must be { field = KEY, urgent = [VALUES] }"),
])
def test_a_wrong_urgency_prefill_or_acknowledges_is_refused(definition, problem):
    problems = check_definition(definition, KINDS)
    assert any(problem in found for found in problems), problems


def test_a_right_urgency_prefill_and_acknowledges_are_accepted():
    definition = with_reply(acknowledges=True, sections=[
        {"key": "s", "title": {"fi": "O", "sv": "D", "en": "P"},
         "fields": [field("who", prefill="user_name"), field("when", "date", prefill="today")]}])
    definition["urgency"] = {"field": "arrival", "urgent": ["emergency"]}
    assert check_definition(definition, KINDS) == []


@pytest.mark.parametrize(("relation", "kind", "urgent"), [
    (RECEIVING, "psychiatric_ward", True),
    (COPY, "child_welfare_social_work", None),   # its copy leaves out the arrival section
])
def test_urgency_is_shown_only_to_a_unit_that_sees_its_section(monkeypatch, relation, kind,
                                                               urgent):
    from handover.formdefs.loader import load_definition
    from handover.services import list_marks

    definition = load_definition(every_type(
        urgency={"field": "arrival", "urgent": ["emergency"]},
        visibility={"copies": {"child_welfare_social_work": ["contacts"]}}), "test")
    monkeypatch.setattr(list_marks, "open_json", lambda *args: {
        "arrival": "emergency", "location_hidden": "yes", "address": "Secret Street 1"})
    row = SimpleNamespace(handover=SimpleNamespace(content=b"sealed"), urgent=None,
                          location_cases=[])
    access = HandoverAccess(row.handover, relation, 7)
    list_marks.mark_urgency_and_location(row, definition, access, "en", {7: kind})
    assert row.urgent is urgent
    assert [key for key, _label in row.location_cases] == ["location_hidden"]
    assert "Secret Street" not in repr(row.location_cases)
