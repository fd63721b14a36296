"""A repeating group's own problems are shown where the user corrects them: a reviewer filled
the daycare form without a row of "May bring and fetch the child" (required: at least one row)
and pressed Preview; the page answered 400 with "Check the highlighted answers" and nothing
highlighted, no error summary, and the section page reached from check answers showed nothing
either. Too few rows, too many, and a plugin's message about a group are now in the error
summary, linked to the group, and beside the group's heading; a group that needs a row says
"(required)" as any required field does. Each test reads what the user sees."""

import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import login_as
from support import create_unit, page_text, stored_content
from werkzeug.datastructures import MultiDict

from handover.services import definition_of, drafts
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

DAYCARE = "daycare_placed_child"
WARD = "psychiatric_ward_preinfo"
SENDER_KIND = "child_welfare_social_work"
GROUP_LABEL = "May bring and fetch the child"
TOO_FEW = "Fill in at least 1 row."
TOO_MANY = "Fill in at most 10 rows."
#: Values the cross-field rules accept: the birth date agrees with the temporary-range code and
#: nothing is published of the child.
FIXED = {"child_identity_code": "010516B903X", "child_birth_date": "1.5.2016",
         "publication_permission": "not_allowed", "non_disclosure": "no",
         "location_hidden": "no"}


def _value(field):
    if field.key in FIXED:
        return FIXED[field.key]
    if field.type == "date":
        return "5.1.2024"
    if field.type == "yesno":
        return "no"
    if field.type in ("choice", "multichoice"):
        return field.choices[0].value
    if field.type == "number":
        return "7"
    if field.type == "phone":
        return "040 123 4567"
    if field.type == "email":
        return "someone@example.test"
    return f"{field.key.replace('_', ' ')} typed"


def filled_without_rows(app, **extra):
    """Every field of the daycare form a social worker fills, each group without a row."""
    with app.app_context():
        definition = definition_of(DAYCARE)
    data = MultiDict()
    for field in definition.fields():
        if field.shown_for(SENDER_KIND) and field.type != "group":
            data.add(field.key, _value(field))
    for key, value in extra.items():
        data.add(key, value)
    return data


def rows(count):
    return {f"may_fetch-{index}-fetch_name": f"Hakija {index}" for index in range(count)}


@pytest.fixture
def daycare_draft(app, world):
    """The id of an empty draft of the daycare form from social work to a daycare."""
    with app.app_context():
        daycare = create_unit("Daycare unit", kind="daycare", email="")
        return drafts.start(world.user("copy_sender"), world.unit("copy"), DAYCARE,
                            daycare, [], "child_welfare_necessary").id


@pytest.fixture
def social_worker(app, client, world):
    """The social worker (the copy unit of the lifecycle world), logged in, reading English."""
    return login_as(client, app, world.users["copy_sender"])


def summary(page):
    """(href or None, text) of each line of the page's error summary."""
    start = page.index('id="error-summary"')
    items = re.findall(r"<li>(.*?)</li>", page[start:page.index("</ul>", start)], re.S)
    found = []
    for item in items:
        link = re.search(r'href="([^"]*)"', item)
        found.append((unescape(link.group(1)) if link else None,
                      unescape(re.sub(r"<[^>]+>", "", item)).strip()))
    return found


def error_of(page, field_id):
    found = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def group_heading(page, group_id):
    """The text of the legend of the group's fieldset."""
    found = re.search(rf'<fieldset[^>]*\bid="{re.escape(group_id)}"[^>]*>\s*<legend[^>]*>(.*?)'
                      r"</legend>", page, re.S)
    assert found, f"no fieldset {group_id}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", found.group(1)))).strip()


def assert_group_error_shown(page, group_id, label, message):
    """In the summary, linked to the group; the link reaches an element of the page; and the
    message beside the group, which its fieldset is described by."""
    assert (f"#{group_id}", f"{label}: {message}") in summary(page)
    assert re.search(rf'<fieldset[^>]*\bid="{group_id}"[^>]*aria-describedby="[^"]*'
                     rf'{group_id}-error', page), "the group's fieldset names its message"
    assert error_of(page, group_id) == message
    assert "<title>Error:" in page


