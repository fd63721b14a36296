"""A sender who leaves a required date empty is told it is required, in the words every other
required field uses ("Enter date of arrival"), on the whole form, a section page, the
check-answers page and in the JSON API's answer; only a date typed that cannot be read gets
the format ("… as day.month.year, for example 14.3.2012"). An empty optional date is no error."""

import re
from html import unescape

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from flask_babel import force_locale
from lifecycle_support import login_as
from support import page_text, summary_lines

from handover.cli.demo_handovers import ward_content
from handover.formdefs import content as content_rules
from handover.formdefs.model import Field
from handover.services import definition_of

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api
ward_draft = lifecycle_support.ward_draft

WARD = "psychiatric_ward_preinfo"
EMPTY_ARRIVAL = "Enter date of arrival"
UNREADABLE_ARRIVAL = "Enter date of arrival as day.month.year, for example 14.3.2012"
#: The API takes dates as JSON text in ISO form, and asks for that form.
UNREADABLE_ARRIVAL_API = "Enter date of arrival as year-month-day, for example 2026-12-10"


@pytest.fixture
def sender(app, client, world):
    """The sending unit's sender, logged in, reading English."""
    return login_as(client, app, world.users["sending_sender"])


def error_of(page, field_id):
    """The message shown beside the input ``field_id``; None when there is none."""
    found = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</', page, re.S)
    if not found:
        return None
    return unescape(re.sub(r"<[^>]+>|Error:", "", found.group(1))).strip()


@pytest.mark.parametrize("typed", ["", "   "])
def test_the_whole_form_says_an_empty_required_date_is_required(sender, ward_draft, typed):
    page = page_text(sender.post(f"/handovers/{ward_draft}/edit",
                                 data={"arrival_date": typed, "preview": "1"}))
    assert error_of(page, "arrival_date") == EMPTY_ARRIVAL
    assert EMPTY_ARRIVAL in summary_lines(page)
    assert UNREADABLE_ARRIVAL not in page
    assert error_of(page, "child_name") == "Enter child's name", "the same wording"


def test_the_whole_form_gives_the_format_for_a_date_that_cannot_be_read(sender, ward_draft):
    page = page_text(sender.post(f"/handovers/{ward_draft}/edit",
                                 data={"arrival_date": "31/2/2026", "preview": "1"}))
    assert error_of(page, "arrival_date") == UNREADABLE_ARRIVAL
    assert UNREADABLE_ARRIVAL in summary_lines(page)


def test_a_section_page_says_an_empty_required_date_is_required(sender, ward_draft):
    path = f"/handovers/{ward_draft}/sections/arrival"
    # An empty answer lets the sender move on; checking the section says what is missing.
    assert sender.post(path, data={"arrival_date": "", "continue": "1"}).status_code == 302
    page = page_text(sender.get(f"{path}?check=1"))
    assert error_of(page, "arrival_date") == EMPTY_ARRIVAL
    assert EMPTY_ARRIVAL in summary_lines(page)


def test_a_section_page_gives_the_format_for_a_date_that_cannot_be_read(sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/sections/arrival",
                           data={"arrival_date": "31/2/2026", "continue": "1"})
    assert response.status_code == 200, "the page again, with what cannot be kept"
    assert error_of(page_text(response), "arrival_date") == UNREADABLE_ARRIVAL


def test_check_answers_says_an_empty_required_date_is_required(sender, ward_draft):
    lines = summary_lines(page_text(sender.get(f"/handovers/{ward_draft}/preview")))
    assert EMPTY_ARRIVAL in lines
    assert not any("as day.month.year" in line for line in lines), lines


def test_an_empty_optional_date_passes_a_section_page(sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/sections/feedback_scores",
                           data={"ors_date": "", "continue": "1"})
    assert response.status_code == 302
    page = page_text(sender.get(f"/handovers/{ward_draft}/sections/feedback_scores?check=1"))
    assert error_of(page, "ors_date") is None


@pytest.mark.parametrize(("arrival_date", "message"), [
    (None, EMPTY_ARRIVAL),
    ("", EMPTY_ARRIVAL),
    ("  ", EMPTY_ARRIVAL),
    ("31.2.2026", UNREADABLE_ARRIVAL_API),
])
def test_the_api_says_an_empty_required_date_is_required(client, world, api, arrival_date,
                                                         message):
    filled = {**ward_content(), "arrival_date": arrival_date}
    body = {"form_key": WARD, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "child_welfare_necessary", "content": filled}
    answer = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert answer.status_code == 422, answer.json
    errors = {error["path"]: error["message"] for error in answer.json["errors"]}
    assert errors == {"content.arrival_date": message}


@pytest.mark.parametrize(("language", "empty", "unreadable"), [
    ("fi", "Anna tulopäivä", "Anna tulopäivä muodossa p.k.vvvv, esimerkiksi 14.3.2012"),
    ("sv", "Ange ankomstdag", "Ange ankomstdag i formen d.m.åååå, till exempel 14.3.2012"),
])
def test_the_rules_say_required_and_format_apart_in_every_language(app, language, empty,
                                                                   unreadable):
    with app.app_context():
        definition = definition_of(WARD)
        sender_kind = "child_welfare_institution"
        missing = content_rules.problems(definition, {**ward_content(), "arrival_date": None},
                                         sender_kind, language)
        wrong = content_rules.problems(
            definition, {**ward_content(), "arrival_date": content_rules.unreadable("31.2.")},
            sender_kind, language)
        optional = content_rules.problems(definition, {**ward_content(), "ors_date": ""},
                                          sender_kind, language)
    assert missing == {"arrival_date": [empty]}
    assert wrong == {"arrival_date": [unreadable]}
    assert optional == {}


def test_a_dates_own_required_message_is_said_of_an_empty_answer_only(app):
    """A definition's ``required_message`` says what to do with nothing typed; a date typed
    that cannot be read still gets the format, which is what the sender must fix."""
    arrival = Field(key="arrival_date", type="date", label={"en": "Date of arrival"},
                    required=True, required_message={"en": "Give the day the child arrives"})
    with app.test_request_context(), force_locale("en"):
        empty = content_rules.field_problems(arrival, "", {})
        unreadable = content_rules.field_problems(
            arrival, content_rules.unreadable("31/2/2026"), {})
        assert [str(message) for message in empty] == ["Give the day the child arrives"]
        assert [str(message) for message in unreadable] == [UNREADABLE_ARRIVAL]
