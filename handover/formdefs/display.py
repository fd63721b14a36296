"""Showing stored form content to a reader: values as text in the reader's language.

Used by ``macros/formdef.html`` (view and print pages) through Jinja globals.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import force_locale
from markupsafe import Markup, escape

from handover.formdefs import content as content_rules
from handover.formdefs.model import Field, FormDefinition, Section
from handover.i18n import current_locale
from handover.i18n import gettext as _

EMPTY = "—"


def yes_no_label(value: object, language: str) -> str:
    text = "Yes" if value == "yes" else "No"
    if str(current_locale()) == language:   # the usual case: the page's own language
        return _(text)
    with force_locale(language):
        return _(text)


def condition_hint(field: Field, definition_fields: Iterable[Field], language: str) -> str:
    """'Fill in only if ...' for a field with ``show_if``: without JavaScript every field is
    shown, so the reader must be told when a field applies."""
    if not field.show_if:
        return ""
    target = next((f for f in definition_fields if f.key == field.show_if["field"]), None)
    if target is None:
        return ""
    wanted = field.show_if.get("in") or [field.show_if.get("equals")]
    shown = [
        yes_no_label(value, language) if target.type == "yesno"
        else target.choice_label(value, language)
        for value in wanted
    ]
    with force_locale(language):
        return _("Fill in only if the answer to “%(field)s” is “%(value)s”.",
                 field=target.label_in(language), value=" / ".join(map(str, shown)))


def display_value(field: Field, value: Any, language: str) -> str:
    """One stored value (any JSON value the field's type stores) as readable text (Markup for
    multi-line text)."""
    if value is None or value == "" or value == []:
        return EMPTY
    typed = content_rules.unreadable_text(value)
    if typed is not None:   # a draft's answer kept as typed: its check-answers page says why
        return typed
    if field.type == "yesno":
        return yes_no_label(value, language)
    if field.type == "choice":
        return field.choice_label(value, language)
    if field.type == "multichoice":
        labels = [field.choice_label(item, language) for item in value]
        # "Meetings, Calls, messages and other contact" is two choices or three: choices
        # whose own labels have commas are told apart by semicolons.
        return ("; " if any("," in label for label in labels) else ", ").join(labels)
    if field.type == "date":
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)
        return date_text(day)
    if field.type == "textarea":
        return Markup("<br>").join(escape(line) for line in str(value).splitlines())
    return str(value)


def date_text(day: date) -> str:
    """A date as every page shows it, typed or read: d.m.yyyy without leading zeros."""
    return f"{day.day}.{day.month}.{day.year:04d}"


#: The message each type gives any value it cannot read: a label it already says ("Date" in
#: "Enter a date, for example 31.12.2015.") names the type, not the field.
_GENERIC_MESSAGES = {"date": content_rules.NOT_A_DATE, "number": content_rules.NOT_A_NUMBER,
                     "phone": content_rules.NOT_A_PHONE, "email": content_rules.NOT_AN_EMAIL}


def field_name(field: Field, section: Section | None, language: str) -> str:
    """What an error summary calls ``field``: its label, and where the label only names its
    type (the author's "Päivämäärä" in "Anna päivämäärä muodossa p.k.vvvv"), its section's
    title too, "Päivämäärä (Laatija)": every line of a summary must say which field it means."""
    label = field.label_in(language)
    generic = _GENERIC_MESSAGES.get(field.type)
    if generic is None or section is None:
        return label
    with force_locale(language):
        generic_text = str(generic).lower()
    if label.strip().rstrip("?:.").strip().lower() in generic_text:
        return f"{label} ({section.title_in(language)})"
    return label


def sections_to_show(definition: FormDefinition,
                     sections: Iterable[Section | str] | None = None) -> tuple[Section, ...]:
    """``sections`` may be Section objects or section keys; None means every section."""
    if sections is None:
        return definition.sections
    keys = {s.key if isinstance(s, Section) else s for s in sections}
    return tuple(s for s in definition.sections if s.key in keys)
