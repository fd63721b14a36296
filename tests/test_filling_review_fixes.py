"""What a reviewer found filling the ward form: a date that cannot be read was emptied while the
page said "saved" (the whole form, the background save, a section page, a group's row), dates
with spaces around them were refused, saved dates came back as 07.12.2026, an empty author date
was not named in the error summary, a section's save emptied another section's rows, and step 2
created a draft without its required legal basis. Each test reads what the user sees."""

import json
import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import FORM_KEY, login_as
from support import count_handovers, page_text, stored_content, summary_lines

from handover.formdefs import content as content_rules
from handover.services import drafts, sending
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

WARD = "psychiatric_ward_preinfo"


@pytest.fixture
def sender(app, client, world):
    """The sending unit's sender, logged in, reading English."""
    return login_as(client, app, world.users["sending_sender"])


def save(app, world, draft_id, **values):
    with app.app_context():
        handover = db.session.get(Handover, draft_id)
        drafts.save(world.user("sending_sender"), handover,
                    {**drafts.content_of(handover), **values})


def input_value(page, field_id):
    """The value an input shows, as the browser reads it."""
    tag = re.search(rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    assert tag, f"no input {field_id}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def error_of(page, field_id):
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', page)
    return unescape(found.group(1)) if found else None


def task_status(page, href):
    """The status the task list shows for the section at ``href``."""
    for item in re.findall(r'<li class="govuk-task-list__item.*?</li>', page, re.S):
        if f'href="{href}"' in item:
            return re.sub(r"<[^>]+>|\s+", " ", item.split("govuk-task-list__status")[1])
    raise AssertionError(f"no task {href}")


BIRTH_DATE_MESSAGE = "Enter date of birth as day.month.year, for example 14.3.2012"
#: A date in the right format that does not exist is said not to exist, on check answers too.
NO_SUCH_BIRTH_DATE = "The date 31.2.2011 does not exist: date of birth"


# -- 1. A date (or number) that cannot be read is kept as typed, never said saved and dropped ----

def test_whole_form_save_keeps_an_impossible_date_as_typed_and_preview_refuses_it(
        app, sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/edit",
                           data={"child_name": "Testi Lapsi", "child_birth_date": "31.2.2011",
                                 "save": "1"}, follow_redirects=True)
    page = page_text(response)
    assert "Draft saved." in page
    assert input_value(page, "child_birth_date") == "31.2.2011", "what was saved is shown"
    again = page_text(sender.get(f"/handovers/{ward_draft}/edit"))
    assert input_value(again, "child_birth_date") == "31.2.2011"

    preview = page_text(sender.get(f"/handovers/{ward_draft}/preview"))
    assert "This handover cannot be sent yet" in preview
    assert any(NO_SUCH_BIRTH_DATE in line for line in summary_lines(preview))
    assert "31.2.2011" in preview, "the answer read back as typed"
    assert f'action="/handovers/{ward_draft}/send"' not in preview


def test_whole_form_preview_shows_the_date_back_with_its_error(app, sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/edit",
                           data={"child_birth_date": "31.2.2011", "preview": "1"})
    assert response.status_code == 400
    page = page_text(response)
    assert input_value(page, "child_birth_date") == "31.2.2011"
    assert error_of(page, "child_birth_date") == "The date 31.2.2011 does not exist: date of birth"
    assert input_value(page_text(sender.get(f"/handovers/{ward_draft}/edit")),
                       "child_birth_date") == "31.2.2011", "and it was saved"


def test_background_save_keeps_what_it_says_it_saved(app, sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/sections/child",
                           data={"child_birth_date": "31.2.2011", "background_save": "1"})
    assert response.status_code == 200 and response.get_json()["saved"] is True
    page = page_text(sender.get(f"/handovers/{ward_draft}/sections/child"))
    assert input_value(page, "child_birth_date") == "31.2.2011"


def test_a_refused_date_replaces_the_earlier_one_as_typed_never_with_nothing(
        app, sender, ward_draft):
    first = sender.post(f"/handovers/{ward_draft}/sections/child",
                        data={"child_name": "Testi Lapsi", "child_birth_date": "14.03.2012",
                              "continue": "1"})
    assert first.status_code == 302
    assert stored_content(app, ward_draft)["child_birth_date"] == "2012-03-14"

    response = sender.post(f"/handovers/{ward_draft}/sections/child",
                           data={"child_name": "Testi Lapsi", "child_birth_date": "14.3.12",
                                 "continue": "1"})
    assert response.status_code == 200, "the page again, with its error"
    page = page_text(response)
    assert error_of(page, "child_birth_date") == BIRTH_DATE_MESSAGE
    assert input_value(page, "child_birth_date") == "14.3.12"
    reloaded = page_text(sender.get(f"/handovers/{ward_draft}/sections/child"))
    assert input_value(reloaded, "child_birth_date") == "14.3.12", "not emptied"
    tasks = page_text(sender.get(f"/handovers/{ward_draft}/tasks"))
    assert "In progress" in task_status(tasks, f"/handovers/{ward_draft}/sections/child"), (
        "a section holding a date to correct is not completed")


def test_a_section_not_on_the_page_keeps_its_unreadable_answer(app, sender, ward_draft):
    sender.post(f"/handovers/{ward_draft}/sections/child",
                data={"child_birth_date": "31.2.2011", "background_save": "1"})
    sender.post(f"/handovers/{ward_draft}/sections/arrival",
                data={"arrival_reason": "Tutkimus", "continue": "1"})
    page = page_text(sender.get(f"/handovers/{ward_draft}/sections/child"))
    assert input_value(page, "child_birth_date") == "31.2.2011"


def test_a_date_in_a_groups_row_is_kept_as_typed(app, sender, ward_draft):
    path = f"/handovers/{ward_draft}/sections/restrictive_measures"
    response = sender.post(path, data={
        "restrictive_measures_used": "yes",
        "restrictive_measure_list-0-measure_type": "isolation",
        "restrictive_measure_list-0-measure_last_date": "31.2.2026", "continue": "1"})
    assert response.status_code == 200
    page = page_text(response)
    row_date = "restrictive_measure_list-0-measure_last_date"
    assert error_of(page, row_date) == "The date 31.2.2026 does not exist: last used on"
    assert input_value(page_text(sender.get(path)), row_date) == "31.2.2026"


def test_a_number_that_cannot_be_read_is_kept_as_typed(app, sender, ward_draft):
    path = f"/handovers/{ward_draft}/sections/feedback_scores"
    page = page_text(sender.post(path, data={"ors_item_1": "seven", "ors_item_2": "Infinity",
                                             "ors_item_3": " 7 ", "continue": "1"}))
    assert error_of(page, "ors_item_1") == "Enter a number."
    assert error_of(page, "ors_item_2") == "Enter a number."
    reloaded = page_text(sender.get(path))
    assert input_value(reloaded, "ors_item_1") == "seven"
    assert input_value(reloaded, "ors_item_2") == "Infinity"
    assert input_value(reloaded, "ors_item_3") == "7"
    assert 'type="number"' not in reloaded, "a number input would post nothing for 'seven'"


def test_a_number_with_a_decimal_comma_is_read(app, world, sender, ward_draft):
    """Finnish and Swedish write 7,5 where English writes 7.5: both are the same number."""
    path = f"/handovers/{ward_draft}/sections/feedback_scores"
    page = page_text(sender.post(path, data={"ors_item_1": "7,5", "ors_item_2": "6.5",
                                             "continue": "1"}))
    assert error_of(page, "ors_item_1") is None
    with app.app_context():
        stored = drafts.content_of(db.session.get(Handover, ward_draft))
    assert (stored["ors_item_1"], stored["ors_item_2"]) == (7.5, 6.5)


def test_the_send_never_takes_a_kept_text_for_a_date(app, world, ward_draft):
    """Text that ISO parsing would read ("20120314") is kept unread and refused all the same."""
    save(app, world, ward_draft, child_birth_date=content_rules.unreadable("20120314"))
    with app.app_context():
        handover = db.session.get(Handover, ward_draft)
        with pytest.raises(drafts.ValidationFailed) as refused:
            sending.send(world.user("sending_sender"), handover, "token-1", language="en")
    assert refused.value.errors["child_birth_date"] == [BIRTH_DATE_MESSAGE]


# -- 2. and 3. Spaces around a date are stripped; dates come back without leading zeros ---------

def test_a_date_with_spaces_around_it_is_read(app, sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/sections/child",
                           data={"child_birth_date": " 14.3.2012 ", "continue": "1"})
    assert response.status_code == 302
    assert stored_content(app, ward_draft)["child_birth_date"] == "2012-03-14"


def test_a_saved_date_comes_back_as_the_hint_writes_it(app, world, sender, ward_draft):
    save(app, world, ward_draft, child_birth_date="2012-03-04", arrival_date="2026-12-07")
    child = page_text(sender.get(f"/handovers/{ward_draft}/sections/child"))
    assert input_value(child, "child_birth_date") == "4.3.2012"
    assert "for example 14.3.2012" in child
    whole = page_text(sender.get(f"/handovers/{ward_draft}/edit"))
    assert input_value(whole, "arrival_date") == "7.12.2026"
    assert "7.12.2026" in page_text(sender.get(f"/handovers/{ward_draft}/preview"))


# -- 4. Every line of an error summary names its field ------------------------------------------

def test_the_empty_author_date_is_named_in_the_summaries(app, sender, ward_draft):
    whole = page_text(sender.post(f"/handovers/{ward_draft}/edit", data={"preview": "1"}))
    wanted = "Date (Completed by): Enter date"
    assert wanted in summary_lines(whole)
    assert "Enter date of arrival" in summary_lines(
        whole), "a label that names its field is not said twice"
    preview = page_text(sender.get(f"/handovers/{ward_draft}/preview"))
    assert wanted in summary_lines(preview)
    section = page_text(sender.get(f"/handovers/{ward_draft}/sections/author?check=1"))
    assert wanted in summary_lines(section)


# -- 5. Step 2 checks its required choices as any page does ------------------------------------

def test_starting_without_a_legal_basis_is_refused_on_the_routing_page(app, sender, world):
    receiver = world.units["receiving"].id
    copy = world.units["copy"].id
    response = sender.post(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}",
                           data={"receiver": str(receiver), "copies": [str(copy)]})
    assert response.status_code == 400
    page = page_text(response)
    assert "<title>Error:" in page
    summary = page[page.index('id="error-summary"'):]
    assert 'href="#legal_basis">Choose the legal basis of the disclosure.</a>' in summary
    assert error_of(page, "legal_basis") == "Choose the legal basis of the disclosure."
    assert re.search(rf'<option[^>]*selected[^>]*value="{receiver}"', page), "receiver kept"
    assert re.search(rf'<input[^>]*\bchecked\b[^>]*value="{copy}"', page), "copy kept"
    assert count_handovers(app) == 0


