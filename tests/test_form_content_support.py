"""The basic-education support model of 1 August 2025 as the school and daycare forms ask it:
the statutory group-level forms of support and the pupil-specific measures as choices, and a
warning (never a refusal) when the old three-tier model is chosen for a school start after the
act's transition period; and each form's timing, shown to the sender and giving a due date."""

import re
from datetime import date
from pathlib import Path

import pytest
from lifecycle_support import login_as

from handover.cli import cli, demo_handovers
from handover.formdefs import load_definition
from handover.formdefs.notices import warnings_of
from handover.services import accounts, drafts
from handover.store.database import db

FORMS = Path(__file__).resolve().parent.parent / "forms"
GROUP_FORMS = ["remedial_teaching", "language_of_instruction_support", "special_teacher_in_class"]


def school():
    return load_definition(FORMS / "school_transfer.toml")


def test_group_level_support_is_the_statutory_forms_and_small_groups_are_pupil_specific():
    definition = school()
    group = definition.field("group_support_forms")
    pupil = definition.field("pupil_support_measures")
    assert group.type == pupil.type == "multichoice"
    assert [c.value for c in group.choices] == GROUP_FORMS
    assert group.label["fi"] == "Ryhmäkohtaiset tukimuodot"
    assert group.label["sv"] == "Gruppspecifika stödformer"
    assert {"small_group", "special_class", "individualised_syllabus"} <= {
        c.value for c in pupil.choices}
    every_text = str([(f.label, f.help, [c.label for c in f.choices])
                      for f in definition.fields()])
    assert "samanaikaisopetus" not in every_text.lower()
    assert "pienryhmä" not in str([c.label for c in group.choices]).lower()
    assert "HOJKS" not in str(definition.field("learning_plan").label)


def test_pre_primary_education_in_a_daycare_follows_the_basic_education_model():
    definition = load_definition(FORMS / "daycare.toml")
    group = definition.field("pre_primary_group_support")
    assert [c.value for c in group.choices] == GROUP_FORMS
    assert group.condition_met({"pre_primary": "yes"})
    assert not definition.field("support_level").condition_met({"pre_primary": "yes"})


@pytest.mark.parametrize(("content", "warned"), [
    ({"support_model": "pre_2025", "school_start_date": "2026-08-10"}, True),
    ({"support_model": "pre_2025", "school_start_date": "2026-07-31"}, False),
    ({"support_model": "reform_2025", "school_start_date": "2026-08-10"}, False),
    ({"support_model": "pre_2025"}, True),  # no start date yet: today, after the transition
])
def test_the_old_model_after_the_transition_is_warned_about(content, warned):
    messages = warnings_of(school(), content, "en", today=date(2026, 12, 5))
    assert bool(messages) == warned
    if warned:
        assert "31 July 2026" in messages[0] and "You can still send" in messages[0]


def test_the_warning_is_in_every_language():
    content = {"support_model": "pre_2025", "school_start_date": "2026-09-01"}
    assert "31.7.2026" in warnings_of(school(), content, "fi")[0]
    assert "övergångstid" in warnings_of(school(), content, "sv")[0]


def test_the_sender_sees_the_warning_and_the_timing_on_the_preview_and_may_still_send(app,
                                                                                     runner):
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    content = demo_handovers.school_content()
    content.update(support_model="pre_2025", support_level_pre="intensified",
                   support_plan_pre="Oppimissuunnitelma keväältä 2025.",
                   support_decision_date="2025-05-20")
    with app.app_context():
        sender = accounts.find_user(demo_handovers.SOCIAL_WORKER)
        draft = drafts.start(sender, accounts.find_unit(demo_handovers.SOCIAL_WORK),
                             "school_transfer", accounts.find_unit(demo_handovers.SCHOOL),
                             [accounts.find_unit(demo_handovers.INSTITUTION)],
                             "child_welfare_necessary")
        drafts.save(sender, draft, content)
        draft_id = draft.id
        db.session.refresh(sender)
        db.session.expunge(sender)
    client = app.test_client()
    login_as(client, app, sender)
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    assert "until 31 July 2026" in page
    assert "at the latest a week before the first school day" in page
    assert "cannot be sent yet" not in page
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page).group(1)
    sent = client.post(f"/handovers/{draft_id}/send", data={"submission_token": token})
    assert sent.headers["Location"].endswith(f"/handovers/{draft_id}/sent")


@pytest.mark.parametrize(("stem", "content", "due"), [
    ("psychiatric_ward", {"arrival_type": "planned", "arrival_date": "2026-12-10"},
     date(2026, 12, 10)),
    ("psychiatric_ward", {"arrival_type": "emergency", "arrival_date": "2026-12-10"},
     date(2026, 12, 11)),
    ("daycare", {"ecec_start_date": "2027-01-11"}, date(2027, 1, 10)),
    ("school_transfer", {"school_start_date": "2027-01-11"}, date(2027, 1, 4)),
    ("school_transfer", {}, None),
])
def test_each_form_says_when_it_is_due(stem, content, due):
    timing = load_definition(FORMS / f"{stem}.toml").timing
    assert timing.due_date(content) == due
    assert all(timing.text_in(language).strip() for language in ("fi", "sv", "en"))


def test_a_definition_naming_wrong_fields_in_its_warnings_or_timing_is_refused():
    from formdef_samples import every_type, texts

    from handover.formdefs import DefinitionError

    broken = every_type(
        warnings=[{"key": "w", "message": texts("Look again"), "after": "31.7.2026",
                   "when": {"field": "arrival", "equals": "by_boat"}, "date_field": "name"}],
        timing={"text": texts("Send early"), "date_field": "nowhere", "offset_days": "1",
                "cases": [{"when": {"field": "arrival", "equals": "emergency"},
                           "offset_days": 3_000_000}]})
    with pytest.raises(DefinitionError) as refused:
        load_definition(broken)
    assert sorted(refused.value.problems) == [
        "timing.cases[0].offset_days: must be at most 36525 days (a hundred years) either way, "
        "not 3000000",
        "timing.date_field: unknown field 'nowhere'",
        "timing.offset_days: must be a whole number of days, not '1'",
        "warnings[0].after: must be a date as text, e.g. \"2026-07-31\", not '31.7.2026'",
        "warnings[0].date_field: field 'name' must be of type date",
        "warnings[0].when: 'by_boat' is not a value of field 'arrival'",
    ]
    fine = load_definition(every_type(
        warnings=[{"key": "w", "message": texts("Look again"),
                   "when": {"field": "arrival", "equals": "emergency"}}],
        timing={"text": texts("Send early"), "date_field": "birth_date"}))
    assert warnings_of(fine, {"arrival": "emergency"}, "sv") == ["Look again (sv)"]
    assert fine.timing.due_date({"birth_date": "2020-01-02"}) == date(2020, 1, 2)
