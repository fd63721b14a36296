"""One typed value against its field's type, as stored: dates as ISO text, numbers as numbers,
multiple choices as a list (`value_problems`), with the words for each problem.

What that takes lives here too: whether anything was typed at all (`is_empty`), Finnish identity
codes (valid, and not born after today in Finland: `today`), reading a stored date (`as_date`),
a date field's ``not_after`` (with "today", never after today in Finland either) and the
value a draft keeps as typed when it cannot be read as its field's type (`unreadable`),
which these rules always refuse. `formdefs.content` applies them to a whole content and answers
for all of them: callers import them from there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from stdnum import exceptions as stdnum_errors
from stdnum.fi import hetu

from handover.config import SERVICE_TIMEZONE
from handover.formdefs.identity_codes import birth_date_of
from handover.formdefs.model import YESNO_VALUES, Field
from handover.formdefs.required import in_future, unreadable_date, year_to_check
from handover.i18n import lazy_gettext as _l

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{5,25}$")
EMAIL_MAX_LENGTH = 254
#: Identity codes are Finnish: "today" is today in Finland, also on a server set to UTC. The
#: same zone as the pages' times: `config.SERVICE_TIMEZONE` is the one both are made from.
TIMEZONE = ZoneInfo(SERVICE_TIMEZONE)
#: The key under which a draft keeps a value typed that could not be read (`unreadable`).
UNREADABLE = "unreadable"

REQUIRED = _l("This field is required.")
NOT_VALID = _l("The value is not valid.")
NOT_A_CHOICE = _l("Choose one of the options.")
NOT_A_DATE = _l("Enter a date, for example 31.12.2015.")
NOT_A_NUMBER = _l("Enter a number.")
NOT_A_PHONE = _l("Enter a phone number, for example +358 40 123 4567.")
NOT_AN_EMAIL = _l("Enter an e-mail address, for example name@example.fi.")
CODE_CHECKSUM = _l("The check character of the identity code is wrong.")
CODE_COMPONENT = _l("The date or the individual number of the identity code is not valid.")
CODE_FORMAT = _l("Enter the identity code as DDMMYY, a century sign, three digits and a check "
                 "character, for example 010594Y9032.")
CODE_IN_FUTURE = _l("The date of birth in the identity code is in the future. Check the "
                    "identity code.")


def too_long(maximum: int) -> Any:
    return _l("Enter at most %(max)s characters.", max=maximum)


def out_of_range(minimum: float | None, maximum: float | None) -> Any:
    if minimum is not None and maximum is not None:
        return _l("Enter a number from %(min)s to %(max)s.", min=minimum, max=maximum)
    if minimum is not None:
        return _l("Enter a number of at least %(min)s.", min=minimum)
    return _l("Enter a number of at most %(max)s.", max=maximum)


def today() -> date:
    return datetime.now(TIMEZONE).date()


def is_empty(value: Any) -> bool:
    """Nothing typed: None, blank text or no choice ticked."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def identity_code_problem(code: str, on: date | None = None) -> Any:
    """What is wrong with a typed identity code, or None. Temporary codes (900-999) and the
    century signs of 2023 (Y X W V U, B C D E F) are valid; a birth date after ``on`` (today)
    is not: no child is born in 2050, so the code was mistyped."""
    try:
        hetu.validate(code, allow_temporary=True)
    except stdnum_errors.InvalidChecksum:
        return CODE_CHECKSUM
    except stdnum_errors.InvalidComponent:
        return CODE_COMPONENT
    except stdnum_errors.ValidationError:
        return CODE_FORMAT
    born = birth_date_of(code)
    if born is not None and born > (on or today()):
        return CODE_IN_FUTURE
    return None


def unreadable(text: str) -> dict[str, str]:
    """What a draft keeps of a typed value that cannot be read as its field's type (31.2.2011
    in a date, "seven" in a number): the text as typed, under `UNREADABLE`. Never a string nor
    a number, so nothing that reads a date from ISO text takes it for one, and `value_problems`
    refuses it: a draft keeps it, a send never carries it."""
    return {UNREADABLE: text}


def unreadable_text(value: Any) -> str | None:
    """The text of a value kept by `unreadable`; None for any other value."""
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get(UNREADABLE), str):
        return str(value[UNREADABLE])
    return None


