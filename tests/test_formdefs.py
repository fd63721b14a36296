"""Form definitions: a good one loads into frozen dataclasses; a bad one is rejected with every
problem named at its location, so a plugin author can fix it without guessing."""

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from formdef_samples import every_type, field, texts

from handover.formdefs import DefinitionError, load_definition
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_TOML = (REPO / "examples/handover-health-check/src/handover_health_check/"
                "health_check.toml")


def problems_of(definition, unit_kinds=None):
    with pytest.raises(DefinitionError) as caught:
        load_definition(definition, unit_kinds=unit_kinds)
    return caught.value.problems


def test_every_field_type_loads_into_a_frozen_definition():
    definition = load_definition(every_type(), plugin_name="tests")
    assert definition.key == "every_type" and definition.version == 1
    assert definition.plugin_name == "tests"
    assert [s.key for s in definition.sections] == ["basics", "contacts"]
    assert {f.type for f in definition.fields()} == {
        "text", "textarea", "hetu", "date", "yesno", "choice", "multichoice", "phone", "email",
        "number", "group"}
    assert definition.field("name").max_length == 20
    assert definition.field("story").max_length == 5000
    assert definition.field("guardians").fields[0].key == "guardian_name"
    assert definition.retention == {"after_acknowledged_days": 30, "unopened_days": 90}
    assert definition.acknowledge_within_hours == 24
    assert definition.legal_bases[0].key == "necessary"
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.version = 2


def test_a_copy_receiver_sees_only_its_sections_and_an_unlisted_kind_sees_all():
    definition = load_definition(every_type())
    as_copy = definition.visible_sections("child_welfare_social_work", as_copy=True)
    assert [s.key for s in as_copy] == ["basics"]
    assert len(definition.visible_sections("psychiatric_ward")) == 2
    assert len(definition.visible_sections("child_welfare_social_work")) == 2


def test_location_flag_yes_hides_location():
    definition = load_definition(every_type())
    assert definition.location_hidden({"location_hidden": "yes"})
    assert not definition.location_hidden({"location_hidden": "no"})


def test_the_example_plugins_definition_is_valid():
    definition = load_definition(EXAMPLE_TOML, unit_kinds=(*CORE_UNIT_KINDS, "health_service"))
    assert definition.key == "placement_health_check"
    assert definition.reply_forms[0].key == "placement_health_check_reply"


@pytest.mark.parametrize("path", sorted((REPO / "forms").glob("*.toml")), ids=lambda p: p.name)
def test_every_built_in_definition_is_valid(path):
    assert load_definition(path).key


def _field_change(section, index, **changes):
    def change(definition):
        definition["sections"][section]["fields"][index].update(changes)
    return change


def _set(key, value):
    def change(definition):
        definition[key] = value
    return change


def _drop(key):
    def change(definition):
        del definition[key]
    return change


def _append_field(section, new_field):
    def change(definition):
        definition["sections"][section]["fields"].append(new_field)
    return change


