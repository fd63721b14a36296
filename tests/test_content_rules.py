"""Content checked without WTForms (`handover.formdefs.content`): a sender who fills the page
and a forged draft sent straight to the send service meet the same rules in the same words,
and a child born in 2050 is refused in Finnish, Swedish and English."""

from datetime import date

import pytest
from flask_babel import force_locale
from formdef_samples import every_type
from werkzeug.datastructures import MultiDict

from handover.formdefs import content as rules
from handover.formdefs import load_definition
from handover.services import drafts
from handover.web.formbuilder import build_form

SENDER = "child_welfare_institution"
VALID = {"name": "Testi Lapsi", "arrival": "planned"}
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def identity_code(day, century_sign, individual="900"):
    """A well-formed code (temporary range) born on ``day``; the check character computed."""
    digits = day.strftime("%d%m%y") + individual
    return digits[:6] + century_sign + individual + CHECK[int(digits) % 31]


FUTURE_CODE = identity_code(date(2050, 1, 1), "A")
PAST_CODE = identity_code(date(2015, 6, 1), "A")


@pytest.fixture
def definition():
    """Every field type, with the birth date checked against the identity code."""
    return load_definition(every_type(birth_date_field="birth_date"))


def as_formdata(content):
    """What a browser posts for ``content``: group rows as ``group-N-sub``, one value per
    ticked box, numbers and dates as typed."""
    pairs = []
    for key, value in content.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for number, row in enumerate(value):
                pairs += [(f"{key}-{number}-{sub}", str(item)) for sub, item in row.items()]
        elif isinstance(value, list):
            pairs += [(key, item) for item in value]
        elif value is not None:
            pairs.append((key, str(value)))
    return MultiDict(pairs)


def page_errors(form):
    """The fill page's errors by the paths `content.problems` uses."""
    errors = {}
    for field in form.definition_fields():
        bound = form[field.key]
        if field.type != "group":
            if bound.errors:
                errors[field.key] = [str(message) for message in bound.errors]
            continue
        own = [str(message) for message in bound.errors if isinstance(message, str)]
        if own:
            errors[field.key] = own
        for number, entry in enumerate(bound.entries):
            for sub in entry.form:
                if sub.errors:
                    errors[f"{field.key}.{number}.{sub.short_name}"] = [str(m) for m in sub.errors]
    return errors


BAD_CONTENT = {
    "required field empty": {"name": "  "},
    "text too long": {"name": "x" * 21},
    "choice not offered": {"arrival": "teleported"},
    "yes/no neither": {"location_hidden": "maybe"},
    "multichoice not offered": {"needs": ["sleep", "flying"]},
    "conditional field required once shown": {"arrival": "emergency"},
    "identity code check character": {"identity_code": "010594Y903X"},
    "identity code date": {"identity_code": "320594Y903X"},
    "identity code shape": {"identity_code": "12345"},
    "child born in 2050": {"identity_code": FUTURE_CODE},
    "phone": {"phone": "call me"},
    "e-mail": {"email": "name-at-example"},
    "number below": {"score": -1},
    "number above": {"score": 11},
    "birth date differs from the code": {"identity_code": PAST_CODE,
                                         "birth_date": "2015-06-02"},
    "required in a used group row": {"guardians": [{"guardian_name": "", "custody": "yes"}]},
    "group row choice": {"guardians": [{"guardian_name": "Äiti", "custody": "maybe"}]},
}


@pytest.mark.parametrize("language", ["en", "fi"])
@pytest.mark.parametrize("case", list(BAD_CONTENT))
def test_the_page_and_the_send_service_refuse_the_same_with_the_same_words(
        app, definition, case, language):
    content = {**VALID, **BAD_CONTENT[case]}
    with app.test_request_context("/", method="POST"):
        form = build_form(definition, language, sender_kind=SENDER,
                          formdata=as_formdata(content))
        assert not form.validate()
        with force_locale(language):  # the page's language is the request's
            on_page = page_errors(form)
        from_service = rules.problems(definition, content, SENDER, language)
    assert from_service, case
    assert from_service == on_page


@pytest.mark.parametrize("good", [
    {},
    {"identity_code": PAST_CODE, "birth_date": "2015-06-01"},
    {"arrival": "emergency", "emergency_reason": "Kiire"},
    {"needs": ["food"], "score": 10, "phone": "+358 40 123 4567", "email": "a@b.fi"},
    {"guardians": [{"guardian_name": "Äiti", "custody": "yes"},
                   {"guardian_name": "", "custody": ""}]},
])
def test_what_the_page_accepts_the_service_accepts(app, definition, good):
    content = {**VALID, **good}
    with app.test_request_context("/", method="POST"):
        form = build_form(definition, "en", sender_kind=SENDER, formdata=as_formdata(content))
        assert form.validate(), page_errors(form)
        assert rules.problems(definition, content, SENDER, "en") == {}
        assert rules.cleaned(definition, content, SENDER) == form.content()


@pytest.mark.parametrize("language, message", [
    ("fi", "Henkilötunnuksen syntymäaika on tulevaisuudessa. Tarkista henkilötunnus."),
    ("sv", "Födelsedatumet i personbeteckningen ligger i framtiden. Kontrollera "
           "personbeteckningen."),
    ("en", "The date of birth in the identity code is in the future. Check the identity code."),
])
def test_a_child_born_in_2050_is_refused_in_every_language(app, definition, language, message):
    with app.app_context():
        errors = drafts.validate_content(definition, {**VALID, "identity_code": FUTURE_CODE},
                                         SENDER, language)
    assert errors == {"identity_code": [message]}


def test_a_child_born_today_in_finland_is_accepted(app):
    born_today = identity_code(rules.today(), "A")
    with app.app_context():
        assert rules.identity_code_problem(born_today) is None
        assert rules.identity_code_problem(born_today, on=date(2000, 1, 1)) is not None


@pytest.mark.parametrize("forged", [
    {"birth_date": "31.02.2015"},         # not a date at all
    {"score": "ten"},
    {"score": True},
    {"name": {"first": "Testi"}},
    {"needs": "sleep"},                   # a multichoice must be a list
    {"guardians": "Äiti"},
    {"guardians": [{"guardian_name": "x"}] * 4},   # more rows than max_rows
])
def test_forged_stored_content_is_refused_not_a_crash(app, definition, forged):
    with app.app_context():
        errors = drafts.validate_content(definition, {**VALID, **forged}, SENDER, "en")
    assert errors and set(errors) <= {next(iter(forged)), "_form"}


def test_fields_of_another_sender_kind_and_unmet_conditions_are_not_checked(app, definition):
    content = {**VALID, "ward_only": "x" * 10_000, "emergency_reason": "x" * 10_000}
    with app.app_context():
        assert drafts.validate_content(definition, content, SENDER, "en") == {}


def test_plugin_messages_land_on_their_path_or_on_the_form(definition):
    content = {**VALID, "guardians": [{"guardian_name": "Äiti"}]}
    placed = rules.place_answers(definition, [
        {"name": "Not like this", "guardians.0.guardian_name": ["Who?"]},
        {"no_such_field": "Something else", "guardians.5.guardian_name": "No such row"},
    ], SENDER, content)
    assert placed == {"name": ["Not like this"], "guardians.0.guardian_name": ["Who?"],
                      "_form": ["Something else", "No such row"]}
