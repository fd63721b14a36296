"""What an empty required field's error says: what to do, in the field's own words.

"This field is required" twelve times on one page tells a person nothing; "Select the type
of arrival" does. A definition may give a field its own ``required_message`` (fi, sv, en);
otherwise the message is built from the field's type and label: "Enter …" for what is typed (a
date too, in Finnish "Anna …", not "Kirjoita …": a date is given, not written), "Select …" for
a choice. A date typed that cannot be read is not missing but wrong:
it alone gets the format, "Enter … as day.month.year" (`unreadable_date`), whatever the field's
own message says about leaving it empty; a date typed in that format that no calendar has
(31.2.2025) is said not to exist (`nonexistent_date`). The message is lazy, so the same object
reads in the language of the page (or of ``force_locale``) when shown.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from handover.formdefs.model import Field, text_in
from handover.i18n import _translations, current_locale, gettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues (`scripts/translations` extracts N_) without
    translating it here: it is translated when shown, in the reader's language."""
    return message


#: What to do with an empty field, by its type; the label fills ``%(label)s``. The verbs take
#: the label as an object ("Enter child's name"), except where a label is a question or a
#: statement to answer (yes/no, several choices): those follow a colon.
_TEMPLATES = {
    "choice": N_("Select %(label)s"),
    "yesno": N_("Answer yes or no: %(label)s"),
    "multichoice": N_("Select at least one: %(label)s"),
}
_TYPED = N_("Enter %(label)s")
#: An empty date says `_TYPED` in the context "date" (`pgettext` below): the same English, its
#: own translation; Finnish gives a date ("Anna kotiutuspäivä"), it does not write one.
#: What to do with a date that is no date (31.2.2012, 3/14/2012); never said of an empty one.
_DATE_FORMAT = N_("Enter %(label)s as day.month.year, for example 14.3.2012")
#: The same said to a system that sends JSON (the API, a reply form's JSON): it sends a date as
#: ISO text, the only form it may take there (`iso_date_format`).
_ISO_DATE_FORMAT = N_("Enter %(label)s as year-month-day, for example 2026-12-10")
#: What to do with a date after its field's ``not_after`` (a birth or a consent tomorrow): the
#: date is wrong, not missing. The label follows a colon, as it may be a question ("When was
#: the child told").
_IN_FUTURE = N_("The date cannot be in the future: %(label)s")
#: What to do with a date before the child's date of birth in a field with ``not_before``.
_BEFORE_BIRTH = N_("The date cannot be before the child's date of birth: %(label)s")
#: What to do with a date typed in the right format that does not exist (31.2.2025): not the
#: format, which was right. The label follows a colon, as in `_IN_FUTURE`.
_NO_SUCH_DATE = N_("The date %(date)s does not exist: %(label)s")
#: What to do with a real date whose year no handover means (14.3.0025 typed for 2025, or
#: 30.12.9999): check the year. The label follows a colon, as in `_NO_SUCH_DATE`.
_CHECK_THE_YEAR = N_("Check the year of %(date)s: %(label)s")
#: A date typed as a date is typed (d.m.yyyy, or ISO), read or not: one that is not read
#: (31.2.2025, 2025-02-31) is in the right format but does not exist.
DATE_SHAPE = re.compile(r"^(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2})$")
#: Templates that take the label as an object: its first letter goes lower case.
_AS_OBJECT = {_TYPED, _DATE_FORMAT, _ISO_DATE_FORMAT, _TEMPLATES["choice"], _NO_SUCH_DATE,
              _CHECK_THE_YEAR}


def pgettext(context: str, message: str, **variables: Any) -> str:
    """``message`` translated in ``context`` (the catalogue's msgctxt), as `gettext` does."""
    translated = _translations().pgettext(context, message)
    return translated % variables if variables else translated


