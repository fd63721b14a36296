"""The child's own voice, the people close to the child and whom to call out of hours, in every
form about a placed child:

- "went through this form with the child", with its date;
- the young person's own choice of what their social worker's copy of the ward form shows;
- a "minä itse" part for a child of 3-6 in the daycare form;
- siblings and relatives who matter, with the contact planned (seed 003: the child's close
  network), hidden from copies when the child's whereabouts are protected;
- the social emergency service and the placement's 24/7 number."""

from pathlib import Path

import pytest

from handover.formdefs import content as content_rules
from handover.formdefs import load_definition
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "forms"
EXAMPLE = ROOT / "examples" / "handover-health-check" / "src" / "handover_health_check"
FULL_FORMS = ("psychiatric_ward", "daycare", "school_transfer")


def form(stem):
    return load_definition(FORMS / f"{stem}.toml")


@pytest.mark.parametrize("stem", [*FULL_FORMS, "pre_placement"])
def test_every_form_says_whom_to_call_out_of_hours(stem):
    definition = form(stem)
    emergency = definition.field("emergency_social_service")
    placement = definition.field("placement_phone_24h")
    assert emergency.required and not emergency.reveals_location
    assert placement.reveals_location  # the number can lead to the placement
    assert "sosiaalipäivystys" in emergency.label["fi"].lower()
    assert "socialjour" in emergency.label["sv"].lower()


def test_the_example_health_check_says_whom_to_call_out_of_hours_too():
    definition = load_definition(EXAMPLE / "health_check.toml",
                                 unit_kinds=(*CORE_UNIT_KINDS, "health_service"))
    assert definition.field("emergency_social_service").required
    assert definition.field("placement_phone_24h").reveals_location


@pytest.mark.parametrize("stem", FULL_FORMS)
def test_going_through_the_form_with_the_child_needs_its_date(stem):
    definition = form(stem)
    problems = content_rules.problems(definition, {"form_gone_through_with_child": "yes"},
                                      language="en")
    assert problems["form_gone_through_on"] == [
        "Enter the date the form was gone through with the child, for example 14.3.2026"]
    problems = content_rules.problems(definition, {"form_gone_through_with_child": "no"},
                                      language="en")
    assert "form_gone_through_on" not in problems


@pytest.mark.parametrize("stem", FULL_FORMS)
def test_close_people_are_recorded_with_the_contact_planned_and_hidden_when_protected(stem):
    definition = form(stem)
    close = definition.field("close_people")
    assert close.type == "group" and close.sensitive and close.reveals_location
    assert {"close_name", "close_relation", "close_contact_planned"} <= {
        sub.key for sub in close.fields}
    assert "sibling" in [c.value for c in next(
        sub for sub in close.fields if sub.key == "close_relation").choices]
    for kind in definition.routing.copies:
        assert "close_people" in {s.key for s in definition.visible_sections(kind, True)}, kind


def test_the_young_person_chooses_what_the_social_worker_reads():
    definition = form("psychiatric_ward")
    for_worker = {s.key for s in definition.visible_sections("child_welfare_social_work", True)}
    assert "young_person_shared" in for_worker
    assert "young_person" not in for_worker
    ward = {s.key for s in definition.visible_sections("psychiatric_ward")}
    assert {"young_person", "young_person_shared"} <= ward


def test_a_small_child_tells_about_themselves_in_the_daycare_form():
    definition = form("daycare")
    me = next(s for s in definition.sections if s.key == "me_myself")
    assert me.title == {"fi": "Minä itse", "sv": "Jag själv", "en": "All about me"}
    assert "3–6" in me.description["fi"]
    assert [f.type for f in me.fields][:2] == ["multichoice", "multichoice"]
    assert "me_myself" in {s.key for s in definition.visible_sections("family_care", True)}
