"""The task list a form definition declares (issue 14): ``[[groups]]`` headings, a section's
``requires`` ("cannot start yet"), the check step that waits for the required answers, and
error messages that say what to do, per field, all at once."""

import lifecycle_support
import pytest
from flask_babel import force_locale
from formdef_samples import every_type, field, texts
from lifecycle_support import login_as

from handover.cli.plugins import plugins_group
from handover.formdefs import check_definition, load_definition
from handover.formdefs import content as content_rules
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS
from handover.services import definition_of
from handover.services.sections import (
    CANNOT_START,
    COMPLETED,
    NOT_STARTED,
    next_section,
    ready_to_check,
    section_states,
    task_groups,
)

app_config = lifecycle_support.app_config
world = lifecycle_support.world

BUILT_IN = ("psychiatric_ward_preinfo", "daycare_placed_child", "school_transfer")
SENDER = {"psychiatric_ward_preinfo": "child_welfare_institution",
          "daycare_placed_child": "child_welfare_social_work",
          "school_transfer": "child_welfare_social_work"}


def grouped(**changes):
    """The sample definition with a third section that needs the first, and two groups."""
    raw = every_type(**changes)
    raw["sections"].append({"key": "followup", "title": texts("Follow-up"),
                            "requires": ["basics"],
                            "fields": [field("plan", "textarea", required=True)]})
    raw.setdefault("groups", [
        {"key": "start", "title": texts("Start"), "sections": ["basics", "contacts"]},
        {"key": "later", "title": texts("Later"), "sections": ["followup"]},
    ])
    return raw


def problems_of(raw):
    return check_definition(raw, CORE_UNIT_KINDS)


def test_groups_and_requires_are_accepted_and_read():
    definition = load_definition(grouped())
    assert [g.key for g in definition.groups] == ["start", "later"]
    assert definition.groups[0].title_in("fi") == "Start (fi)"
    assert definition.sections[2].requires == ("basics",)


def test_a_definition_without_the_new_keys_still_loads_with_one_untitled_run():
    definition = load_definition(every_type())
    states = section_states(definition, {}, None)
    runs = task_groups(definition, states)
    assert len(runs) == 1 and runs[0].group is None and len(runs[0].states) == 2


@pytest.mark.parametrize(("change", "problem"), [
    (lambda raw: raw["sections"][2].update(requires=["nowhere"]), "unknown section 'nowhere'"),
    (lambda raw: raw["sections"][2].update(requires=["followup"]), "cannot require itself"),
    (lambda raw: raw["sections"][2].update(requires="basics"), "must be a list of section keys"),
    (lambda raw: raw["sections"][0].update(requires=["followup"]), "go round in a circle"),
    (lambda raw: raw["sections"][2].update(requires=["contacts"]), "has no required field"),
    (lambda raw: raw["groups"][1]["sections"].append("basics"), "already in group 'start'"),
    (lambda raw: raw["groups"][1]["sections"].append("elsewhere"), "unknown section"),
    (lambda raw: raw["groups"].__setitem__(0, {**raw["groups"][0],
                                               "sections": ["basics", "followup"]})
     or raw["groups"].__setitem__(1, {**raw["groups"][1], "sections": ["contacts"]}),
     "must follow each other"),
    (lambda raw: raw["groups"][0].pop("title"), "title: is missing"),
    (lambda raw: raw["groups"][0].update(colour="red"), "unknown key 'colour'"),
    (lambda raw: raw["sections"][0]["fields"][1].update(required_message=texts("Say it")),
     "'required_message' only belongs to a field with required = true"),
    (lambda raw: raw["sections"][0]["fields"][0].update(required_message={"fi": "Kirjoita"}),
     "required_message: 'sv' text is missing"),
])
def test_a_wrong_task_list_key_is_named_with_its_place(change, problem):
    raw = grouped()
    change(raw)
    found = problems_of(raw)
    assert any(problem in line for line in found), found


def test_plugins_check_names_a_wrong_requires(runner, tmp_path):
    path = tmp_path / "form.toml"
    path.write_text(
        'key = "f"\nversion = 1\ntitle = { fi = "F", sv = "F", en = "F" }\n'
        '[[groups]]\nkey = "all"\ntitle = { fi = "K", sv = "K", en = "K" }\n'
        'sections = ["a"]\n'
        '[[sections]]\nkey = "a"\ntitle = { fi = "A", sv = "A", en = "A" }\n'
        'requires = ["b"]\n'
        '[[sections.fields]]\nkey = "x"\ntype = "text"\n'
        'label = { fi = "X", sv = "X", en = "X" }\n')
    result = runner.invoke(plugins_group, ["check", str(path)])
    assert result.exit_code == 1
    assert "sections[0] (key 'a').requires: unknown section 'b'" in result.output


def test_a_section_cannot_start_until_the_section_it_requires_is_completed():
    definition = load_definition(grouped())
    states = {s.section.key: s for s in section_states(definition, {}, None)}
    assert states["followup"].state == CANNOT_START
    assert [s.key for s in states["followup"].waiting_for] == ["basics"]
    assert not ready_to_check(list(states.values()))
    done = {"name": "Testi", "arrival": "planned"}
    states = section_states(definition, done, None)
    assert {s.section.key: s.state for s in states}["followup"] == NOT_STARTED
    assert not ready_to_check(states), "the follow-up's plan is required"
    states = section_states(definition, {**done, "plan": "Kotiin"}, None)
    assert {s.section.key: s.state for s in states}["followup"] == COMPLETED
    assert ready_to_check(states)


def test_save_and_continue_skips_a_section_that_cannot_start_yet():
    definition = load_definition(grouped())
    states = section_states(definition, {}, None)
    assert next_section(states, "contacts") is None
    states = section_states(definition, {"name": "Testi", "arrival": "planned"}, None)
    assert next_section(states, "contacts").key == "followup"