class RequiredMessage:
    """The lazy message of one empty required field; ``str()`` gives it in the current
    language. Compares equal to its text, as the messages it replaces did. ``missing`` is
    False for a date that could not be read, which gets the format instead ("Enter date of
    arrival as day.month.year, …"): that answer is wrong, not missing."""

    def __init__(self, field: Field, missing: bool = True, template: str | None = None,
                 typed: str | None = None):
        self.field = field
        self.missing = missing
        #: What a wrong answer gets instead of the format (`in_future`); None: the format.
        self.template = template
        #: The date as typed, which `nonexistent_date` and `year_to_check` name.
        self.typed = typed

    def __str__(self) -> str:
        locale = current_locale()
        # Outside an app there is no catalogue: the templates stay English, so the label does.
        language = str(locale)[:2] if locale is not None else "en"
        if self.missing:
            own = text_in(self.field.required_message, language)
            if own:
                return own
            template = _TEMPLATES.get(self.field.type, _TYPED)
        else:
            template = self.template or _DATE_FORMAT
        label = self.field.label_in(language).strip().rstrip("?:.").strip()
        if template in _AS_OBJECT:
            label = _as_object(label)
        if template is _TYPED and self.field.type == "date":
            return pgettext("date", "Enter %(label)s", label=label)
        if template is _NO_SUCH_DATE or template is _CHECK_THE_YEAR:
            return gettext(template, date=self.typed, label=label)
        return gettext(template, label=label)

    def __eq__(self, other: Any) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return repr(str(self))   # a list of errors prints its messages, as of plain texts


def _as_object(label: str) -> str:
    """"Lapsen nimi" -> "lapsen nimi"; an acronym or a name ("ORS-pisteet") stays."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def required_message(field: Field) -> RequiredMessage:
    return RequiredMessage(field)


def unreadable_date(field: Field, typed: str | None = None) -> RequiredMessage:
    """What to do about a date that is no date (3/14/2012): the field's own words. Given what
    was ``typed``, a date in the right format that does not exist (31.2.2012) is said not to
    exist (`nonexistent_date`) instead of being given the format it has."""
    if typed is not None and DATE_SHAPE.match(typed.strip()):
        if _a_calendar_date(typed.strip()):
            return year_to_check(field, typed.strip())
        return nonexistent_date(field, typed.strip())
    return RequiredMessage(field, missing=False)


def _a_calendar_date(typed: str) -> bool:
    """Whether ``typed`` (in `DATE_SHAPE`) names a day some calendar year has: one that was
    not read as a date was then outside the years a form takes (`content_values.as_date`)."""
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            datetime.strptime(typed, pattern)
        except ValueError:
            continue
        return True
    return False


def year_to_check(field: Field, typed: str) -> RequiredMessage:
    """What to say of a real date whose year no handover means (14.3.0025, 30.12.9999)."""
    return RequiredMessage(field, missing=False, template=_CHECK_THE_YEAR, typed=typed)


def nonexistent_date(field: Field, typed: str) -> RequiredMessage:
    """What to say of a date typed in the right format that does not exist (31.2.2025): that
    it does not exist, naming it and the field; the format was right."""
    return RequiredMessage(field, missing=False, template=_NO_SUCH_DATE, typed=typed)


def iso_date_format(field: Field) -> RequiredMessage:
    """What to do about a date that is no date, said to a system sending JSON, where a date is
    ISO text (2026-12-10): the web form's "day.month.year" would ask for what it refuses."""
    return RequiredMessage(field, missing=False, template=_ISO_DATE_FORMAT)


def in_future(field: Field) -> RequiredMessage:
    """What to do about a date after today in a field with ``not_after = "today"`` (a date
    of birth in 2099, a consent given next year): the field's own words, like the format's."""
    return RequiredMessage(field, missing=False, template=_IN_FUTURE)


def before_birth(field: Field) -> RequiredMessage:
    """What to do about a date before the child's date of birth in a field with
    ``not_before = "birth"`` (a placement that began before the child was born)."""
    return RequiredMessage(field, missing=False, template=_BEFORE_BIRTH)


def is_required_message(message: Any) -> bool:
    """Whether ``message`` says a required answer is missing (not that one is wrong): a section
    page keeps such a section "in progress" instead of refusing to save it."""
    return isinstance(message, RequiredMessage) and message.missing
