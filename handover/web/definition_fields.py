"""One WTForms field for each field of a form definition, with the definition's rules as its
validators (`handover.formdefs.content`: the page and the send service check the same things
and say them in the same words), and each field's value as the stored content holds it.
`handover.web.formbuilder` puts them together into one form class per definition; the
multiple-choice field and the date formats serve the other pages' forms too.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation

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
from handover.formdefs.required import unreadable_date
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.web.form_base import RowForm

#: Dates are typed as d.m.yyyy in one text field in every language, never in a browser's date
#: picker (which follows the browser's locale: mm/dd/yyyy in an English browser). ISO dates are
#: still accepted. WTForms' own DateField (the audit and client pages) shows the first format
#: back; a form definition's date (`KeptDateField`) shows d.m.yyyy without leading zeros.
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


class KeepsTyping:
    """A date or number field that keeps what it cannot read. What was typed is read with the
    spaces around it stripped, as text is; what still cannot be read (31.2.2011, 14.3.12,
    "seven") is kept as typed in ``unreadable_text``: shown back in the input, stored in the
    draft as `content.unreadable` and refused by `FieldRules` in the service's words, where
    WTForms would have emptied the value. A stored value is read the same way (ISO text, a
    number, or a value kept as typed), so a page that does not post the field keeps it."""

    unreadable_text = None

    def process_data(self, value):
        typed = rules.unreadable_text(value)
        read = None if typed is not None or value in (None, "") else self.read_stored(value)
        if typed is None and value not in (None, "") and read is None:
            typed = str(value)   # stored text no page could have stored: kept, not read
        self.data, self.unreadable_text = read, typed

    def process_formdata(self, valuelist):
        if not valuelist:
            return   # not on the posted page: what was stored stands
        text = " ".join(valuelist).strip()
        self.data = self.read_typed(text) if text else None
        self.unreadable_text = text if text and self.data is None else None

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.unreadable_text is not None:
            return self.unreadable_text
        return "" if self.data is None else self.shown(self.data)


class KeptDateField(KeepsTyping, DateField):
    """A date typed as d.m.yyyy (or ISO), shown back as d.m.yyyy without leading zeros, as the
    hint and the reading view write it."""

    def read_typed(self, text):
        for pattern in DATE_FORMATS:
            try:
                day = datetime.strptime(text, pattern).date()
            except ValueError:
                continue
            # A year no handover means (0025, 9999) is kept as typed and refused.
            return rules.as_date(day)
        return None

    def read_stored(self, value):
        return rules.as_date(value)

    def shown(self, day):
        return display.date_text(day)


class KeptNumberField(KeepsTyping, DecimalField):
    """A number, typed in a text input (a browser's number input posts nothing for what it
    cannot read, so nothing could be kept); infinity and NaN are no numbers."""

    def read_typed(self, text):
        """A decimal comma, as Finnish and Swedish write a number ("7,5"), reads as a point."""
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        return self.read_stored(text)

    def read_stored(self, value):
        if isinstance(value, bool):
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None

    def shown(self, number):
        return str(int(number) if number == number.to_integral_value() else float(number))


def _is_empty(field):
    raw = [value for value in (field.raw_data or []) if str(value).strip()]
    return (not raw and field.data in (None, "", [])
            and getattr(field, "unreadable_text", None) is None)


def _values(form):
    return {subfield.short_name: subfield.data for subfield in form}


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
        row_unused = self.in_group and all(_is_empty(f) for f in form)
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
            return   # WTForms could not read a choice; its message stands
        if field.raw_data == [] and getattr(field, "unreadable_text", None) is not None:
            # Kept as typed by an earlier save and not posted now: a page checks what it is
            # sent; the check-answers page (and ``?check``) says what the draft holds.
            return
        typed = getattr(field, "unreadable_text", None)
        if self.definition_field.type == "date" and typed is not None:
            # In the right format, a date that does not exist (31.2.2025) is said not to
            # exist; in any other, the format is given (`unreadable_date`).
            raise ValidationError(unreadable_date(self.definition_field, typed))
        # A date or number that cannot be read is kept as typed, which the rules refuse.
        value = stored_value(self.definition_field, field)
        for problem in rules.value_problems(self.definition_field, value):
            raise ValidationError(problem)
        if self.definition_field.type == "hetu":
            field.data = rules.normalised_identity_code(field.data)


class TooFewRows(str):
    """"Fill in at least N rows": a missing answer, which a section's save lets wait."""

    __slots__ = ()


class RowCount:
    """``min_rows`` and ``max_rows`` of a repeating group (skipped while its condition is
    false, like any field), said in plain text, which the error summary and the "Error:"
    title read. The list has no ``max_entries``: it would drop rows typed past the maximum,
    and refuse to open a draft holding more; too many rows are said, not lost."""

    def __init__(self, definition_field):
        self.definition_field = definition_field

    def __call__(self, form, field):
        if not self.definition_field.condition_met(_values(form)):
            field.errors[:] = []
            raise StopValidation()
        # Rows left empty are not stored, so only used rows count, as when the draft is sent.
        used = sum(not all(_is_empty(f) for f in e.form) for e in field.entries)
        for problem in rules.row_count_problems(self.definition_field, used, used):
            few = used < self.definition_field.min_rows
            raise ValidationError(TooFewRows(problem) if few else str(problem))


def group_required(definition_field, form):
    """Whether a group needs a row now: ``min_rows`` of at least one, while its condition
    holds for what the ``form`` holds."""
    return definition_field.min_rows >= 1 and definition_field.condition_met(_values(form))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def unbound_field(definition_field, language, siblings, in_group=False):
    """The unbound WTForms field for ``definition_field`` (a group: a list of row forms)."""
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
        return KeptDateField(validators=validators, format=DATE_FORMATS, widget=TextInput(),
                             render_kw={"autocomplete": "off", "spellcheck": "false"},
                             **options)
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
        return KeptNumberField(validators=validators, widget=TextInput(),
                               render_kw={"inputmode": "decimal", "autocomplete": "off"},
                               **options)
    if f.type == "group":
        row_class = type(f"{f.key}_row", (RowForm,), {
            sub.key: unbound_field(sub, language, f.fields, in_group=True) for sub in f.fields
        })
        return FieldList(FormField(row_class, label=f.label_in(language)), min_entries=1,
                         validators=[RowCount(f)], **options)
    raise ValueError(f"unknown field type {f.type!r}")


def json_value(definition_field, data):
    """A field's data as the stored content holds it (dates as ISO text, whole numbers as int)."""
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


def stored_value(definition_field, field):
    """What the draft stores of a bound ``field``: `json_value` of its data, or what was typed
    as `content.unreadable` when a date or number could not be read."""
    typed = getattr(field, "unreadable_text", None)
    if typed is not None:
        return rules.unreadable(typed)
    return json_value(definition_field, field.data)


def row_content(subfields, row_form):
    """One row of a repeating group as stored; None for a row left empty."""
    row = {sub.key: stored_value(sub, row_form[sub.key]) for sub in subfields}
    if all(value in (None, []) for value in row.values()):
        return None
    return rules.without_unmet_conditions(subfields, row)
