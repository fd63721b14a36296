"""The widgets of `handover.web.widgets` write the same markup as WTForms' own, byte for byte,
for every field of every built-in form (filled, with errors, with repeating rows) and for the
hand-written forms of the reading page; a widget class without a twin keeps rendering as it
always did."""

import pytest
from formdef_samples import every_type
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import StringField, widgets
from wtforms.widgets import html_params

from handover.formdefs import load_definition
from handover.plugins import manager as plugin_manager
from handover.web.form_base import HandoverForm
from handover.web.formbuilder import build_form
from handover.web.handovers import forms
from handover.web.widgets import TWINS, attributes, twin_of

ATTRIBUTE_CASES = [
    {"name": "a", "id": "x", "class_": "c d", "value": '<"&>', "required": True,
     "disabled": False, "data_foo_bar": 1, "aria_describedby": "a b", "empty": None},
    {"value": Markup('<b "x">')},
    {"for_": "x&y", "title": "ä ö", "maxlength": 5000},
    {"a&b": True, "value": ""},
    {},
]


@pytest.mark.parametrize("given", ATTRIBUTE_CASES)
def test_attributes_are_written_as_wtforms_writes_them(given):
    assert attributes(**given) == html_params(**given)
    assert isinstance(attributes(**given), Markup)


def _with_wtforms_widget(field):
    """The widget WTForms itself would have used for ``field``: the twin's parent class."""
    twin = field.widget
    if type(twin) not in TWINS.values():
        return None
    original = object.__new__(type(twin).__mro__[1])
    original.__dict__.update(twin.__dict__)
    return original


def _every_field(form):
    for field in form:
        yield field
        entries = getattr(field, "entries", None)
        for entry in entries or ():
            yield from _every_field(getattr(entry, "form", None) or [entry])
        if getattr(type(field), "option_widget", None) is not None:
            yield from field


def _assert_same_markup(form):
    compared = 0
    for field in _every_field(form):
        original = _with_wtforms_widget(field)
        if original is None:
            continue
        for extra in ({}, {"class_": "govuk-input", "aria_describedby": "x-help x-error",
                           "required": True, "autocomplete": "off"}):
            assert field.widget(field, **extra) == original(field, **extra), field.name
        compared += 1
    return compared


def _built_forms(app):
    return [load_definition(every_type()), *plugin_manager.registry(app).all_definitions()]


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_built_form_renders_as_with_wtforms_widgets(app, language):
    with app.test_request_context("/", method="POST"):
        compared = 0
        for definition in _built_forms(app):
            empty = build_form(definition, language, formdata=MultiDict())
            compared += _assert_same_markup(empty)
            # Typed values with characters to escape, and the errors of a failed validation.
            typed = MultiDict([(field.name, 'x "<y>" & z') for field in empty
                               if field.type not in ("FieldList", "CSRFTokenField")])
            filled = build_form(definition, language, formdata=typed)
            filled.validate()
            compared += _assert_same_markup(filled)
        assert compared > 100   # the built-in forms' inputs, not a handful


def test_the_reading_pages_forms_render_as_with_wtforms_widgets(app):
    with app.test_request_context("/"):
        for form in (forms.AcknowledgeForm(), forms.MessageForm(), forms.SendForm(),
                     forms.AttachmentForm(), forms.IdentityCodeForm()):
            assert _assert_same_markup(form) >= 1


def test_a_routing_form_with_choices_made_renders_as_with_wtforms_widgets(app):
    units = forms.choices([("1", "Osasto <A>"), ("2", 'Koulu "B"'), ("3", "Päiväkoti & C")])
    posted = MultiDict([("receiver", "2"), ("copies", "1"), ("copies", "3"),
                        ("legal_basis", "2")])
    with app.test_request_context("/", method="POST"):
        form = forms.RoutingForm(formdata=posted, meta={"csrf": False})
        for field in (form.receiver, form.copies, form.legal_basis):
            field.choices = units
        form.validate()
        assert 'selected value="2"' in str(form.receiver())
        assert _assert_same_markup(form) == 1 + 3 + 3   # the select, each option of the lists


def test_a_widget_without_a_twin_keeps_its_own_class(app):
    class Shouting:
        def __call__(self, field, **kwargs):
            return Markup("<b>!</b>")

    class PluginForm(HandoverForm):
        loud = StringField(widget=Shouting())
        plain = StringField()

    with app.test_request_context("/"):
        form = PluginForm(meta={"csrf": False})
        assert form.loud() == Markup("<b>!</b>")
        assert isinstance(form.plain.widget, widgets.TextInput)
        assert type(form.plain.widget) is not widgets.TextInput
        assert twin_of(form.loud.widget) is form.loud.widget
