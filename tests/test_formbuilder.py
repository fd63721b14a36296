"""Forms built from a definition: every field type validates what its type implies, identity
codes are checked with python-stdnum, repeating groups grow without JavaScript, conditional
fields are dropped when their condition is false, and typed values survive a failed submit."""

import pytest
from flask import render_template_string
from formdef_samples import every_type
from werkzeug.datastructures import MultiDict

from handover.formdefs import load_definition
from handover.web.formbuilder import build_form

VALID = {"name": "Testi Lapsi", "arrival": "planned"}


@pytest.fixture(autouse=True)
def english_messages(app_config):
    """Validation messages in English, whatever the catalogues say in Finnish."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def definition():
    """Every field type in one definition."""
    return load_definition(every_type())


@pytest.fixture
def submit(app, definition):
    """Post ``data`` (merged onto a minimal valid fill) to a built form; returns the form."""
    contexts = []

    def post(data=None, base=VALID, sender_kind="child_welfare_institution", language="en"):
        formdata = MultiDict(list({**base, **(data or {})}.items()))
        context = app.test_request_context("/", method="POST")
        context.push()
        contexts.append(context)
        form = build_form(definition, language, sender_kind=sender_kind, formdata=formdata)
        form.validate()
        return form

    yield post
    for context in reversed(contexts):
        context.pop()


def render(form, definition, language="en"):
    return render_template_string(
        '{% from "macros/formdef.html" import render_definition_form %}'
        "{{ render_definition_form(form, definition, language) }}",
        form=form, definition=definition, language=language)


def test_a_minimal_fill_is_valid_and_gives_json_content(submit):
    form = submit()
    assert form.errors == {}
    content = form.content()
    assert content["name"] == "Testi Lapsi"
    assert content["arrival"] == "planned"
    assert "emergency_reason" not in content  # its condition is false
    assert content["needs"] == [] and content["guardians"] == []
    assert content["birth_date"] is None


@pytest.mark.parametrize("code", ["010594Y9032", "020594X903P", "010516B903X", "020504A902E",
                                  "131052-308T"])
def test_valid_identity_codes_including_2023_century_signs_are_accepted(submit, code):
    form = submit({"identity_code": code})
    assert "identity_code" not in form.errors
    assert form.content()["identity_code"] == code


def test_a_lower_case_identity_code_is_accepted_and_stored_upper_case(submit):
    form = submit({"identity_code": " 010594y9032 "})
    assert "identity_code" not in form.errors
    assert form.content()["identity_code"] == "010594Y9032"


@pytest.mark.parametrize("code, message", [
    ("010594Y9033", "check character"),      # wrong check character
    ("310294-9032", "date or the individual number"),  # 31 February
    ("010594G9032", "Enter the identity code"),  # G is no century sign
    ("010594Y903", "Enter the identity code"),  # too short
    ("010594Y90322", "Enter the identity code"),  # too long
    ("010594Y0012", "date or the individual number"),  # individual number 001 never issued
    ("abc", "Enter the identity code"),
])
def test_invalid_identity_codes_are_refused(submit, code, message):
    form = submit({"identity_code": code})
    assert message in str(form.errors["identity_code"][0])


@pytest.mark.parametrize("field, value, valid", [
    ("name", "x" * 20, True),
    ("name", "x" * 21, False),               # max_length from the definition
    ("story", "x" * 5000, True),
    ("story", "x" * 5001, False),             # textarea default maximum
    ("birth_date", "2016-05-01", True),
    ("birth_date", "1.5.2016", True),         # the Finnish way of writing dates
    ("birth_date", "31.02.2016", False),
    ("birth_date", "yesterday", False),
    ("location_hidden", "yes", True),
    ("location_hidden", "maybe", False),
    ("arrival", "emergency-ish", False),
    ("needs", "sleep", True),
    ("needs", "dancing", False),
    ("phone", "+358 40 123 4567", True),
    ("phone", "(09) 123-456", True),
    ("phone", "call me", False),
    ("phone", "12", False),
    ("email", "nurse@example.fi", True),
    ("email", "nurse@", False),
    ("email", "not an address", False),
    ("score", "7", True),
    ("score", "7.5", True),
    ("score", "11", False),                  # above max
    ("score", "-1", False),                  # below min
    ("score", "seven", False),
])
def test_each_field_type_validates_what_its_type_implies(submit, field, value, valid):
    form = submit({field: value})
    assert (field not in form.errors) is valid, form.errors


def test_a_required_field_left_empty_says_what_to_do(submit):
    form = submit({"name": "", "arrival": ""})
    assert [str(message) for message in form.errors["name"]] == ["Enter name"]
    assert [str(message) for message in form.errors["arrival"]] == ["Select arrival"]


def test_a_number_is_stored_as_a_number(submit):
    assert submit({"score": "7"}).content()["score"] == 7
    assert submit({"score": "7.5"}).content()["score"] == 7.5


def test_a_conditional_field_is_required_only_when_its_condition_holds(submit):
    form = submit({"arrival": "emergency"})
    assert "emergency_reason" in form.errors
    form = submit({"arrival": "emergency", "emergency_reason": "Night-time crisis"})
    assert form.errors == {}
    assert form.content()["emergency_reason"] == "Night-time crisis"


def test_a_conditional_fields_value_is_dropped_when_its_condition_is_false(submit):
    form = submit({"arrival": "planned", "emergency_reason": "typed before changing my mind"})
    assert form.errors == {}
    assert "emergency_reason" not in form.content()


def test_conditional_fields_are_rendered_without_javascript_with_a_hint(submit, definition):
    html = render(submit(), definition)
    assert 'name="emergency_reason"' in html
    assert "Fill in only if the answer to" in html


def test_a_used_group_row_needs_its_required_subfield_but_an_empty_row_is_fine(submit):
    form = submit({"guardians-0-guardian_name": "", "guardians-0-custody": "yes"})
    assert "Enter guardian Name" in str(form.errors["guardians"])
    form = submit({"guardians-0-guardian_name": "", "guardians-1-guardian_name": "Äiti"})
    assert form.errors == {}
    assert form.content()["guardians"] == [{"guardian_name": "Äiti", "custody": None}]


def test_add_row_adds_an_empty_row_and_keeps_everything_typed(submit, definition):
    form = submit({"guardians-0-guardian_name": "Isä", "story": "Typed story",
                   "add_row": "guardians"})
    assert form.add_row_requested == "guardians"
    assert len(form.guardians.entries) == 2
    html = render(form, definition)
    assert 'value="Isä"' in html
    assert "Typed story" in html
    assert 'name="guardians-1-guardian_name"' in html


def test_add_row_stops_at_the_groups_maximum(submit, definition):
    rows = {f"guardians-{i}-guardian_name": f"G{i}" for i in range(3)}
    form = submit({**rows, "add_row": "guardians"})
    assert len(form.guardians.entries) == 3
    assert "Add a row" not in render(form, definition).split("guardians-2")[-1]


def test_failed_validation_keeps_every_typed_value(submit, definition):
    form = submit({"name": "x" * 30, "identity_code": "010594Y9033", "phone": "+358 40 1",
                   "story": "Long <story>", "needs": "food", "birth_date": "1.5.2016"})
    assert form.errors
    html = render(form, definition)
    assert 'value="' + "x" * 30 + '"' in html
    assert 'value="010594Y9033"' in html
    assert "Long &lt;story&gt;" in html
    assert ('<input checked class="govuk-checkboxes__input" id="needs-1" name="needs" '
            'type="checkbox" value="food">') in html
    assert "There is a problem" in html
    assert 'href="#identity_code"' in html


def test_a_field_for_other_senders_is_left_out(app, definition):
    with app.test_request_context("/"):
        institution = build_form(definition, "en", sender_kind="child_welfare_institution")
        ward = build_form(definition, "en", sender_kind="psychiatric_ward")
    assert "ward_only" not in institution._fields
    assert "ward_only" in ward._fields


def test_a_draft_comes_back_from_stored_content(app, definition):
    content = {"name": "Draft", "arrival": "emergency", "emergency_reason": "x",
               "birth_date": "2016-05-01", "score": 7.5, "needs": ["sleep"],
               "guardians": [{"guardian_name": "Äiti", "custody": "yes"}]}
    with app.test_request_context("/"):
        form = build_form(definition, "en", content=content)
        again = form.content()
    for key, value in content.items():
        assert again[key] == value


def test_labels_follow_the_language(app, definition):
    with app.test_request_context("/"):
        assert build_form(definition, "sv").name.label.text == "Name (sv)"
        assert build_form(definition, "fi").name.label.text == "Name (fi)"


def test_read_only_view_hides_location_fields_when_asked(app, definition):
    content = {"name": "Lapsi", "address": "Secret street 1", "location_hidden": "yes",
               "story": "line one\nline two", "guardians": [{"guardian_name": "Äiti"}]}
    template = ('{% from "macros/formdef.html" import render_content %}'
                "{{ render_content(definition, content, 'en', hide_location=hide) }}")
    with app.test_request_context("/"):
        shown = render_template_string(template, definition=definition, content=content,
                                       hide=False)
        hidden = render_template_string(template, definition=definition, content=content,
                                        hide=True)
    assert "Secret street 1" in shown and "Secret street 1" not in hidden
    assert "line one<br>line two" in shown
    assert '<th scope="col">Guardian Name</th>' in shown


def test_date_messages_follow_the_language_of_each_request(app, definition):
    """Messages come in the request's language, Finnish by default, and a
    request in Swedish right after one in Finnish gets Swedish (the catalogues are cached per
    language, not per process)."""
    from flask import session

    formdata = MultiDict(list({**VALID, "birth_date": "yesterday"}.items()))
    seen = {}
    for language in ("fi", "sv", "fi"):
        with app.test_request_context("/", method="POST"):
            session["language"] = language
            form = build_form(definition, language, formdata=formdata)
            form.validate()
            seen.setdefault(language, set()).update(map(str, form.birth_date.errors))
    # A date WTForms cannot read gets the service's own words, naming the field.
    assert seen == {"fi": {"Anna birth Date (fi) muodossa p.k.vvvv, esimerkiksi 14.3.2012"},
                    "sv": {"Ange birth Date (sv) i formen d.m.åååå, till exempel 14.3.2012"}}