@pytest.mark.parametrize("form_key", BUILT_IN)
def test_built_in_forms_group_every_section_and_wait_for_the_protection_details(app, form_key):
    with app.app_context():
        definition = definition_of(form_key)
    states = section_states(definition, {}, SENDER[form_key])
    runs = task_groups(definition, states)
    assert all(run.group is not None for run in runs), "every section under a heading"
    assert [run.group.key for run in runs][0] == "basics"
    waiting = [s for s in states if s.state == CANNOT_START]
    assert waiting, "some section waits for another"
    assert all(s.waiting_for for s in waiting)


@pytest.mark.parametrize(("language", "expected"), [
    ("fi", {"child_name": "Kirjoita lapsen nimi",
            "arrival_type": "Valitse, miten lapsi tulee osastolle",
            "arrival_date": "Anna tulopäivä",
            "placement_basis": "Valitse sijoituksen peruste"}),
    ("sv", {"child_name": "Skriv barnets namn",
            "arrival_type": "Välj hur barnet kommer till avdelningen"}),
    ("en", {"child_name": "Enter child's name",
            "arrival_type": "Select how the child comes to the ward",
            "arrival_date": "Enter date of arrival"}),
])
def test_an_empty_required_field_says_what_to_do_in_its_own_words(app, language, expected):
    with app.app_context():
        definition = definition_of("psychiatric_ward_preinfo")
        found = content_rules.problems(definition, {}, "child_welfare_institution", language)
    for key, message in expected.items():
        assert found[key] == [message]
    required = [f.key for f in definition.fields() if f.required and not f.show_if
                and f.type != "group" and f.shown_for("child_welfare_institution")]
    messages = [found[key][0] for key in required]
    assert len(set(messages)) == len(messages), "no two required fields say the same"


def test_the_birth_date_check_shows_beside_the_other_problems(app):
    with app.app_context(), force_locale("en"):
        definition = definition_of("psychiatric_ward_preinfo")
        found = content_rules.problems(
            definition, {"child_identity_code": "010594Y9032", "child_birth_date": "2012-03-14"},
            "child_welfare_institution", "en")
    assert found["child_birth_date"] == [
        "The date of birth does not match the personal identity code."]
    assert "child_name" in found, "reported at once with the missing answers"


# -- the pages -----------------------------------------------------------------------------

def _ward_draft(app, world):
    from handover.services import drafts
    with app.app_context():
        return drafts.start(world.user("sending_sender"), world.unit("sending"),
                            "psychiatric_ward_preinfo", world.unit("receiving"), [],
                            "child_welfare_necessary").id


def test_the_task_list_shows_groups_sections_that_cannot_start_and_the_check_step(
        app, client, world):
    draft_id = _ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft_id}/tasks").get_data(as_text=True)
    assert "1. The child and the decisions" in page and "2. The ward stay" in page
    assert "5. Check and send" in page
    assert page.count("Cannot start yet") == 3, "two sections and the check step"
    assert "Complete first: Non-disclosure and contact restrictions" in page
    assert f'href="/handovers/{draft_id}/sections/ward_contacts"' not in page
    assert f'href="/handovers/{draft_id}/sections/arrival"' in page
    assert f'href="/handovers/{draft_id}/preview"' in page, "what is missing can be seen"


def test_check_answers_lists_every_problem_linked_to_its_section_and_titled_error(
        app, client, world):
    draft_id = _ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    client.post(f"/handovers/{draft_id}/sections/child",
                data={"child_identity_code": "010594Y9032", "child_birth_date": "14.3.2012"})
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    assert "<title>Error:" in page
    assert 'data-module="govuk-error-summary"' in page
    assert (f'href="/handovers/{draft_id}/sections/arrival?check=1#arrival_type">'
            "Type of arrival: Select how the child comes to the ward</a>") in page
    assert "The date of birth does not match the personal identity code." in page
    assert ">Enter child&#39;s name</a>" in page, "the label is not said twice"
    section = client.get(f"/handovers/{draft_id}/sections/arrival?check=1")
    text = section.get_data(as_text=True)
    assert "<title>Error:" in text and "Select how the child comes to the ward" in text
    assert "Enter child" not in text, "only this section's problems"


def test_a_section_page_gives_back_what_it_cannot_keep_with_its_error(app, client, world):
    draft_id = _ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{draft_id}/sections/child",
                           data={"child_name": "Testi Lapsi", "child_birth_date": "31.2.2012",
                                 "continue": "1"})
    assert response.status_code == 200, "the page again, not the next section"
    page = response.get_data(as_text=True)
    assert 'value="31.2.2012"' in page and "<title>Error:" in page
    assert "The date 31.2.2012 does not exist: date of birth" in page
    # An empty required answer is no reason to stay: the section is left in progress.
    response = client.post(f"/handovers/{draft_id}/sections/child",
                           data={"child_name": "", "continue": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/handovers/{draft_id}/sections/guardians")


def test_a_check_across_sections_does_not_hold_up_a_section_but_shows_when_checking(
        app, client, world):
    draft_id = _ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    row = {"guardians-0-guardian_name": "Sanna Esimerkki",
           "guardians-0-guardian_information_right": "limited"}
    response = client.post(f"/handovers/{draft_id}/sections/guardians",
                           data={**row, "continue": "1"})
    assert response.status_code == 302, "the decision is recorded in a later section"
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    assert "sections/guardians?check=1#guardians-0-guardian_information_right" in page
    section = client.get(f"/handovers/{draft_id}/sections/guardians?check=1")
    assert 'id="guardians-0-guardian_information_right-error"' in section.get_data(as_text=True)
