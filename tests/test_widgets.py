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
from handover.web import widgets as widgets_module
from handover.web.form_base import HandoverForm
from handover.web.formbuilder import build_form
from handover.web.handovers import forms
from handover.web.widgets import attributes, twin_of

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


EXTRA = {"class_": "govuk-input", "aria_describedby": "x-help x-error", "required": True,
         "autocomplete": "off"}


def _every_field(form):
    for field in form:
        yield field
        for entry in getattr(field, "entries", None) or ():
            yield from _every_field(getattr(entry, "form", None) or [entry])
        if getattr(type(field), "option_widget", None) is not None:
            yield from field


def _rendered(build):
    """{(field name, position, which): markup} of every field and option the forms that
    ``build()`` returns render, as they are and with the attributes the field macro adds."""
    shown = {}
    for number, form in enumerate(build()):
        for position, field in enumerate(_every_field(form)):
            if field.type in ("FieldList", "FormField"):
                continue
            for which, extra in (("plain", {}), ("macro", EXTRA)):
                shown[number, field.name, position, which] = field(**extra)
    return shown


def _same_as_wtforms(monkeypatch, build):
    """The markup of ``build()``'s forms with the twins, after checking it against the same
    forms bound with WTForms' own widgets (the twins switched off)."""
    twins = _rendered(build)
    with monkeypatch.context() as switched_off:
        switched_off.setattr(widgets_module, "twin_of", lambda widget: widget)
        own = _rendered(build)
    assert twins == own
    assert all(isinstance(markup, Markup) for markup in twins.values())
    return twins


def _built_forms(app, language):
    definitions = [load_definition(every_type()), *plugin_manager.registry(app).all_definitions()]
    forms_built = []
    for definition in definitions:
        empty = build_form(definition, language, formdata=MultiDict())
        typed = MultiDict([(field.name, 'x "<y>" & z') for field in empty
                           if field.type not in ("FieldList", "CSRFTokenField")])
        filled = build_form(definition, language, formdata=typed)
        filled.validate()   # the errors of a failed validation are shown too
        forms_built += [empty, filled]
    return forms_built


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_built_form_renders_as_with_wtforms_widgets(app, monkeypatch, language):
    with app.test_request_context("/", method="POST"):
        rendered = _same_as_wtforms(monkeypatch, lambda: _built_forms(app, language))
        assert len(rendered) > 400   # the built-in forms' inputs and options, not a handful
        assert any('&#34;&lt;y&gt;&#34; &amp; z' in markup for markup in rendered.values())


def test_the_reading_pages_forms_render_as_with_wtforms_widgets(app, monkeypatch):
    with app.test_request_context("/"):
        rendered = _same_as_wtforms(monkeypatch, lambda: [
            # The same one-time token both times: a fresh one per form would differ anyway.
            forms.AcknowledgeForm(), forms.MessageForm(submission_token="one-time-token"),
            forms.SendForm(),
            forms.AttachmentForm(), forms.IdentityCodeForm()])
        assert any(markup.startswith("<textarea") for markup in rendered.values())


def test_a_routing_form_with_choices_made_renders_as_with_wtforms_widgets(app, monkeypatch):
    units = forms.choices([("1", "Osasto <A>"), ("2", 'Koulu "B"'), ("3", "Päiväkoti & C")])
    posted = MultiDict([("receiver", "2"), ("copies", "1"), ("copies", "3"),
                        ("legal_basis", "2")])

    def routing_form():
        form = forms.RoutingForm(formdata=posted, meta={"csrf": False})
        for field in (form.receiver, form.copies, form.legal_basis):
            field.choices = units
        form.validate()
        return [form]

    with app.test_request_context("/", method="POST"):
        rendered = _same_as_wtforms(monkeypatch, routing_form)
        select = rendered[0, "receiver", 0, "plain"]
        assert '<option selected value="2">Koulu &#34;B&#34;</option>' in select
        checked = [markup for key, markup in rendered.items()
                   if key[3] == "plain" and markup.startswith("<input") and "checked" in markup]
        assert len(checked) == 3   # the options: two copies and the legal basis


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
