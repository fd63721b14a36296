"""The core's own identity-code rule: a birth date that contradicts the code means the wrong
child, in every form that declares both fields."""

import pytest
from werkzeug.datastructures import MultiDict

from handover.formdefs import load_definition
from handover.formdefs.identity_codes import birth_date_of, contradicts_birth_date
from handover.web.formbuilder import build_form

DEFINITION = """
key = "birth_check"
version = 1
identity_code_field = "code"
birth_date_field = "born"
[title]
fi = "Testi"
sv = "Test"
en = "Test"
[routing]
senders = ["child_welfare_social_work"]
receivers = ["school"]
[[legal_bases]]
key = "necessary"
label = { fi = "Välttämätön", sv = "Nödvändig", en = "Necessary" }
[[sections]]
key = "child"
title = { fi = "Lapsi", sv = "Barn", en = "Child" }
  [[sections.fields]]
  key = "code"
  type = "hetu"
  label = { fi = "Henkilötunnus", sv = "Personbeteckning", en = "Identity code" }
  [[sections.fields]]
  key = "born"
  type = "date"
  label = { fi = "Syntymäaika", sv = "Födelsedatum", en = "Date of birth" }
"""


@pytest.mark.parametrize("code, born", [
    ("010594Y9032", "1994-05-01"), ("020594X903P", "1994-05-02"),
    ("010516B903X", "2016-05-01"), ("020504A902E", "2004-05-02"),
])
def test_birth_date_read_from_every_century_sign(code, born):
    assert birth_date_of(code).isoformat() == born
    assert not contradicts_birth_date(code, born)


@pytest.mark.parametrize("code, born, contradicts", [
    ("010594Y9032", "1994-05-02", True),
    ("010594Y9032", "", False),
    ("", "1994-05-02", False),
    ("010594Y9033", "1999-01-01", False),  # an invalid code is the field's own error
    ("010594Y9032", "not a date", False),
])
def test_contradiction_only_when_both_are_valid(code, born, contradicts):
    assert contradicts_birth_date(code, born) is contradicts


@pytest.fixture
def definition(tmp_path):
    path = tmp_path / "birth_check.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    return load_definition(path)


@pytest.mark.parametrize("language, message", [
    ("en", "does not match"), ("fi", "henkilötunnus"), ("sv", "personbeteckning")])
def test_form_refuses_birth_date_of_another_child_and_keeps_what_was_typed(
        app, definition, language, message):
    with app.test_request_context(method="POST"):
        form = build_form(definition, language, formdata=MultiDict(
            {"code": "010594Y9032", "born": "1994-05-02"}))
        assert not form.validate()
        assert any(message in error.lower() for error in form.born.errors), form.born.errors
        assert form.code.data == "010594Y9032"
        assert str(form.born.data) == "1994-05-02"


def test_form_accepts_matching_birth_date(app, definition):
    with app.test_request_context(method="POST"):
        form = build_form(definition, "fi", formdata=MultiDict(
            {"code": "010594Y9032", "born": "1994-05-01"}))
        assert form.validate(), form.errors