def holds_unreadable(value: Any) -> bool:
    """Whether a stored answer (a group's rows too) holds a value kept by `unreadable`."""
    if isinstance(value, list):
        return any(isinstance(row, Mapping) and any(map(holds_unreadable, row.values()))
                   for row in value)
    return unreadable_text(value) is not None


def without_unreadable(content: Mapping[str, Any]) -> dict[str, Any]:
    """``content`` with each value kept by `unreadable` as None (in group rows too): what the
    cross-field checks read on the fill page, as they would have read nothing typed."""
    def readable(value: Any) -> Any:
        if isinstance(value, list):
            return [{key: readable(item) for key, item in row.items()}
                    if isinstance(row, Mapping) else row for row in value]
        return None if unreadable_text(value) is not None else value

    return {key: readable(value) for key, value in content.items()}


def value_problems(field: Field, value: Any) -> list[Any]:
    """Problems of one filled-in value (not empty; see `is_empty`) with the field's type rules,
    as stored: dates as ISO text, numbers as numbers, multiple choices as a list. A value kept
    as typed because it could not be read (`unreadable`) is always refused."""
    kind = field.type
    if kind in ("date", "number") and unreadable_text(value) is not None:
        return [unreadable_date(field, unreadable_text(value)) if kind == "date"
                else NOT_A_NUMBER]
    if kind in ("text", "textarea", "hetu", "phone", "email"):
        if not isinstance(value, str):
            return [NOT_VALID]
        value = value.strip()
    if kind in ("text", "textarea"):
        limit = field.max_length
        return [too_long(limit)] if limit is not None and len(value) > limit else []
    if kind == "hetu":
        problem = identity_code_problem(value)
        return [problem] if problem is not None else []
    if kind == "phone":
        digits = sum(character.isdigit() for character in value)
        return [] if PHONE.match(value) and digits >= 5 else [NOT_A_PHONE]
    if kind == "email":
        if not EMAIL.match(value):
            return [NOT_AN_EMAIL]
        return [too_long(EMAIL_MAX_LENGTH)] if len(value) > EMAIL_MAX_LENGTH else []
    if kind == "date":
        return _date_problems(field, value)
    if kind == "number":
        return _number_problems(field, value)
    if kind == "yesno":
        return [] if value in YESNO_VALUES else [NOT_A_CHOICE]
    if kind == "choice":
        return [] if value in _choice_values(field) else [NOT_A_CHOICE]
    if kind == "multichoice":
        allowed = _choice_values(field)
        if not isinstance(value, list) or any(item not in allowed for item in value):
            return [NOT_A_CHOICE]
        return []
    return [NOT_VALID]


def _date_problems(field: Field, value: Any) -> list[Any]:
    """A stored date must read as one within the years a form takes (`as_date`), and not lie
    after the field's ``not_after``: with "today", after today in Finland (`today`), as an
    identity code's date may not."""
    read = as_date(value)
    if read is None:
        outside = _any_date(value)
        if outside is not None:
            return [year_to_check(field, f"{outside.day}.{outside.month}.{outside.year:04d}")]
        return [unreadable_date(field)]
    if field.not_after == "today" and read > today():
        return [in_future(field)]
    return []


def _choice_values(field: Field) -> list[str]:
    return [choice.value for choice in field.choices]


#: The dates a form takes. A year outside them is one nobody means in a child's handover
#: (14.3.0025 typed for 2025; 30.12.9999), and the deadlines counted from a date near the
#: calendar's first or last year (a send-by date, the day after it) do not exist.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2199, 12, 31)


def as_date(value: Any) -> date | None:
    """A stored date answer (ISO text) or a date as a date, within `FIRST_DATE`..`LAST_DATE`;
    None for anything else."""
    read = _any_date(value)
    return read if read is not None and FIRST_DATE <= read <= LAST_DATE else None


def _any_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _number_problems(field: Field, value: Any) -> list[Any]:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return [NOT_A_NUMBER]
    if (field.min is not None and value < field.min) or (field.max is not None
                                                         and value > field.max):
        return [out_of_range(field.min, field.max)]
    return []


def normalised_identity_code(code: str) -> str:
    """A valid code as stored: capitals, no spaces (python-stdnum's compact form)."""
    return hetu.compact(code)
