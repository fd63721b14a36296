"""Strict checks of a parsed TOML form definition, naming every problem with its location.

Each problem reads ``sections[2].fields[0] (key 'foo'): type 'texx' is not one of ...`` so that
a plugin author can find it without guessing. Nothing is built here; see ``loader``.
"""

from collections.abc import Iterable
from typing import Any

from handover.formdefs.checker import (
    CENTURY,
    KEY_PATTERN,
    LONGEST_DAYS,
    LONGEST_HOURS,
    Checker,
    Raw,
)
from handover.formdefs.field_checks import (
    FIELD_KEYS,
    RESERVED_FIELD_KEYS,
    check_fields,
    check_show_if,
)
from handover.formdefs.notices import NOTICE_KEYS, check_notices
from handover.formdefs.task_list_checks import check_task_list

__all__ = ["FIELD_KEYS", "KEY_PATTERN", "RESERVED_FIELD_KEYS", "Checker", "check_definition"]

TOP_LEVEL_KEYS = {
    "key", "version", "plugin", "title", "description", "acknowledge_within_hours",
    "summary_fields", "identity_code_field", "birth_date_field", "location_flags", "retention",
    "summary", "urgency", "acknowledges",
    "routing",
    "visibility", "legal_bases", "sections", "reply_forms", "groups",
}
TOP_LEVEL_KEYS |= set(NOTICE_KEYS)  # warnings and timing: see notices
SECTION_KEYS = {"key", "title", "description", "fields", "requires"}
RETENTION_KEYS = ("after_acknowledged_days", "after_last_activity_days", "after_closing_days",
                  "max_days", "unopened_days", "updates_within_days")
ROUTING_KEYS = ("senders", "receivers", "copies")


def check_definition(raw: Any, unit_kinds: Iterable[str], where: str = "") -> list[str]:
    """All problems of one parsed definition (a dict); an empty list means it is valid."""
    checker = Checker(unit_kinds)
    _check_definition(checker, raw, where)
    return checker.problems


def _check_definition(checker: Checker, raw: Any, where: str) -> None:
    if not isinstance(raw, dict):
        checker.add(where, "a form definition must be a table")
        return
    checker.unknown_keys(raw, TOP_LEVEL_KEYS, where)
    checker.key(raw, where, "form key")
    if "version" not in raw:
        checker.add(where, "version is missing")
    else:
        checker.positive_int(raw["version"], f"{where}.version" if where else "version")
    if "plugin" in raw and not isinstance(raw["plugin"], str):
        checker.add(where, "'plugin' must be a string")
    checker.texts(raw, where, "title")
    checker.texts(raw, where, "description", required=False)
    prefix = f"{where}." if where else ""
    if "acknowledge_within_hours" in raw:
        checker.positive_int(raw["acknowledge_within_hours"], prefix + "acknowledge_within_hours",
                             LONGEST_HOURS, CENTURY)
    _check_retention(checker, raw.get("retention"), prefix + "retention")
    fields = _check_sections(checker, raw.get("sections"), prefix + "sections")
    section_keys = [s.get("key") for s in raw.get("sections") or [] if isinstance(s, dict)]
    _check_field_references(checker, raw, fields, prefix)
    check_notices(checker, raw, fields, prefix)
    check_task_list(checker, raw, prefix)
    if "routing" in raw:
        _check_routing(checker, raw["routing"], prefix + "routing")
    if "visibility" in raw:
        _check_visibility(checker, raw["visibility"], section_keys, prefix + "visibility")
    _check_legal_bases(checker, raw, where, prefix)
    if "acknowledges" in raw:
        checker.boolean(raw, "acknowledges", where)
        if not _is_reply_form(where):
            checker.add(prefix + "acknowledges", "only a reply form can acknowledge")
    for index, reply in enumerate(raw.get("reply_forms") or []):
        _check_definition(checker, reply, f"{prefix}reply_forms[{index}]")
    if "reply_forms" in raw and not isinstance(raw["reply_forms"], list):
        checker.add(prefix + "reply_forms", "must be a list of form definitions")


def _check_legal_bases(checker: Checker, raw: Raw, where: str, prefix: str) -> None:
    """A form needs at least one legal basis: Finnish law asks a basis for every disclosure of
    child-welfare data, so the sender must choose one before sending and a form without any
    could never be sent. A reply form may leave them out and use its handover's."""
    if "legal_bases" in raw:
        checker.choices(raw, where, "legal_bases", key_name="key")
    elif not _is_reply_form(where):
        checker.add(prefix + "legal_bases",
                "is missing: add at least one [[legal_bases]] table with a 'key' and a 'label' "
                "(fi, sv, en), the legal basis of disclosure a sender chooses before sending")


def _is_reply_form(where: str) -> bool:
    return ".reply_forms[" in f".{where}"


def _check_retention(checker: Checker, retention: Any, where: str) -> None:
    if retention is None:
        return
    if not isinstance(retention, dict):
        checker.add(where, "must be a table")
        return
    checker.unknown_keys(retention, set(RETENTION_KEYS), where)
    for name in RETENTION_KEYS:
        if name in retention:
            checker.positive_int(retention[name], f"{where}.{name}", LONGEST_DAYS, CENTURY)


