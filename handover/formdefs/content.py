"""The field rules of a form definition, checked on a plain content dict: no WTForms needed.

``problems(definition, content, sender_kind, language)`` returns ``{path: [message, ...]}``
where a path is a field key or ``group.row.sub`` (rows counted from 0), the paths plugins'
``validate_form`` hooks also use. The send service runs it on stored content, so a forged or
stale draft cannot be sent with what the form forbids; the WTForms builder (the fill page)
calls `value_problems` from its validators, so both say the same thing in the same words.

The rules: a field whose ``show_if`` is false is skipped; an empty field is an error only when
required (in a repeating group, only in a row that is used at all); a filled field must fit its
type (length, choices, dates, numbers in range, phone and e-mail shapes, identity codes that
are valid and not born in the future, dates not after today where the field says
``not_after = "today"``); a group needs ``min_rows`` used rows and at most
``max_rows``. A date of birth must match the identity code (checked beside the others, so a
page shows every problem at once). An empty required field's message says what to do
(``formdefs.required``). A draft keeps a date or number that could not be read as typed
(`unreadable`), which these rules always refuse.

This module checks a whole content (`problems`, with the cross-field check of the date of birth)
and places plugins' messages on it (`place_answers`). The rules it applies live beside it by
concern and are answered here too, so callers import them from this one module:
`content_values` (one typed value: its type, identity codes, dates and today in Finland, values
kept unreadable), `content_fields` (one field, a group's rows) and `content_cleaning` (the
content as stored).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import force_locale

from handover.formdefs.content_cleaning import (  # noqa: F401  (answered through here)
    cleaned,
    without_unmet_conditions,
)
from handover.formdefs.content_fields import (  # noqa: F401  (answered through here)
    Errors,
    field_problems,
    fields_for,
    group_problems,
    row_count_problems,
    row_is_empty,
    too_few_rows,
    too_many_rows,
)
from handover.formdefs.content_values import (  # noqa: F401  (answered through here)
    CODE_CHECKSUM,
    CODE_COMPONENT,
    CODE_FORMAT,
    CODE_IN_FUTURE,
    EMAIL,
    EMAIL_MAX_LENGTH,
    NOT_A_CHOICE,
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_A_PHONE,
    NOT_AN_EMAIL,
    NOT_VALID,
    PHONE,
    REQUIRED,
    TIMEZONE,
    UNREADABLE,
    as_date,
    holds_unreadable,
    identity_code_problem,
    is_empty,
    normalised_identity_code,
    out_of_range,
    today,
    too_long,
    unreadable,
    unreadable_text,
    value_problems,
    without_unreadable,
)
from handover.formdefs.identity_codes import contradicts_birth_date
from handover.formdefs.model import Field, FormDefinition
from handover.formdefs.required import (
    before_birth,
    required_message,  # noqa: F401  (the fill page asks here)
)
from handover.i18n import lazy_gettext as _l

#: Where messages of ``validate_form`` hooks go when their path names no field of the form.
FORM_PATH = "_form"

BIRTH_DATE_DIFFERS = _l("The date of birth does not match the personal identity code.")


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
    if birth and birth not in found:
        for path, messages in before_birth_problems(as_date(content.get(birth)), content,
                                                    fields).items():
            if path not in found:   # a date that is itself wrong is not compared
                found[path] = messages
    return rendered(found, language)


def before_birth_problems(born: date | None, content: Mapping[str, Any],
                          fields: Iterable[Field]) -> dict[str, list[Any]]:
    """The dates of fields with ``not_before = "birth"`` that lie before the child's date of
    birth ``born`` (a row's too): a year typed wrong (14.3.2002 for 14.3.2020) reads as a
    date like any other, and the receiver would take it for a fact."""
    if born is None:
        return {}
    found: dict[str, list[Any]] = {}

    def check(field: Field, value: Any, path: str) -> None:
        day = as_date(value) if field.type == "date" and field.not_before == "birth" else None
        if day is not None and day < born:
            found[path] = [before_birth(field)]

    for field in fields:
        if field.type == "group":
            rows = content.get(field.key)
            for number, row in enumerate(rows if isinstance(rows, list) else ()):
                for sub in field.fields:
                    if isinstance(row, Mapping):
                        check(sub, row.get(sub.key), f"{field.key}.{number}.{sub.key}")
        else:
            check(field, content.get(field.key), field.key)
    return found


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
