"""A long form filled a section at a time (issue 14): the task list shows each section's state,
a section page saves on "Save and continue" without touching the other sections, and deleting
a draft asks first."""

import re

import lifecycle_support
from lifecycle_support import CHILD_NAME, FORM_KEY, empty_draft, login_as
from support import stored_content

from handover.formdefs import load_definition
from handover.services import drafts
from handover.services.sections import COMPLETED, IN_PROGRESS, NOT_STARTED, section_states
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def test_a_section_is_completed_when_its_required_answers_are_given():
    definition = load_definition(lifecycle_support.PLUGINS / "lifecycle_form.toml")
    states = {s.section.key: s.state for s in section_states(definition, {}, None)}
    assert set(states.values()) == {NOT_STARTED}
    half = {"child_identity_code": "010594Y9032"}
    states = {s.section.key: s for s in section_states(definition, half, None)}
    assert states["child"].state == IN_PROGRESS and states["child"].missing >= 1
    full = {"child_name": CHILD_NAME, "child_identity_code": "010594Y9032",
            "non_disclosure": "no", "location_hidden": "no"}
    states = {s.section.key: s.state for s in section_states(definition, full, None)}
    assert states["child"] == COMPLETED and states["health"] == NOT_STARTED


def test_save_and_continue_keeps_the_other_sections_and_goes_on(app, client, world):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    tasks = client.get(f"/handovers/{draft_id}/tasks").get_data(as_text=True)
    # Three sections and the last step, checking the answers (which cannot start yet).
    assert "govuk-task-list" in tasks and tasks.count("<li class=\"govuk-task-list__item") == 4
    client.post(f"/handovers/{draft_id}/sections/health",
                data={"health_notes": "sleeps with the lamp on"})
    response = client.post(f"/handovers/{draft_id}/sections/child",
                           data={"child_name": CHILD_NAME, "continue": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/handovers/{draft_id}/sections/placement")
    saved = stored_content(app, draft_id)
    assert saved["child_name"] == CHILD_NAME
    assert saved["health_notes"] == "sleeps with the lamp on", "another section's answer kept"
    page = client.get(f"/handovers/{draft_id}/sections/placement").get_data(as_text=True)
    assert "<h1" in page and "child_name" not in page, "only this section's inputs"


def test_a_section_that_does_not_exist_is_404(app, client, world):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    assert client.get(f"/handovers/{draft_id}/sections/nosuch").status_code == 404


def test_another_units_user_cannot_open_a_section(app, client, world):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(f"/handovers/{draft_id}/sections/child").status_code == 404
    assert client.get(f"/handovers/{draft_id}/tasks").status_code == 404


def test_deleting_a_draft_asks_first(app, client, world):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft_id}/discard").get_data(as_text=True)
    assert f'action="/handovers/{draft_id}/discard"' in page and 'method="post"' in page
    with app.app_context():
        assert db.session.get(Handover, draft_id) is not None, "asking deletes nothing"
    edit = client.get(f"/handovers/{draft_id}/edit").get_data(as_text=True)
    assert f'action="/handovers/{draft_id}/discard"' not in edit, "no one-click delete"


def test_check_answers_shows_what_the_copy_unit_gets_and_sending_confirms(app, client, world):
    import re

    from lifecycle_support import content

    with app.app_context():
        draft = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [world.unit("copy")], "lsl_disclosure")
        drafts.save(world.user("sending_sender"), draft, content(location_hidden="yes"))
        draft_id = draft.id
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    copy_row = page.split("Copy unit <span", 1)[1].split("</div>", 1)[0]
    assert "Not shown to this unit:" in copy_row and "Health" in copy_row
    assert "Hidden from this unit to protect where the child lives:" in copy_row
    change = f'href="/handovers/{draft_id}/sections/health?check=1"'
    assert change in page, "a change link per section"
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(f"/handovers/{draft_id}/send", data={"submission_token": token})
    assert response.headers["Location"].endswith(f"/handovers/{draft_id}/sent")
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"#{draft_id}" in confirmation and "Acknowledge by" in confirmation
    assert "withdraw the handover until the receiving unit opens it" in confirmation
    assert CHILD_NAME not in confirmation, "the confirmation shows no content"