BROKEN = [
    ("no key", _drop("key"), "form key is missing"),
    ("bad key", _set("key", "Bad Key"), "form key 'Bad Key' must be lower-case"),
    ("version zero", _set("version", 0), "version: must be a whole number of at least 1, not 0"),
    ("version text", _set("version", "1"), "version: must be a whole number of at least 1"),
    ("no version", _drop("version"), "version is missing"),
    ("title without sv", _set("title", {"fi": "a", "en": "b"}), "title: 'sv' text is missing"),
    ("empty fi description", _set("description", {"fi": " ", "sv": "a", "en": "b"}),
     "description: 'fi' text is missing or empty"),
    ("unknown top-level key", _set("titel", texts("x")), "unknown key 'titel'"),
    ("no sections", _set("sections", []), "sections: at least one [[sections]] is needed"),
    ("misspelt type", _field_change(0, 0, type="texx"),
     "sections[0].fields[0] (key 'name'): type 'texx' is not one of text, textarea"),
    ("label without en", _field_change(0, 1, label={"fi": "a", "sv": "b"}),
     "sections[0].fields[1] (key 'story').label: 'en' text is missing"),
    ("help with empty sv", _field_change(0, 1, help={"fi": "a", "sv": "", "en": "c"}),
     "sections[0].fields[1] (key 'story').help: 'sv' text is missing or empty"),
    # TOML reads help = { fi = 2024-01-01 } as a date: there is a value, of the wrong kind.
    ("help with a date", _field_change(0, 1, help={"fi": date(2024, 1, 1), "sv": "b", "en": "c"}),
     "sections[0].fields[1] (key 'story').help: 'fi' must be a text in quotes, not "
     "datetime.date(2024, 1, 1)"),
    ("duplicate field key", _append_field(1, field("name")),
     "sections[1].fields[5] (key 'name'): duplicate field key 'name'"),
    ("choice without choices", _field_change(0, 6, choices=[]),
     "sections[0].fields[6] (key 'arrival'): 'choices' must list at least one choice"),
    ("choice label without fi", _field_change(0, 6, choices=[
        {"value": "a", "label": {"sv": "a", "en": "a"}}]),
     "sections[0].fields[6] (key 'arrival').choices[0].label: 'fi' text is missing"),
    ("duplicate choice", _field_change(0, 8, choices=[
        {"value": "a", "label": texts("a")}, {"value": "a", "label": texts("b")}]),
     "choices[1]: duplicate value 'a'"),
    ("choices on text", _field_change(0, 0, choices=[{"value": "a", "label": texts("a")}]),
     "'choices' only belong to choice and multichoice fields"),
    ("show_if unknown field", _field_change(0, 7, show_if={"field": "nope", "equals": "x"}),
     "sections[0].fields[7] (key 'emergency_reason'): show_if refers to unknown field 'nope'"),
    ("show_if impossible value", _field_change(0, 7, show_if={"field": "arrival",
                                                              "equals": "maybe"}),
     "show_if value 'maybe' is not a value of field 'arrival' (one of: planned, emergency)"),
    ("show_if yesno value", _field_change(0, 5, show_if={"field": "location_hidden",
                                                         "equals": "true"}),
     "show_if value 'true' is not a value of field 'location_hidden' (one of: yes, no)"),
    ("show_if malformed", _field_change(0, 7, show_if={"field": "arrival"}),
     "show_if must be {field = KEY, equals = VALUE}"),
    ("visibility unknown section", _set("visibility", {"receivers": {"daycare": ["nope"]}}),
     "visibility.receivers.daycare: unknown section 'nope'"),
    ("visibility unknown kind", _set("visibility", {"copies": {"mars_base": ["basics"]}}),
     "visibility.copies.mars_base: unknown unit kind 'mars_base'"),
    ("routing unknown kind", _set("routing", {"senders": ["school"], "receivers": ["mars_base"]}),
     "routing.receivers: unknown unit kind 'mars_base'"),
    ("routing without senders", _set("routing", {"receivers": ["school"]}),
     "routing: 'senders' is missing"),
    ("negative retention", _set("retention", {"unopened_days": -5}),
     "retention.unopened_days: must be a whole number of at least 1, not -5"),
    ("zero retention", _set("retention", {"after_acknowledged_days": 0}),
     "retention.after_acknowledged_days: must be a whole number of at least 1, not 0"),
    ("retention past the calendar", _set("retention", {"max_days": 3_000_000}),
     "retention.max_days: must be a whole number of at most 36525 (a hundred years), "
     "not 3000000"),
    ("acknowledge hours past the calendar", _set("acknowledge_within_hours", 2**31 - 1),
     "acknowledge_within_hours: must be a whole number of at most 876600 (a hundred years)"),
    ("acknowledge hours text", _set("acknowledge_within_hours", "soon"),
     "acknowledge_within_hours: must be a whole number of at least 1"),
    ("group without subfields", _field_change(1, 4, fields=[]),
     "sections[1].fields[4] (key 'guardians'): a group needs at least one"),
    ("not_before on text", _field_change(0, 0, not_before="birth"),
     "(key 'name'): 'not_before' only belongs to date fields"),
    ("not_before unknown", _field_change(0, 3, not_before="conception"),
     "(key 'birth_date'): not_before 'conception' must be one of 'birth'"),
    ("max_length on date", _field_change(0, 3, max_length=10),
     "(key 'birth_date'): 'max_length' only belongs to text and textarea fields"),
    ("negative max_length", _field_change(0, 0, max_length=-1),
     "(key 'name').max_length: must be a whole number of at least 1, not -1"),
    ("reserved key", _append_field(1, field("data")), "field key 'data' is reserved"),
    ("required not boolean", _field_change(0, 0, required="yes"),
     "'required' must be true or false, not 'yes'"),
    ("identity code not hetu", _set("identity_code_field", "name"),
     "identity_code_field: field 'name' must be of type hetu"),
    ("unknown summary field", _set("summary_fields", ["nope"]), "summary_fields: unknown field"),
    ("location flag not yesno", _set("location_flags", ["address"]),
     "location_flags: field 'address' must be of type yesno"),
    ("sender kind unknown", _field_change(1, 3, sender_kinds=["mars_base"]),
     "(key 'ward_only').sender_kinds: unknown unit kind 'mars_base'"),
    ("number min above max", _field_change(1, 2, min=5, max=1), "'min' is greater than 'max'"),
    ("reply form without title", _set("reply_forms", [{"key": "reply", "version": 1,
                                                      "sections": every_type()["sections"]}]),
     "reply_forms[0].title: is missing"),
]


