"""A section the task list calls completed passes the send's check; check answers lists every
problem of a contact-restriction row at once; typing survives the header's language switch and
the back control of a fill page (review of the ward form's sections)."""

import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import login_as
from support import stored_content

from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

SCOPE_MISSING = "Select at least one: What the decision covers"
ENDED = "The decision is no longer in force"


@pytest.fixture
def sender(app, client, world):
    user = login_as(client, app, world.users["sending_sender"])
    client.post("/language", data={"language": "en", "next": "/"})
    return user


def save(app, world, draft_id, **values):
    with app.app_context():
        handover = db.session.get(Handover, draft_id)
        drafts.save(world.user("sending_sender"), handover,
                    {**drafts.content_of(handover), **values})


def ended_row(**values):
    """A contact-restriction decision that ended in 2020."""
    return {"restriction_whom": "Isä", "restriction_scope": [], "restriction_what": "Tapaamiset",
            "restriction_decision_date": "2019-01-01", "restriction_until": "2020-01-01",
            **values}


def task_status(page, section_href):
    for item in re.findall(r'<li class="govuk-task-list__item.*?</li>', page, re.S):
        if f'href="{section_href}"' in item:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item.split(
                "govuk-task-list__status")[1])).strip()
    raise AssertionError(f"no task {section_href}")


def text(response):
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("scope", [[], ["meetings"]])
def test_a_section_with_a_refused_row_is_not_completed(app, client, world, sender, ward_draft,
                                                       scope):
    save(app, world, ward_draft, non_disclosure="no", location_hidden="no",
         contact_restrictions=[ended_row(restriction_scope=scope)])
    page = text(client.get(f"/handovers/{ward_draft}/tasks"))
    href = f"/handovers/{ward_draft}/sections/protection"
    assert "In progress" in task_status(page, href)
    assert re.search(r"0 of \d+ sections completed", page)


def test_a_section_whose_rows_pass_is_completed(app, client, world, sender, ward_draft):
    save(app, world, ward_draft, non_disclosure="no", location_hidden="no",
         contact_restrictions=[ended_row(restriction_scope=["meetings"],
                                         restriction_until="2099-01-01")])
    page = text(client.get(f"/handovers/{ward_draft}/tasks"))
    assert "Completed" in task_status(page, f"/handovers/{ward_draft}/sections/protection")
    assert re.search(r"1 of \d+ sections completed", page)


def test_check_answers_lists_the_rows_missing_answer_and_the_ended_decision_at_once(
        app, client, world, sender, ward_draft):
    save(app, world, ward_draft, non_disclosure="no", location_hidden="no",
         contact_restrictions=[ended_row()])
    page = text(client.get(f"/handovers/{ward_draft}/preview"))
    assert SCOPE_MISSING in page
    assert ENDED in page


def _posted_row(**values):
    return {"non_disclosure": "no", "location_hidden": "no",
            "contact_restrictions-0-restriction_whom": "Isä",
            "contact_restrictions-0-restriction_what": "Tapaamiset",
            "contact_restrictions-0-restriction_decision_date": "1.1.2019",
            "contact_restrictions-0-restriction_until": "1.1.2020", **values}


def test_saving_a_row_left_half_shows_its_missing_answer_at_once(app, client, world, sender,
                                                                 ward_draft):
    answer = client.post(f"/handovers/{ward_draft}/sections/protection",
                         data={**_posted_row(), "continue": "1"})
    assert answer.status_code == 200   # stays on the section, its typing saved
    assert SCOPE_MISSING in text(answer)
    saved = stored_content(app, ward_draft)
    assert saved["contact_restrictions"][0]["restriction_whom"] == "Isä"


def test_an_untouched_required_answer_still_does_not_stop_a_save(app, client, world, sender,
                                                                ward_draft):
    answer = client.post(f"/handovers/{ward_draft}/sections/protection",
                         data={"non_disclosure": "no", "continue": "1"})
    assert answer.status_code == 302


def test_the_language_buttons_of_a_section_page_save_the_typing_first(
        app, client, world, sender, ward_draft):
    href = f"/handovers/{ward_draft}/sections/protection"
    page = text(client.get(href))
    assert re.search(r'<button[^>]*form="section-form"[^>]*name="switch_language"'
                     r'[^>]*value="sv"', page)
    answer = client.post(href, data={
        **_posted_row(), "contact_restrictions-0-restriction_scope": "meetings",
        "contact_restrictions-0-restriction_whom": "Äidinäiti", "switch_language": "sv"})
    assert answer.status_code == 302 and answer.location == href
    shown = text(client.get(href))
    assert '<html lang="sv"' in shown
    assert 'value="Äidinäiti"' in shown


def test_the_language_buttons_of_the_whole_form_save_the_typing_first(
        app, client, world, sender, ward_draft):
    href = f"/handovers/{ward_draft}/edit"
    assert re.search(r'<button[^>]*form="fill-form"[^>]*name="switch_language"',
                     text(client.get(href)))
    answer = client.post(href, data={**_posted_row(), "switch_language": "fi"})
    assert answer.status_code == 302 and answer.location == href
    shown = text(client.get(href))
    assert '<html lang="fi"' in shown and 'value="Isä"' in shown


def test_back_to_the_sections_saves_the_typing(app, client, world, sender, ward_draft):
    href = f"/handovers/{ward_draft}/sections/protection"
    page = text(client.get(href))
    back = re.search(r'<(a|button)[^>]*govuk-back-link[^>]*>', page).group(0)
    assert back.startswith("<button") and 'form="section-form"' in back
    assert 'name="back_to_tasks"' in back
    answer = client.post(href, data={"non_disclosure": "yes", "back_to_tasks": "1"})
    assert answer.status_code == 302 and answer.location.endswith(f"/{ward_draft}/tasks")
    assert stored_content(app, ward_draft)["non_disclosure"] == "yes"


def test_back_to_the_sections_leaves_a_section_with_an_error_and_keeps_it_as_typed(
        app, client, world, sender, ward_draft):
    """Back always leads back: a date that does not exist is kept as typed (and shown with
    its error when the section is opened again), not a reason to hold the user on the page."""
    href = f"/handovers/{ward_draft}/sections/child"
    answer = client.post(href, data={"child_name": "Testi Lapsi",
                                     "child_birth_date": "31.2.2012", "back_to_tasks": "1"})
    assert answer.status_code == 302 and answer.location.endswith(f"/{ward_draft}/tasks")
    page = text(client.get(f"/handovers/{ward_draft}/tasks"))
    assert "In progress" in task_status(page, href)
    again = text(client.get(href))
    assert 'value="31.2.2012"' in again and 'value="Testi Lapsi"' in again


@pytest.mark.parametrize("page, form_id, enter", [("sections/protection", "section-form",
                                                   "continue"),
                                                  ("edit", "fill-form", "save")])
def test_enter_in_a_field_presses_the_pages_own_button_not_a_language(
        app, client, world, sender, ward_draft, page, form_id, enter):
    """A browser sends Enter to the first submit button of the form in the page, and the
    header's language buttons belong to the form: the page's own button comes before them."""
    shown = text(client.get(f"/handovers/{ward_draft}/{page}"))
    form_start = shown.index(f'id="{form_id}"')
    first = next(button for button in re.finditer(r"<button[^>]*>", shown)
                 if f'form="{form_id}"' in button.group(0) or button.start() > form_start)
    assert f'name="{enter}"' in first.group(0)
    assert 'name="switch_language"' not in first.group(0)