def test_both_missing_choices_are_said_at_once(app, sender, world):
    response = sender.post(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}", data={})
    page = page_text(response)
    assert response.status_code == 400
    assert error_of(page, "receiver") == "Choose the receiving unit."
    assert error_of(page, "legal_basis") == "Choose the legal basis of the disclosure."


def test_changing_the_routing_cannot_drop_the_legal_basis(app, world, sender):
    with app.app_context():
        draft_id = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                                world.unit("receiving"), [], "lsl_disclosure").id
    response = sender.post(f"/handovers/{draft_id}/routing",
                           data={"receiver": str(world.units["receiving"].id)})
    assert response.status_code == 400
    assert error_of(page_text(response), "legal_basis") == (
        "Choose the legal basis of the disclosure.")
    with app.app_context():
        assert db.session.get(Handover, draft_id).legal_basis == "lsl_disclosure"


def test_check_answers_says_a_missing_legal_basis_and_links_to_the_routing_page(
        app, world, sender):
    with app.app_context():
        draft = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [])
        drafts.save(world.user("sending_sender"), draft, lifecycle_support.content())
        draft_id = draft.id
    page = page_text(sender.get(f"/handovers/{draft_id}/preview"))
    assert "<title>Error:" in page
    assert (f'<a href="/handovers/{draft_id}/routing?check=1#legal_basis">'
            "Choose the legal basis of the disclosure.</a>") in page
    assert f'action="/handovers/{draft_id}/send"' not in page
    # Chosen there, the sender is back on check answers, not on the whole form.
    chosen = sender.post(f"/handovers/{draft_id}/routing?check=1", data={
        "receiver": str(world.units["receiving"].id), "legal_basis": "lsl_disclosure"})
    assert chosen.headers["Location"] == f"/handovers/{draft_id}/preview"
    assert f'action="/handovers/{draft_id}/send"' in page_text(
        sender.get(f"/handovers/{draft_id}/preview"))


