"""Checks of the fields of a form definition: types, texts, choices, conditions, groups."""

from typing import Any

from handover.formdefs.checker import Checker, Raw
from handover.formdefs.model import (
    CHOICE_TYPES,
    FIELD_TYPES,
    NOT_AFTER,
    NOT_BEFORE,
    PREFILLS,
    YESNO_VALUES,
)

FIELD_KEYS = {
    "key", "type", "label", "help", "required", "sensitive", "reveals_location", "choices",
    "show_if", "max_length", "fields", "sender_kinds", "min", "max", "min_rows", "max_rows",
    "prefill", "required_message", "not_after", "not_before",
}
#: Names a built form class already uses; a field with one of these keys would hide it.
RESERVED_FIELD_KEYS = {
    "content", "csrf_token", "data", "definition", "errors", "form_errors", "hidden_tag",
    "is_submitted", "language", "meta", "populate_obj", "process", "validate",
    "validate_on_submit", "add_row", "sender_kind", "leaf_fields", "extra_errors",
}


def check_fields(checker: Checker, raw_fields: list[Any], base: str, seen: dict[str, Raw],
                 in_group: bool) -> None:
    for index, raw in enumerate(raw_fields):
        here = f"{base}[{index}]"
        if not isinstance(raw, dict):
            checker.add(here, "must be a table")
            continue
        if isinstance(raw.get("key"), str):
            here = f"{here} (key '{raw['key']}')"
        key = check_field(checker, raw, here, base=f"{base}[{index}]", in_group=in_group)
        if key is None:
            continue
        if key in seen:
            checker.add(here, f"duplicate field key '{key}'")
        else:
            seen[key] = raw
        raw["_where"] = here


def check_field(checker: Checker, raw: Raw, here: str, base: str, in_group: bool) -> str | None:
    checker.unknown_keys(raw, FIELD_KEYS | {"_where"}, here)
    key = checker.key(raw, here, "field key")
    if key in RESERVED_FIELD_KEYS or (key or "").startswith("validate"):
        checker.add(here, f"field key '{key}' is reserved; choose another")
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        checker.add(here, f"type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
    checker.texts(raw, here, "label")
    checker.texts(raw, here, "help", required=False)
    for flag in ("required", "sensitive", "reveals_location"):
        checker.boolean(raw, flag, here)
    checker.texts(raw, here, "required_message", required=False)
    if "required_message" in raw and raw.get("required") is not True:
        checker.add(here, "'required_message' only belongs to a field with required = true")
    if "sender_kinds" in raw:
        checker.kinds(raw["sender_kinds"], f"{here}.sender_kinds", allow_empty=False)
    if kind not in FIELD_TYPES:
        return key  # what else belongs to a field depends on its type
    if kind in CHOICE_TYPES:
        checker.choices(raw, here)
    elif "choices" in raw:
        checker.add(here, f"'choices' only belong to choice and multichoice fields, not {kind!r}")
    if "max_length" in raw:
        if kind not in ("text", "textarea"):
            checker.add(here, "'max_length' only belongs to text and textarea fields")
        checker.positive_int(raw["max_length"], f"{here}.max_length")
    for bound in ("min", "max"):
        if bound in raw:
            if kind != "number":
                checker.add(here, f"'{bound}' only belongs to number fields")
            elif isinstance(raw[bound], bool) or not isinstance(raw[bound], int | float):
                checker.add(here, f"'{bound}' must be a number")
    if isinstance(raw.get("min"), int | float) and isinstance(raw.get("max"), int | float):
        if raw["min"] > raw["max"]:
            checker.add(here, "'min' is greater than 'max'")
    if "show_if" in raw:
        show_if = raw["show_if"]
        if (not isinstance(show_if, dict) or not isinstance(show_if.get("field"), str)
                or len({"equals", "in"} & set(show_if)) != 1
                or set(show_if) - {"field", "equals", "in"}):
            checker.add(here, "show_if must be {field = KEY, equals = VALUE} or "
                              "{field = KEY, in = [VALUES]}")
            raw["show_if"] = None
        elif "in" in show_if and (not isinstance(show_if["in"], list) or not show_if["in"]):
            checker.add(here, "show_if.in must be a non-empty list of values")
            raw["show_if"] = None
    if "prefill" in raw and PREFILLS.get(raw["prefill"]) != kind:
        checker.add(here, f"prefill {raw['prefill']!r} must be one of "
                          + ", ".join(f"'{name}' (a {wanted} field)"
                                      for name, wanted in PREFILLS.items()))
    for bound, allowed in (("not_after", NOT_AFTER), ("not_before", NOT_BEFORE)):
        if bound not in raw:
            continue
        if kind != "date":
            checker.add(here, f"'{bound}' only belongs to date fields")
        elif raw[bound] not in allowed:
            checker.add(here, f"{bound} {raw[bound]!r} must be one of "
                              + ", ".join(f"'{name}'" for name in allowed))
    if kind == "group":
        check_group(checker, raw, here, base, in_group)
    elif "fields" in raw:
        checker.add(here, "'fields' only belong to group fields")
    for bound in ("min_rows", "max_rows"):
        if bound in raw and kind != "group":
            checker.add(here, f"'{bound}' only belongs to group fields")
    return key


def check_group(checker: Checker, raw: Raw, here: str, base: str, in_group: bool) -> None:
    if in_group:
        checker.add(here, "a group cannot contain another group")
        return
    for bound in ("min_rows", "max_rows"):
        if bound in raw and (isinstance(raw[bound], bool) or not isinstance(raw[bound], int)
                             or raw[bound] < 0):
            checker.add(f"{here}.{bound}", f"must be a whole number of at least 0, "
                                           f"not {raw[bound]!r}")
    subfields = raw.get("fields")
    if not isinstance(subfields, list) or not subfields:
        checker.add(here, "a group needs at least one [[...fields.fields]] subfield")
        return
    siblings: dict[str, Raw] = {}
    check_fields(checker, subfields, f"{base}.fields", siblings, in_group=True)
    for sub in siblings.values():
        check_show_if(checker, sub, siblings)


def check_show_if(checker: Checker, raw: Raw, fields: dict[str, Raw]) -> None:
    show_if = raw.get("show_if")
    if not show_if:
        return
    here = str(raw.get("_where") or raw.get("key") or "")
    target_key = show_if["field"]
    target = fields.get(target_key)
    if target is None:
        checker.add(here, f"show_if refers to unknown field '{target_key}'")
        return
    if target is raw:
        checker.add(here, "show_if refers to the field itself")
        return
    values = show_if.get("in") or [show_if.get("equals")]
    kind = target.get("type")
    allowed: list[Any] | None
    if kind == "yesno":
        allowed = list(YESNO_VALUES)
    elif kind in CHOICE_TYPES:
        allowed = [c.get("value") for c in target.get("choices") or [] if isinstance(c, dict)]
    elif kind == "group":
        checker.add(here, f"show_if cannot depend on the group '{target_key}'")
        return
    else:
        allowed = None
    for value in values:
        if allowed is not None and value not in allowed:
            checker.add(here, f"show_if value {value!r} is not a value of field '{target_key}' "
                              f"(one of: {', '.join(map(str, allowed))})")