@pytest.mark.parametrize("change, message", [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_a_broken_definition_is_rejected_with_a_precise_message(change, message):
    definition = every_type()
    change(definition)
    problems = problems_of(definition)
    assert any(message in problem for problem in problems), problems


def test_every_problem_is_named_not_only_the_first():
    definition = every_type(version=0, titel="x")
    definition["sections"][0]["fields"][0]["type"] = "texx"
    problems = problems_of(definition)
    assert len(problems) == 3, problems


def test_a_plugin_registered_unit_kind_may_be_routed_to():
    definition = every_type(routing={"senders": ["school"], "receivers": ["health_service"]})
    assert problems_of(definition)
    kinds = (*CORE_UNIT_KINDS, "health_service")
    assert load_definition(definition, unit_kinds=kinds).routing.receivers == ("health_service",)


def test_a_toml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('key = "x"\nversion = \n')
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert str(caught.value).startswith(f"{path}: not valid TOML")


def test_loading_does_not_change_the_dict_a_plugin_passed():
    definition = every_type()
    load_definition(definition)
    assert definition == every_type()


# --- shared sections taken by reference ---------------------------------------------------------

def _using(*sections):
    definition = every_type()
    definition["sections"] = [*sections, *definition["sections"]]
    return definition


def test_a_definition_takes_a_shared_section_by_reference():
    definition = load_definition(_using({"use": "common:child"}, {"use": "common:author"}))
    assert [s.key for s in definition.sections][:2] == ["child", "author"]
    assert definition.field("child_identity_code").type == "hetu"
    assert definition.field("author_name").required


def test_a_form_may_add_fields_after_the_shared_ones():
    extra = field("pupil_wishes", "textarea")
    definition = load_definition(_using({"use": "common:child_view", "fields": [extra]}))
    keys = [f.key for f in definition.sections[0].fields]
    assert keys[0] == "child_view_asked" and keys[-1] == "pupil_wishes"


def test_a_plugin_may_share_sections_of_its_own_from_a_file_beside_its_definition(tmp_path):
    (tmp_path / "shared.toml").write_text(
        '[[sections]]\nkey = "medication"\ntitle = { fi = "Lääkitys", sv = "Medicinering", '
        'en = "Medication" }\n\n  [[sections.fields]]\n  key = "medicines"\n  type = "text"\n'
        '  label = { fi = "Lääkkeet", sv = "Mediciner", en = "Medicines" }\n')
    (tmp_path / "form.toml").write_text(
        'key = "own"\nversion = 1\ntitle = { fi = "Oma", sv = "Egen", en = "Own" }\n\n'
        '[[legal_bases]]\nkey = "necessary"\nlabel = { fi = "V", sv = "N", en = "N" }\n\n'
        '[[sections]]\nuse = "shared.toml:medication"\n')
    definition = load_definition(tmp_path / "form.toml")
    assert definition.field("medicines").label["sv"] == "Mediciner"


@pytest.mark.parametrize(("section", "message"), [
    ({"use": "common:chld"}, "fragment library 'common' has no section 'chld' (it has: child,"),
    ({"use": "uncommon:child"}, "unknown fragment library 'uncommon'"),
    ({"use": "child"}, "'use' must be \"library:section\""),
    ({"use": "common:child", "title": texts("Lapsi")},
     "a section that uses a fragment may only add 'fields', not title"),
    ({"use": "../../etc/shared.toml:child"}, "must lie beside the definition file"),
    ({"use": "shared.toml:child"}, "must lie beside the definition file"),   # a dict has no file
])
def test_a_wrong_reference_is_named_at_its_location(section, message):
    problems = problems_of(_using(section))
    assert any(problem.startswith("sections[0] (use ") and message in problem
               for problem in problems), problems


def test_a_fragment_is_copied_not_shared_between_definitions():
    first = load_definition(_using({"use": "common:child_view", "fields": [field("x", "text")]}))
    second = load_definition(_using({"use": "common:child_view"}))
    assert "x" in [f.key for f in first.sections[0].fields]
    assert "x" not in [f.key for f in second.sections[0].fields]
