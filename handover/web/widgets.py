"""WTForms' widgets, writing their attributes without `Markup.format`.

WTForms writes each attribute of an input through ``Markup('{k}="{v}"').format(...)``, whose
escaping formatter costs about ten times what escaping the value and joining strings does; a
long handover form has fifty inputs and a select of a hundred units as many options. The
widgets here are subclasses of WTForms' own that change only that, through the places WTForms
offers for it: an `Input`'s ``html_params``, `Select.render_option`, and `TextArea.__call__`
(which calls the module's function directly). `WidgetsMeta.bind_field` gives each bound field
the twin of the widget it was declared with, carrying the same settings; a widget of any
other class (a plugin's own, say) renders as it always did. The output is the same markup,
byte for byte (tests/test_widgets.py compares them).
"""

from typing import Any

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets.core import clean_key


def attributes(**kwargs: Any) -> Markup:
    """`wtforms.widgets.html_params`, the same rules and output: sorted by name, ``class_``
    and ``for_`` without their underscore, ``data_``/``aria_`` names with hyphens, True as a
    bare name, False left out, names and every other value escaped."""
    written = []
    for key, value in sorted(kwargs.items()):
        name = escape(clean_key(key))
        if value is True:
            written.append(name)
        elif value is not False:
            # A value given as Markup is not escaped again, but its quotes still are.
            written.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(written))  # noqa: S704  # nosec B704 - every part escaped above


class TextArea(widgets.TextArea):
    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        return Markup(  # noqa: S704  # nosec B704 - attributes and value escaped
            f"<textarea {attributes(name=field.name, **kwargs)}>\r\n"
            f"{escape(field._value())}</textarea>")


class Select(widgets.Select):
    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        label = escape(choice.label or choice.value)
        return Markup(f"<option {attributes(**options)}>{label}</option>")  # noqa: S704  # nosec B704


def _twin(widget_class: type) -> type:
    if issubclass(widget_class, widgets.Input):
        return type(widget_class.__name__, (widget_class,),
                    {"__module__": __name__, "html_params": staticmethod(attributes)})
    return {widgets.TextArea: TextArea, widgets.Select: Select}[widget_class]


#: WTForms' widget classes and their twins here; a widget of any other class keeps its own.
TWINS: dict[type, type] = {
    widget_class: _twin(widget_class)
    for widget_class in (widgets.TextInput, widgets.PasswordInput, widgets.HiddenInput,
                         widgets.CheckboxInput, widgets.RadioInput, widgets.FileInput,
                         widgets.SubmitInput, widgets.EmailInput, widgets.DateInput,
                         widgets.NumberInput, widgets.SearchInput, widgets.TelInput,
                         widgets.URLInput, widgets.TextArea, widgets.Select)
}


def twin_of(widget: Any) -> Any:
    """A widget of the twin class with ``widget``'s settings (its input type, ``multiple``,
    ``hide_value``...), or ``widget`` itself when it has no twin."""
    twin_class = TWINS.get(type(widget))
    if twin_class is None:
        return widget
    twin = object.__new__(twin_class)
    twin.__dict__.update(widget.__dict__)
    return twin


class WidgetsMeta:
    """A form ``Meta`` mix-in: every field it binds (and each option of a radio or checkbox
    list) renders through the twins above."""

    def bind_field(self, form: Any, unbound_field: Any, options: Any) -> Any:
        field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
        field.widget = twin_of(field.widget)
        # A radio's or checkbox list's options (asked of the class: a `FormField` hands any
        # attribute it lacks to its form, which does not exist yet).
        if getattr(type(field), "option_widget", None) is not None:
            field.option_widget = twin_of(field.option_widget)
        return field
