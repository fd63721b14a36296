"""The field rules of a form definition, checked on a plain content dict: no WTForms needed.

``problems(definition, content, sender_kind, language)`` returns ``{path: [message, ...]}``
where a path is a field key or ``group.row.sub`` (rows counted from 0), the paths plugins'
``validate_form`` hooks also use. The send service runs it on stored content, so a forged or
stale draft cannot be sent with what the form forbids; the WTForms builder (the fill page)
calls `value_problems` from its validators, so both say the same thing in the same words.

The rules: a field whose ``show_if`` is false is skipped; an empty field is an error only when
required (in a repeating group, only in a row that is used at all); a filled field must fit its
type (length, choices, dates, numbers in range, phone and e-mail shapes, identity codes that
are valid and not born in the future); a group needs ``min_rows`` used rows and at most
``max_rows``. A date of birth must match the identity code (checked beside the others, so a
page shows every problem at once). An empty required field's message says what to do
(``formdefs.required``). A draft keeps a date or number that could not be read as typed
(`unreadable`), which these rules always refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale, lazy_ngettext
from stdnum import exceptions as stdnum_errors
from stdnum.fi import hetu

from handover.config import SERVICE_TIMEZONE
from handover.formdefs.identity_codes import birth_date_of, contradicts_birth_date
from handover.formdefs.model import YESNO_VALUES, Field, FormDefinition
from handover.formdefs.required import required_message, unreadable_date
from handover.i18n import lazy_gettext as _l

Errors = dict[str, list[str]]

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{5,25}$")
EMAIL_MAX_LENGTH = 254
#: Identity codes are Finnish: "today" is today in Finland, also on a server set to UTC. The
#: same zone as the pages' times: `config.SERVICE_TIMEZONE` is the one both are made from.
TIMEZONE = ZoneInfo(SERVICE_TIMEZONE)
#: Where messages of ``validate_form`` hooks go when their path names no field of the form.
FORM_PATH = "_form"
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
BIRTH_DATE_DIFFERS = _l("The date of birth does not match the personal identity code.")


def too_long(maximum: int) -> Any:
    return _l("Enter at most %(max)s characters.", max=maximum)


def out_of_range(minimum: float | None, maximum: float | None) -> Any:
    if minimum is not None and maximum is not None:
        return _l("Enter a number from %(min)s to %(max)s.", min=minimum, max=maximum)
    if minimum is not None:
        return _l("Enter a number of at least %(min)s.", min=minimum)
    return _l("Enter a number of at most %(max)s.", max=maximum)


def too_few_rows(minimum: int) -> Any:
    return lazy_ngettext("Fill in at least %(num)s row.", "Fill in at least %(num)s rows.",
                         minimum)


def too_many_rows(maximum: int) -> Any:
    return lazy_ngettext("Fill in at most %(num)s row.", "Fill in at most %(num)s rows.",
                         maximum)


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
        return [unreadable_date(field) if kind == "date" else NOT_A_NUMBER]
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
        return [] if as_date(value) is not None else [unreadable_date(field)]
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


def _choice_values(field: Field) -> list[str]:
    return [choice.value for choice in field.choices]


def as_date(value: Any) -> date | None:
    """A stored date answer (ISO text) or a date as a date; None for anything else."""
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


def fields_for(definition: FormDefinition, sender_kind: str | None) -> list[Field]:
    """The top-level fields a sender of ``sender_kind`` fills (the fill page shows these)."""
    return [field for field in definition.fields() if field.shown_for(sender_kind)]


def field_problems(field: Field, value: Any, siblings: Mapping[str, Any],
                   in_group: bool = False, row_used: bool = True) -> list[Any]:
    """Problems of one field that is not a group: its condition (on ``siblings``, the values
    beside it), presence, then its type rules. ``row_used`` is whether a group row has
    anything in it; an unused row is no error."""
    if not field.condition_met(siblings):
        return []
    if is_empty(value):
        if field.required and (row_used or not in_group):
            return [required_message(field)]
        return []
    return value_problems(field, value)


def group_problems(field: Field, rows: Any, siblings: Mapping[str, Any]) -> Errors:
    """Problems of a repeating group: its own under its key, its rows' under ``key.row.sub``."""
    if not field.condition_met(siblings):
        return {}
    if rows is None:
        rows = []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return {field.key: [NOT_VALID]}
    errors: Errors = {}
    used = sum(1 for row in rows if not row_is_empty(field, row))
    counted = row_count_problems(field, used, len(rows))
    if counted:
        errors[field.key] = counted
    for number, row in enumerate(rows):
        row_used = not row_is_empty(field, row)
        for sub in field.fields:
            found = field_problems(sub, row.get(sub.key), row, in_group=True,
                                   row_used=row_used)
            if found:
                errors[f"{field.key}.{number}.{sub.key}"] = found
    return errors


def row_count_problems(field: Field, used: int, rows: int) -> list[Any]:
    """``min_rows`` counts the rows with anything in them; ``max_rows`` every row."""
    if used < field.min_rows:
        return [too_few_rows(field.min_rows)]
    if field.max_rows and rows > field.max_rows:
        return [too_many_rows(field.max_rows)]
    return []


def row_is_empty(field: Field, row: Mapping[str, Any]) -> bool:
    return all(is_empty(row.get(sub.key)) for sub in field.fields)


