"""A content as the fill page stores it (`cleaned`), whatever way it came: what plugins'
``validate_form`` hooks are given, and what content sent as JSON is stored as. Only the fields
the sender fills are kept, and only those whose condition holds (`without_unmet_conditions`).

`formdefs.content` answers for these: callers import them from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from handover.formdefs.content_fields import fields_for, row_is_empty
from handover.formdefs.content_values import as_date, is_empty, normalised_identity_code
from handover.formdefs.model import Field, FormDefinition


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