# -- Repeating groups of other sections survive a section's save --------------------------------

def test_saving_a_section_keeps_the_rows_of_another_sections_group(app, sender, ward_draft):
    sender.post(f"/handovers/{ward_draft}/sections/guardians",
                data={"guardians-0-guardian_name": "Maija Huoltaja", "continue": "1"})
    sender.post(f"/handovers/{ward_draft}/sections/child",
                data={"child_name": "Testi Lapsi", "background_save": "1"})
    sender.post(f"/handovers/{ward_draft}/sections/child",
                data={"child_name": "Testi Lapsi", "continue": "1"})
    page = page_text(sender.get(f"/handovers/{ward_draft}/sections/guardians"))
    assert input_value(page, "guardians-0-guardian_name") == "Maija Huoltaja"


def test_the_background_save_answer_is_json(app, sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/edit",
                           data={"child_birth_date": "31.2.2011", "background_save": "1"})
    assert json.loads(response.get_data(as_text=True))["saved"] is True
    assert (stored_content(app, ward_draft)["child_birth_date"]
            == content_rules.unreadable("31.2.2011"))


def test_fhir_gives_a_kept_text_as_the_text_typed(app, world, ward_draft):
    """A sending system reading a draft begun on the web gets what was typed, as text."""
    from handover.services import definition_of
    from handover.services.fhir.bundle import questionnaire_response

    with app.app_context():
        response = questionnaire_response(definition_of(WARD), {
            "child_birth_date": content_rules.unreadable("31.2.2011"), "ors_item_1": 7.5})
    answers = {item["linkId"]: item["answer"] for section in response["item"]
               for item in section["item"]}
    assert answers["child_birth_date"] == [{"valueString": "31.2.2011"}]
    assert answers["ors_item_1"] == [{"valueDecimal": 7.5}]