# -- Too few rows --------------------------------------------------------------------------------

def test_whole_form_preview_without_a_required_row_says_so_beside_the_group(
        app, social_worker, daycare_draft):
    response = social_worker.post(f"/handovers/{daycare_draft}/edit",
                                  data=filled_without_rows(app, preview="1"))
    assert response.status_code == 400
    page = page_text(response)
    assert summary(page) == [("#may_fetch", f"{GROUP_LABEL}: {TOO_FEW}")], (
        "the only problem, and nothing else")
    assert_group_error_shown(page, "may_fetch", GROUP_LABEL, TOO_FEW)


def test_the_check_answers_link_opens_the_section_with_the_groups_error(
        app, social_worker, daycare_draft):
    social_worker.post(f"/handovers/{daycare_draft}/edit", data=filled_without_rows(app))
    preview = page_text(social_worker.get(f"/handovers/{daycare_draft}/preview"))
    link = f"/handovers/{daycare_draft}/sections/pickup?check=1#may_fetch"
    assert (link, f"{GROUP_LABEL}: {TOO_FEW}") in summary(preview)

    page = page_text(social_worker.get(link))
    assert summary(page) == [("#may_fetch", f"{GROUP_LABEL}: {TOO_FEW}")]
    assert_group_error_shown(page, "may_fetch", GROUP_LABEL, TOO_FEW)


def test_a_section_save_without_the_row_goes_on_as_for_any_missing_answer(
        app, social_worker, daycare_draft):
    """A section is saved half filled and left "in progress"; the missing row is said on the
    check-answers page and on the section page reached from it."""
    path = f"/handovers/{daycare_draft}/sections/pickup"
    response = social_worker.post(path, data={"may_not_fetch-0-no_fetch_name": "",
                                              "continue": "1"})
    assert response.status_code == 302
    page = page_text(social_worker.get(path))
    assert 'id="error-summary"' not in page and error_of(page, "may_fetch") is None


def test_a_background_save_without_the_row_is_saved(app, social_worker, daycare_draft):
    for path in (f"/handovers/{daycare_draft}/sections/pickup",
                 f"/handovers/{daycare_draft}/edit"):
        response = social_worker.post(path, data={"may_fetch-0-fetch_name": "",
                                                  "background_save": "1"})
        assert response.status_code == 200 and response.get_json()["saved"] is True


def test_a_row_clears_the_error(app, social_worker, daycare_draft):
    response = social_worker.post(f"/handovers/{daycare_draft}/edit",
                                  data=filled_without_rows(app, preview="1", **rows(1)))
    assert response.status_code == 302
    assert stored_content(app, daycare_draft)["may_fetch"][0]["fetch_name"] == "Hakija 0"


# -- Too many rows -------------------------------------------------------------------------------

def test_whole_form_preview_with_too_many_rows_keeps_them_all_and_says_so(
        app, social_worker, daycare_draft):
    response = social_worker.post(f"/handovers/{daycare_draft}/edit",
                                  data=filled_without_rows(app, preview="1", **rows(11)))
    assert response.status_code == 400
    page = page_text(response)
    assert summary(page) == [("#may_fetch", f"{GROUP_LABEL}: {TOO_MANY}")]
    assert_group_error_shown(page, "may_fetch", GROUP_LABEL, TOO_MANY)
    assert 'value="Hakija 10"' in page, "no row typed is dropped"
    assert len(stored_content(app, daycare_draft)["may_fetch"]) == 11
    assert 'name="add_row" value="may_fetch"' not in page, "no more rows offered"


def test_a_section_save_with_too_many_rows_stays_on_the_page_with_the_error(
        app, social_worker, daycare_draft):
    path = f"/handovers/{daycare_draft}/sections/pickup"
    response = social_worker.post(path, data={**rows(11), "continue": "1"})
    assert response.status_code == 200
    page = page_text(response)
    assert summary(page) == [("#may_fetch", f"{GROUP_LABEL}: {TOO_MANY}")]
    assert_group_error_shown(page, "may_fetch", GROUP_LABEL, TOO_MANY)