def test_a_section_opened_from_check_answers_leads_back_there_when_saved(app, client, world):
    """A problem's link or a "Change" on check answers opens the section; once its answers are
    saved, the page goes back to check answers, not on to the next section."""
    with app.app_context():
        draft_id = drafts.start(world.user("sending_sender"), world.unit("sending"),
                                "psychiatric_ward_preinfo", world.unit("receiving"), [],
                                "child_welfare_necessary").id
    login_as(client, app, world.users["sending_sender"])
    opened = client.get(f"/handovers/{draft_id}/sections/health?check=1").get_data(as_text=True)
    assert f'action="/handovers/{draft_id}/sections/health?check=1"' in opened
    saved = client.post(f"/handovers/{draft_id}/sections/health?check=1",
                        data={"allergies": "pähkinä", "continue": "1"})
    assert saved.headers["Location"] == f"/handovers/{draft_id}/preview"
    # Switching the language on the way keeps the way back.
    switched = client.post(f"/handovers/{draft_id}/sections/health?check=1",
                           data={"allergies": "pähkinä", "switch_language": "sv"})
    assert switched.headers["Location"] == f"/handovers/{draft_id}/sections/health?check=1"
    client.post("/language", data={"language": "en", "next": "/"})
    # Opened from the task list, the same save goes on to the next section.
    plain = client.get(f"/handovers/{draft_id}/sections/health").get_data(as_text=True)
    assert f'action="/handovers/{draft_id}/sections/health"' in plain
    onwards = client.post(f"/handovers/{draft_id}/sections/health",
                          data={"allergies": "pähkinä", "continue": "1"})
    assert "/sections/" in onwards.headers["Location"]
    # "Save and return to the sections" still returns to them.
    back = client.post(f"/handovers/{draft_id}/sections/health?check=1",
                       data={"allergies": "pähkinä", "to_tasks": "1"})
    assert back.headers["Location"] == f"/handovers/{draft_id}/tasks"


def test_a_row_started_by_mistake_is_removed_whole_and_the_rest_is_kept(app, client, world):
    """A row with only a choice made (a radio cannot be unchosen) could not be emptied: the
    section refused to save without a name for a person who should not be there. "Remove"
    takes the row out, keeps everything else typed, saves it, and refuses nothing."""
    with app.app_context():
        draft_id = drafts.start(world.user("sending_sender"), world.unit("sending"),
                                "psychiatric_ward_preinfo", world.unit("receiving"), [],
                                "child_welfare_necessary").id
    login_as(client, app, world.users["sending_sender"])
    typed = {"allergies": "pähkinä",
             "medications-0-medication_dose": "5 mg",          # the row started by mistake
             "medications-1-medication_name": "Melatoniini"}
    refused = client.post(f"/handovers/{draft_id}/sections/health",
                          data={**typed, "continue": "1"})
    assert refused.status_code == 200 and "error-summary" in refused.get_data(as_text=True)
    answer = client.post(f"/handovers/{draft_id}/sections/health",
                         data={**typed, "remove_row": "medications-0"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "error-summary" not in page
    assert "pähkinä" in page and 'value="Melatoniini"' in page and "5 mg" not in page
    assert 'name="remove_row" value="medications-0"' in page
    assert 'name="remove_row" value="medications-1"' not in page, "one row is left"
    add = re.search(r'<button[^>]*name="add_row" value="medications"[^>]*>', page).group(0)
    assert "autofocus" in add and page.count("autofocus") == 1
    saved = stored_content(app, draft_id)
    assert [row["medication_name"] for row in saved["medications"]] == ["Melatoniini"]
    assert "5 mg" not in str(saved)
    assert "Removed: Medication 1." in page, "said where the row was, for a screen reader too"
    # A group on another section's page is not the one the person sees: nothing is removed.
    client.post(f"/handovers/{draft_id}/sections/arrival",
                data={"arrival_date": "", "remove_row": "medications-0"})
    saved = stored_content(app, draft_id)
    assert [row["medication_name"] for row in saved["medications"]] == ["Melatoniini"]


def test_a_preview_outside_any_form_offers_no_row_buttons(app, world):
    """The administrator's preview of an uploaded form renders the fill page's fields outside
    any form: buttons that add or remove rows would do nothing there."""
    from flask import render_template_string

    from handover.plugins import manager as plugin_manager
    from handover.web.formbuilder import build_form

    page = ('{% from "macros/formdef.html" import render_definition_form %}'
            '{{ render_definition_form(form, definition, "en", rows_editable=editable) }}')
    with app.test_request_context("/"):
        definition = plugin_manager.registry().get("psychiatric_ward_preinfo")
        form = build_form(definition, "en", "child_welfare_institution")
        filled = render_template_string(page, form=form, definition=definition, editable=True)
        shown = render_template_string(page, form=form, definition=definition, editable=False)
    assert 'name="add_row"' in filled and 'name="remove_row"' in filled
    assert 'name="add_row"' not in shown and 'name="remove_row"' not in shown
    assert 'name="medications-0-medication_name"' in shown


def test_adding_a_row_keeps_the_typing_and_returns_to_the_new_row(app, client, world):
    with app.app_context():
        draft_id = drafts.start(world.user("sending_sender"), world.unit("sending"),
                                "psychiatric_ward_preinfo", world.unit("receiving"), [],
                                "child_welfare_necessary").id
    login_as(client, app, world.users["sending_sender"])
    page = client.post(f"/handovers/{draft_id}/sections/health", data={
        "allergies": "pähkinä", "medications-0-medication_name": "Melatoniini",
        "add_row": "medications"}).get_data(as_text=True)
    assert "pähkinä" in page and 'value="Melatoniini"' in page, "nothing typed is lost"
    new_input = re.search(r'<input[^>]*id="medications-1-medication_name"[^>]*>', page)
    assert new_input and "autofocus" in new_input.group(0)
    assert page.count("autofocus") == 1