def problems(definition: FormDefinition, content: Mapping[str, Any] | None,
             sender_kind: str | None = None, language: str = "fi") -> Errors:
    """Every field-rule problem of ``content`` for a sender of ``sender_kind``, in
    ``language``; an empty dict when the content may be sent (plugins' rules aside)."""
    content = content if isinstance(content, Mapping) else {}
    fields = fields_for(definition, sender_kind)
    siblings = {field.key: content.get(field.key) for field in fields}
    found: dict[str, list[Any]] = {}
    for field in fields:
        if field.type == "group":
            found.update(group_problems(field, content.get(field.key), siblings))
            continue
        messages = field_problems(field, content.get(field.key), siblings)
        if messages:
            found[field.key] = messages
    # The cross-field check runs beside the others, so that every problem shows at once;
    # only a code or date that is itself wrong (or missing) is not compared.
    identity, birth = definition.identity_code_field, definition.birth_date_field
    if identity not in found and birth not in found:
        for path, messages in birth_date_problem(definition, content, fields).items():
            found.setdefault(path, []).extend(messages)
    return rendered(found, language)


def birth_date_problem(definition: FormDefinition, content: Mapping[str, Any],
                       fields: Iterable[Field]) -> dict[str, list[Any]]:
    """The date of birth against the identity code, for forms with both fields shown: a
    mismatch means the wrong child. The core checks it for every form, not each plugin."""
    identity, birth = definition.identity_code_field, definition.birth_date_field
    shown = {field.key for field in fields}
    if not identity or not birth or identity not in shown or birth not in shown:
        return {}
    code = content.get(identity)
    code = code.strip() if isinstance(code, str) else code
    if unreadable_text(content.get(birth)) is None and contradicts_birth_date(
            code, content.get(birth)):
        return {birth: [BIRTH_DATE_DIFFERS]}
    return {}


def cleaned(definition: FormDefinition, content: Mapping[str, Any] | None,
            sender_kind: str | None = None) -> dict[str, Any]:
    """The content as the fill page stores it, for plugins' ``validate_form`` hooks and for
    storing content that came as JSON: only the fields this sender fills, text stripped, blank
    answers as None, identity codes in capitals, dates as ISO text, whole numbers as integers,
    empty group rows and fields whose condition is false left out."""
    content = content if isinstance(content, Mapping) else {}
    values: dict[str, Any] = {}
    fields = fields_for(definition, sender_kind)
    for field in fields:
        if field.type == "group":
            rows = content.get(field.key) or []
            kept = [without_unmet_conditions(field.fields, {sub.key: _clean(sub, row.get(sub.key))
                                                   for sub in field.fields})
                    for row in rows if isinstance(row, dict) and not row_is_empty(field, row)]
            values[field.key] = kept
        else:
            values[field.key] = _clean(field, content.get(field.key))
    return without_unmet_conditions(fields, values)


def _clean(field: Field, value: Any) -> Any:
    if field.type == "multichoice":
        return list(value or [])
    if is_empty(value):
        return None
    if field.type == "hetu" and isinstance(value, str):
        return normalised_identity_code(value)
    day = as_date(value) if field.type == "date" else None
    if day is not None:
        return day.isoformat()   # "20150131" passes the rules too; the page stores ISO text
    if field.type == "number" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value.strip() if isinstance(value, str) else value


def normalised_identity_code(code: str) -> str:
    """A valid code as stored: capitals, no spaces (python-stdnum's compact form)."""
    return hetu.compact(code)


def without_unmet_conditions(fields: Iterable[Field], values: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out fields whose condition is false, until nothing changes (conditions chain)."""
    kept = dict(values)
    changed = True
    while changed:
        changed = False
        for field in fields:
            if field.key in kept and not field.condition_met(kept):
                del kept[field.key]
                changed = True
    return kept


def known_path(definition: FormDefinition, path: str, sender_kind: str | None = None,
               content: Mapping[str, Any] | None = None) -> bool:
    """Whether ``path`` (``key`` or ``group.row.sub``) names a field this sender fills (and,
    given ``content``, a row it has)."""
    parts = str(path).split(".")
    fields = {field.key: field for field in fields_for(definition, sender_kind)}
    field = fields.get(parts[0])
    if field is None:
        return False
    if len(parts) == 1:
        return True
    if len(parts) != 3 or field.type != "group" or not parts[1].isdigit():
        return False
    rows = (content or {}).get(field.key) if content is not None else None
    if content is not None and (not isinstance(rows, list) or int(parts[1]) >= len(rows)):
        return False
    return any(sub.key == parts[2] for sub in field.fields)


def place_answers(definition: FormDefinition, answers: Iterable[Mapping[str, Any]],
                  sender_kind: str | None = None,
                  content: Mapping[str, Any] | None = None) -> Errors:
    """Messages of ``validate_form`` hooks by path; a path naming no field goes to the form."""
    errors: Errors = {}
    for answer in answers:
        for path, messages in (answer or {}).items():
            messages = [messages] if isinstance(messages, str) else list(messages or [])
            if messages:
                known = known_path(definition, path, sender_kind, content)
                where = str(path) if known else FORM_PATH
                errors.setdefault(where, []).extend(str(message) for message in messages)
    return errors


def rendered(found: Mapping[str, list[Any]], language: str) -> Errors:
    """Lazy messages as text in ``language``."""
    with force_locale(language):
        return {path: [str(message) for message in messages]
                for path, messages in found.items()}