def test_a_draft_stored_with_too_many_rows_opens_and_says_so(
        app, world, social_worker, daycare_draft):
    """Rows saved by another client (or under a definition that allowed more) are shown, all
    of them, with the message, never a server error."""
    with app.app_context():
        handover = db.session.get(Handover, daycare_draft)
        drafts.save(world.user("copy_sender"), handover,
                    {"may_fetch": [{"fetch_name": f"Hakija {i}"} for i in range(12)]})
    whole = page_text(social_worker.get(f"/handovers/{daycare_draft}/edit"))
    assert 'value="Hakija 11"' in whole
    section = page_text(social_worker.get(
        f"/handovers/{daycare_draft}/sections/pickup?check=1"))
    assert ("#may_fetch", f"{GROUP_LABEL}: {TOO_MANY}") in summary(section)
    assert error_of(section, "may_fetch") == TOO_MANY


# -- A plugin's message about a group ------------------------------------------------------------

def _plugins_message(app):
    from handover.plugins.manager import call_hook

    with app.app_context():
        answers = call_hook("validate_form", form_key=WARD, form_version=1, language="en",
                            content={"restrictive_measures_used": "yes"})
    return next(str(message) for answer in answers
                for message in answer.get("restrictive_measure_list", []))


def test_a_plugins_message_about_a_group_is_shown_at_the_group(app, world, client, ward_draft):
    """The ward plugin asks for the measures' rows when measures were used: its message names
    the group, not one of its inputs."""
    message = _plugins_message(app)
    sender = login_as(client, app, world.users["sending_sender"])
    response = sender.post(f"/handovers/{ward_draft}/edit",
                           data={"restrictive_measures_used": "yes", "preview": "1"})
    assert response.status_code == 400
    page = page_text(response)
    assert_group_error_shown(page, "restrictive_measure_list", "Restrictive measures used",
                             message)

    section = page_text(sender.get(
        f"/handovers/{ward_draft}/sections/restrictive_measures?check=1"))
    assert_group_error_shown(section, "restrictive_measure_list", "Restrictive measures used",
                             message)


# -- "(required)" on a group that needs a row ---------------------------------------------------

def test_a_group_that_needs_a_row_says_required_and_an_optional_one_does_not(
        app, social_worker, daycare_draft):
    for path in (f"/handovers/{daycare_draft}/edit",
                 f"/handovers/{daycare_draft}/sections/pickup"):
        page = page_text(social_worker.get(path))
        assert group_heading(page, "may_fetch") == f"{GROUP_LABEL} (required)"
        assert "(required)" not in group_heading(page, "may_not_fetch")


def test_a_conditional_group_is_required_only_while_its_condition_holds(app):
    """A group with ``min_rows`` and ``show_if``: "(required)" and "at least 1 row" only when
    the answer it depends on asks for rows."""
    from flask import render_template_string
    from flask_babel import force_locale
    from formdef_samples import every_type, field

    from handover.formdefs import load_definition
    from handover.web.formbuilder import build_form

    raw = every_type()
    raw["sections"][1]["fields"].append(field(
        "visits", "group", min_rows=1, show_if={"field": "arrival", "equals": "emergency"},
        fields=[field("visitor", required=True)]))
    definition = load_definition(raw)
    template = ('{% from "macros/formdef.html" import render_definition_form %}'
                "{{ render_definition_form(form, definition, language) }}")
    shown = {}
    for arrival in ("planned", "emergency"):
        formdata = MultiDict({"name": "Testi Lapsi", "arrival": arrival,
                              "emergency_reason": "Syy"})
        with app.test_request_context("/", method="POST"), force_locale("en"):
            form = build_form(definition, "en", sender_kind="child_welfare_institution",
                              formdata=formdata)
            form.validate()
            shown[arrival] = render_template_string(template, form=form,
                                                    definition=definition, language="en")
    assert group_heading(shown["planned"], "visits") == "Visits"
    assert error_of(shown["planned"], "visits") is None
    assert group_heading(shown["emergency"], "visits") == "Visits (required)"
    assert error_of(shown["emergency"], "visits") == TOO_FEW
    assert ("#visits", f"Visits: {TOO_FEW}") in summary(shown["emergency"])
