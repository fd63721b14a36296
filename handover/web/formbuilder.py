"""WTForms classes built from a form definition, so that no plugin writes form code.

Repeating groups are a ``FieldList`` of ``FormField`` rows; a submit button named ``add_row``
whose value is the group key adds an empty row and the page re-renders with everything typed
kept, so it works without JavaScript. Conditional fields (``show_if``) are all rendered; a field
whose condition is false is not required and its value is left out of ``content()``.
"""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from wtforms.fields import (
    DateField,
    DecimalField,
    FieldList,
    FormField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from handover.formdefs import content as rules
from handover.formdefs import display
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.plugins.manager import FormChecksUnavailable, call_hook
from handover.services.drafts import FORM_CHECKS_UNAVAILABLE
from handover.web.form_base import HandoverForm, RowForm

#: Dates are typed as d.m.yyyy in one text field in every language, never in a browser's date
#: picker (which follows the browser's locale: mm/dd/yyyy in an English browser); the first
#: format is the one shown back. ISO dates are still accepted.
DATE_FORMATS = ["%d.%m.%Y", "%Y-%m-%d"]


class MultiCheckboxField(SelectMultipleField):
    """Multiple choice as checkboxes (the forms macro renders it as a fieldset). A value that
    is none of the choices (only a tampered post sends one) is refused in the page's language:
    WTForms' own Finnish text for it is unfinished in its catalogue, so it came out in English."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, invalid_choice_message=None, **kwargs):
        super().__init__(*args, invalid_choice_message=invalid_choice_message
                         or _l("Choose from the options listed."), **kwargs)


def _is_empty(field):
    raw = [value for value in (field.raw_data or []) if str(value).strip()]
    return not raw and field.data in (None, "", [])


def _values(form):
    return {name: subfield.data for name, subfield in form._fields.items()}


class Presence:
    """Required-or-optional, aware of ``show_if`` and of repeating-group rows.

    A field whose condition is false is skipped entirely. In a group row, "required" means
    required when the row is used at all, so an empty row added by "add row" is no error.
    """

    def __init__(self, definition_field, in_group=False):
        self.definition_field = definition_field
        self.in_group = in_group
        always = definition_field.required and not definition_field.show_if and not in_group
        self.field_flags = {"required": True} if always else {}

    def __call__(self, form, field):
        if not self.definition_field.condition_met(_values(form)):
            field.errors[:] = []
            raise StopValidation()
        if not _is_empty(field):
            return
        field.errors[:] = []
        row_unused = self.in_group and all(_is_empty(f) for f in form._fields.values())
        if self.definition_field.required and not row_unused:
            raise StopValidation(rules.required_message(self.definition_field))
        raise StopValidation()


class FieldRules:
    """The definition's rules for a filled-in value, from `handover.formdefs.content`: the
    page and the send service check the same things and say them in the same words."""

    def __init__(self, definition_field):
        self.definition_field = definition_field

    def __call__(self, form, field):
        if field.process_errors:
            # WTForms could not read the input; say what to do in the service's words.
            if self.definition_field.type == "date":
                field.errors[:] = [rules.unreadable_date(self.definition_field)]
            elif self.definition_field.type == "number":
                field.errors[:] = [rules.NOT_A_NUMBER]
            return
        value = _json_value(self.definition_field, field.data)
        for problem in rules.value_problems(self.definition_field, value):
            raise ValidationError(problem)
        if self.definition_field.type == "hetu":
            field.data = rules.normalised_identity_code(field.data)


class RowCount:
    """``min_rows`` and ``max_rows`` of a repeating group (skipped while its condition is
    false, like any field)."""

    def __init__(self, definition_field):
        self.definition_field = definition_field

    def __call__(self, form, field):
        if not self.definition_field.condition_met(_values(form)):
            field.errors[:] = []
            raise StopValidation()
        used = [e for e in field.entries if not all(_is_empty(f) for f in e.form._fields.values())]
        for problem in rules.row_count_problems(self.definition_field, len(used),
                                                len(field.entries)):
            raise ValidationError(problem)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _unbound_field(definition_field, language, siblings, in_group=False):
    f = definition_field
    help_text = " ".join(
        part for part in (f.help_in(language), display.condition_hint(f, siblings, language))
        if part
    )
    options = {"label": f.label_in(language), "description": help_text}
    validators = [Presence(f, in_group)]
    if f.type != "group":
        validators.append(FieldRules(f))
    if f.type in ("text", "textarea"):
        field_class = StringField if f.type == "text" else TextAreaField
        return field_class(validators=validators, filters=[_strip], **options)
    if f.type == "date":
        hint = _("Day, month and year, for example 14.3.2012")
        options["description"] = " ".join(part for part in (help_text, hint) if part)
        return DateField(validators=validators, format=DATE_FORMATS, widget=TextInput(),
                         render_kw={"autocomplete": "off", "spellcheck": "false"}, **options)
    # Choices are checked by FieldRules, in the words the send service uses.
    if f.type == "yesno":
        choices = [SelectChoice(v, display.yes_no_label(v, language)) for v in ("yes", "no")]
        return RadioField(validators=validators, choices=choices, validate_choice=False,
                          **options)
    if f.type in ("choice", "multichoice"):
        choices = [SelectChoice(c.value, c.label_in(language)) for c in f.choices]
        field_class = RadioField if f.type == "choice" else MultiCheckboxField
        return field_class(validators=validators, choices=choices, validate_choice=False,
                           **options)
    if f.type == "hetu":
        return StringField(validators=validators, filters=[_strip],
                           render_kw={"autocomplete": "off", "spellcheck": "false"}, **options)
    if f.type == "phone":
        return StringField(validators=validators, filters=[_strip],
                           render_kw={"type": "tel", "autocomplete": "off"}, **options)
    if f.type == "email":
        return StringField(validators=validators, filters=[_strip],
                           render_kw={"type": "email", "autocomplete": "off"}, **options)
    if f.type == "number":
        return DecimalField(validators=validators, render_kw={"inputmode": "decimal"},
                            **options)
    if f.type == "group":
        row_class = type(f"{f.key}_row", (RowForm,), {
            sub.key: _unbound_field(sub, language, f.fields, in_group=True) for sub in f.fields
        })
        return FieldList(FormField(row_class, label=f.label_in(language)), min_entries=1,
                         max_entries=f.max_rows, validators=[RowCount(f)], **options)
    raise ValueError(f"unknown field type {f.type!r}")


def _json_value(definition_field, data):
    kind = definition_field.type
    if kind == "multichoice":
        return list(data or [])
    if data in (None, ""):
        return None
    if kind == "date":
        return data.isoformat()
    if kind == "number":
        return int(data) if data == data.to_integral_value() else float(data)
    if kind == "hetu":
        return str(data).strip().upper()
    return data


def _row_content(subfields, row_form):
    row = {sub.key: _json_value(sub, row_form[sub.key].data) for sub in subfields}
    if all(value in (None, []) for value in row.values()):
        return None
    return rules.without_unmet_conditions(subfields, row)


class DefinitionForm(HandoverForm):
    """Base of every built form; ``build_form`` makes a subclass per definition."""

    definition = None
    language = "fi"
    sender_kind = None
    add_row_requested = None
    #: Messages of ``validate_form`` hooks for paths that name no field.
    extra_errors = ()

    def definition_fields(self):
        return [f for f in self.definition.fields() if f.key in self._fields]

    def section_fields(self, section):
        """(definition field, form field) pairs of ``section`` that this sender fills."""
        return [(f, self[f.key]) for f in section.fields if f.key in self._fields]

    def content(self):
        """The JSON-able dict to store: {field_key: value, group_key: [{sub: value}, ...]}."""
        values = {}
        for f in self.definition_fields():
            if f.type == "group":
                rows = [_row_content(f.fields, entry.form) for entry in self[f.key].entries]
                values[f.key] = [row for row in rows if row is not None]
            else:
                values[f.key] = _json_value(f, self[f.key].data)
        return rules.without_unmet_conditions(self.definition_fields(), values)

    def validate(self, extra_validators=None):
        self.extra_errors = []
        valid = super().validate(extra_validators)
        # The cross-field checks run even when a field has an error, so that a page shows
        # every problem at once rather than one more after each correction.
        birth_date_agrees = self._birth_date_agrees()
        return self._plugin_validation() and birth_date_agrees and valid

    def validate_fields(self):
        """Each field's own rules and the birth date against the identity code, without the
        plugins' cross-field checks: what a section page must not save silently wrong, while an
        answer that depends on another section (a guardian's right to information on a decision
        recorded later) waits for the check-answers page."""
        self.extra_errors = []
        valid = super().validate()
        return self._birth_date_agrees() and valid

    def _birth_date_agrees(self):
        """Every form with both fields gets this check from the core, not from each plugin."""
        found = rules.birth_date_problem(self.definition, self.content(),
                                         self.definition_fields())
        for path, messages in rules.rendered(found, self.language).items():
            self._field_at(path).extend(messages)
        return not found

    def _plugin_validation(self):
        try:
            answers = call_hook("validate_form", definition=self.definition,
                                content=self.content(), language=self.language)
        except FormChecksUnavailable:
            self.extra_errors.append(str(FORM_CHECKS_UNAVAILABLE))
            return False
        found = False
        for answer in answers:
            for path, messages in answer.items():
                messages = [messages] if isinstance(messages, str) else list(messages or [])
                if messages:
                    found = True
                    self._field_at(path).extend(str(m) for m in messages)
        return not found

    def _field_at(self, path):
        """The error list of ``key`` or ``group.row.sub``; unknown paths go to the form."""
        parts = str(path).split(".")
        try:
            field = self[parts[0]]
            if len(parts) == 3:
                field = field.entries[int(parts[1])].form[parts[2]]
            elif len(parts) != 1:
                raise KeyError(path)
        except (KeyError, IndexError, ValueError):
            return self.extra_errors
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        return field.errors

    def leaf_fields(self):
        """Every field with its own errors, rows of groups included, for the error summary."""
        leaves = []
        for f in self.definition_fields():
            field = self[f.key]
            if f.type != "group":
                leaves.append(field)
                continue
            own = [e for e in field.errors if isinstance(e, str)]
            leaves.append(SimpleNamespace(id=field.id, label=SimpleNamespace(
                text=f.label_in(self.language)), errors=own))
            for number, entry in enumerate(field.entries, start=1):
                for sub in entry.form:
                    text = f"{f.label_in(self.language)} {number}: {sub.label.text}"
                    leaves.append(SimpleNamespace(id=sub.id, errors=sub.errors,
                                                  label=SimpleNamespace(text=text)))
        return leaves


def form_class_for(definition, language, sender_kind=None):
    """The WTForms class of ``definition`` in ``language`` for a ``sender_kind``, built once
    per app: definitions are immutable and few, and building a class translates every label.

    The classes live with the app (``app.extensions["handover_form_classes"]``), so a new app
    (a test's, or a worker's after a plugin change) builds its own. A definition's key and
    version name it; the entry keeps the definition itself, so that one loaded again under the
    same name gets a class of its own."""
    form_classes = current_app.extensions.setdefault("handover_form_classes", {})
    key = (definition.plugin_name, definition.key, definition.version, language, sender_kind)
    cached = form_classes.get(key)
    if cached is None or cached[0] is not definition:
        cached = form_classes[key] = (definition, _build_form_class(definition, language,
                                                                    sender_kind))
    return cached[1]


def _build_form_class(definition, language, sender_kind):
    fields = [f for f in definition.fields() if f.shown_for(sender_kind)]
    with force_locale(language):
        attributes = {f.key: _unbound_field(f, language, fields) for f in fields}
    attributes.update(definition=definition, language=language, sender_kind=sender_kind)
    return type(f"{definition.key}_v{definition.version}_form", (DefinitionForm,), attributes)


def build_form(definition, language, sender_kind=None, formdata=None, content=None):
    """A form for ``definition`` in ``language`` with the fields a ``sender_kind`` fills.

    ``formdata`` defaults to the request's form on POST (Flask-WTF); ``content`` is stored
    content to start from (a draft). When the user pressed an "add row" button,
    ``form.add_row_requested`` is the group key: re-render instead of validating.
    """
    form_class = form_class_for(definition, language, sender_kind)
    data = _form_data(definition, content) if content else None
    form = form_class(data=data) if formdata is None else form_class(formdata=formdata, data=data)
    if formdata is None and has_request_context() and form.is_submitted():
        formdata = request.form
    requested = formdata.get("add_row") if formdata is not None else None
    if requested in form._fields and isinstance(form[requested], FieldList):
        group = form[requested]
        if group.max_entries is None or len(group.entries) < group.max_entries:
            group.append_entry()
        form.add_row_requested = requested
    return form


def _form_data(definition, content):
    """Stored content back into what the WTForms fields take (dates, decimals)."""
    def convert(f, value):
        if value is None:
            return None
        if f.type == "date":
            return date.fromisoformat(value)
        if f.type == "number":
            return Decimal(str(value))
        return value

    data = {}
    for f in definition.fields():
        if f.key not in content:
            continue
        if f.type == "group":
            data[f.key] = [
                {sub.key: convert(sub, row.get(sub.key)) for sub in f.fields}
                for row in content[f.key] or []
            ]
        else:
            data[f.key] = convert(f, content[f.key])
    return data


def init_app(app):
    app.jinja_env.globals.update(
        formdef_display_value=display.display_value,
        formdef_sections=display.sections_to_show,
        formdef_emphasis=lambda definition: definition.emphasis(),
    )