def _check_sections(checker: Checker, sections: Any, where: str) -> dict[str, Raw]:
    """Checks every section and field; returns {key: raw field} of the top-level fields."""
    fields: dict[str, Raw] = {}
    if not isinstance(sections, list) or not sections:
        checker.add(where, "at least one [[sections]] is needed")
        return fields
    seen_sections = set()
    for s_index, section in enumerate(sections):
        here = f"{where}[{s_index}]"
        if not isinstance(section, dict):
            checker.add(here, "must be a table")
            continue
        key = section.get("key")
        if isinstance(key, str):
            here = f"{here} (key '{key}')"
        checker.unknown_keys(section, SECTION_KEYS, here)
        key = checker.key(section, here, "section key")
        if key in seen_sections:
            checker.add(here, f"duplicate section key '{key}'")
        seen_sections.add(key)
        checker.texts(section, here, "title")
        checker.texts(section, here, "description", required=False)
        raw_fields = section.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            checker.add(here, "needs at least one [[sections.fields]]")
            continue
        base = f"{where}[{s_index}].fields"
        check_fields(checker, raw_fields, base, fields, in_group=False)
    return fields


def _check_field_references(checker: Checker, raw: Raw, fields: dict[str, Raw],
                             prefix: str) -> None:
    for field in fields.values():
        check_show_if(checker, field, fields)
    for name in ("summary_fields", "location_flags"):
        keys = raw.get(name, [])
        if not isinstance(keys, list):
            checker.add(prefix + name, "must be a list of field keys")
            continue
        for key in keys:
            if key not in fields:
                checker.add(prefix + name, f"unknown field '{key}'")
            elif name == "location_flags" and fields[key].get("type") != "yesno":
                checker.add(prefix + name, f"field '{key}' must be of type yesno")
    if "summary" in raw:
        checker.summary(raw["summary"], fields, prefix + "summary")
    if "urgency" in raw:
        _check_urgency(checker, raw["urgency"], fields, prefix + "urgency")
    identity = _check_field_reference(checker, prefix, raw, fields, "identity_code_field", "hetu")
    birth = _check_field_reference(checker, prefix, raw, fields, "birth_date_field", "date")
    if birth is not None and identity is None:
        checker.add(prefix + "birth_date_field", "needs identity_code_field to check against")


def _check_urgency(checker: Checker, urgency: Any, fields: dict[str, Raw], where: str) -> None:
    """``{ field = KEY, urgent = [VALUES] }``: a choice field and those of its values that
    are urgent."""
    if not isinstance(urgency, dict) or set(urgency) != {"field", "urgent"}:
        checker.add(where, "must be { field = KEY, urgent = [VALUES] }")
        return
    target = fields.get(urgency["field"])
    if target is None or target.get("type") != "choice":
        checker.add(where, f"field {urgency['field']!r} must be a choice field of the form")
        return
    values = [c.get("value") for c in target.get("choices") or [] if isinstance(c, dict)]
    urgent = urgency["urgent"]
    if not isinstance(urgent, list) or not urgent or any(v not in values for v in urgent):
        checker.add(where, f"urgent must list values of field {urgency['field']!r} "
                           f"(one of: {', '.join(map(str, values))})")


def _check_field_reference(checker: Checker, prefix: str, raw: Raw, fields: dict[str, Raw],
                            name: str, wanted_type: str) -> Any:
    """``raw[name]`` must name a field of ``wanted_type``; returns the key (or None)."""
    key = raw.get(name)
    if key is not None:
        if key not in fields:
            checker.add(prefix + name, f"unknown field '{key}'")
        elif fields[key].get("type") != wanted_type:
            checker.add(prefix + name, f"field '{key}' must be of type {wanted_type}")
    return key


def _check_routing(checker: Checker, routing: Any, where: str) -> None:
    if not isinstance(routing, dict):
        checker.add(where, "must be a table with senders, receivers and copies")
        return
    checker.unknown_keys(routing, set(ROUTING_KEYS), where)
    for name in ROUTING_KEYS:
        if name not in routing and name != "copies":
            checker.add(where, f"'{name}' is missing")
        elif name in routing:
            checker.kinds(routing[name], f"{where}.{name}", allow_empty=name == "copies")


def _check_visibility(checker: Checker, visibility: Any, section_keys: list[Any],
                      where: str) -> None:
    if not isinstance(visibility, dict):
        checker.add(where, "must be a table with receivers and/or copies")
        return
    checker.unknown_keys(visibility, {"receivers", "copies"}, where)
    for name in ("receivers", "copies"):
        table = visibility.get(name, {})
        if not isinstance(table, dict):
            checker.add(f"{where}.{name}", "must be a table of unit kind = [section keys]")
            continue
        for kind, sections in table.items():
            here = f"{where}.{name}.{kind}"
            if kind not in checker.unit_kinds:
                checker.add(here, f"unknown unit kind '{kind}'")
            if not isinstance(sections, list):
                checker.add(here, "must be a list of section keys")
                continue
            for section in sections:
                if section not in section_keys:
                    checker.add(here, f"unknown section '{section}'")
