"""The rules of one field of a form, and of a repeating group's rows: a field whose ``show_if``
is false is skipped; an empty field is an error only when required (in a repeating group, only in
a row that is used at all) and its message says what to do (`formdefs.required`); a filled field
must fit its type (`content_values`); a group needs ``min_rows`` used rows and at most
``max_rows``.

`formdefs.content` applies them to every field a sender fills (`fields_for`) and answers for
them: callers import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_ngettext

from handover.formdefs.content_values import NOT_VALID, is_empty, value_problems
from handover.formdefs.model import Field, FormDefinition
from handover.formdefs.required import required_message

Errors = dict[str, list[str]]


def too_few_rows(minimum: int) -> Any:
    return lazy_ngettext("Fill in at least %(num)s row.", "Fill in at least %(num)s rows.",
                         minimum)


def too_many_rows(maximum: int) -> Any:
    return lazy_ngettext("Fill in at most %(num)s row.", "Fill in at most %(num)s rows.",
                         maximum)


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
