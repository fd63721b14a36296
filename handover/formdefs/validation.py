"""Strict checks of a parsed TOML form definition, naming every problem with its location.

Each problem reads ``sections[2].fields[0] (key 'foo'): type 'texx' is not one of ...`` so that
a plugin author can find it without guessing. Nothing is built here; see ``loader``.
"""

import re

from handover.formdefs.model import CHOICE_TYPES, FIELD_TYPES, LANGUAGES, YESNO_VALUES

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

TOP_LEVEL_KEYS = {
    "key", "version", "plugin", "title", "description", "acknowledge_within_hours",
    "summary_fields", "identity_code_field", "location_flags", "retention", "routing",
    "visibility", "legal_bases", "sections", "reply_forms",
}
SECTION_KEYS = {"key", "title", "description", "fields"}
FIELD_KEYS = {
    "key", "type", "label", "help", "required", "sensitive", "reveals_location", "choices",
    "show_if", "max_length", "fields", "sender_kinds", "min", "max", "min_rows", "max_rows",
}
RETENTION_KEYS = ("after_acknowledged_days", "unopened_days")
ROUTING_KEYS = ("senders", "receivers", "copies")
#: Names a built form class already uses; a field with one of these keys would hide it.
RESERVED_FIELD_KEYS = {
    "content", "csrf_token", "data", "definition", "errors", "form_errors", "hidden_tag",
    "is_submitted", "language", "meta", "populate_obj", "process", "validate",
    "validate_on_submit", "add_row", "sender_kind", "leaf_fields", "extra_errors",
}


class Checker:
    """Collects problems while walking one definition."""

    def __init__(self, unit_kinds):
        self.unit_kinds = set(unit_kinds)
        self.problems = []

    def add(self, where, message):
        self.problems.append(f"{where}: {message}" if where else message)

    # -- small checks ------------------------------------------------------------------------
    def unknown_keys(self, raw, allowed, where):
        for name in sorted(set(raw) - allowed):
            self.add(where, f"unknown key '{name}' (allowed: {', '.join(sorted(allowed))})")

    def texts(self, raw, where, name, required=True):
        value = raw.get(name)
        here = f"{where}.{name}" if where else name
        if value is None:
            if required:
                self.add(here, "is missing (needs fi, sv and en)")
            return
        if not isinstance(value, dict):
            self.add(here, "must be a table with fi, sv and en texts")
            return
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.add(here, f"'{language}' text is missing or empty")
        for language in sorted(set(value) - set(LANGUAGES)):
            self.add(here, f"unknown language '{language}' (use fi, sv, en)")

    def key(self, raw, where, what="key"):
        value = raw.get("key")
        if value is None:
            self.add(where, f"{what} is missing")
            return None
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            self.add(where, f"{what} {value!r} must be lower-case letters, digits and _ "
                            "starting with a letter")
            return None
        return value

    def positive_int(self, value, where):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.add(where, f"must be a whole number of at least 1, not {value!r}")
            return False
        return True

    def boolean(self, raw, name, where):
        if name in raw and not isinstance(raw[name], bool):
            self.add(where, f"'{name}' must be true or false, not {raw[name]!r}")

    def kinds(self, value, where, allow_empty=True):
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            self.add(where, "must be a list of unit kinds")
            return
        if not value and not allow_empty:
            self.add(where, "must name at least one unit kind")
        for kind in value:
            if kind not in self.unit_kinds:
                self.add(where, f"unknown unit kind '{kind}' (known: "
                                f"{', '.join(sorted(self.unit_kinds))})")

    def choices(self, raw, where, name="choices", key_name="value"):
        items = raw.get(name)
        if not isinstance(items, list) or not items:
            self.add(where, f"'{name}' must list at least one choice")
            return []
        values = []
        for index, item in enumerate(items):
            here = f"{where}.{name}[{index}]" if where else f"{name}[{index}]"
            if not isinstance(item, dict):
                self.add(here, "must be a table")
                continue
            self.unknown_keys(item, {key_name, "label"}, here)
            value = item.get(key_name)
            if not isinstance(value, str) or not value:
                self.add(here, f"'{key_name}' must be a non-empty string")
            elif value in values:
                self.add(here, f"duplicate {key_name} '{value}'")
            else:
                values.append(value)
            self.texts(item, here, "label")
        return values


def check_definition(raw, unit_kinds, where=""):
    """All problems of one parsed definition (a dict); an empty list means it is valid."""
    checker = Checker(unit_kinds)
    _check_definition(checker, raw, where)
    return checker.problems


def _check_definition(checker, raw, where):
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
        checker.positive_int(raw["acknowledge_within_hours"], prefix + "acknowledge_within_hours")
    _check_retention(checker, raw.get("retention"), prefix + "retention")
    fields = _check_sections(checker, raw.get("sections"), prefix + "sections")
    section_keys = [s.get("key") for s in raw.get("sections") or [] if isinstance(s, dict)]
    _check_field_references(checker, raw, fields, prefix)
    if "routing" in raw:
        _check_routing(checker, raw["routing"], prefix + "routing")
    if "visibility" in raw:
        _check_visibility(checker, raw["visibility"], section_keys, prefix + "visibility")
    if "legal_bases" in raw:
        checker.choices(raw, where, "legal_bases", key_name="key")
    for index, reply in enumerate(raw.get("reply_forms") or []):
        _check_definition(checker, reply, f"{prefix}reply_forms[{index}]")
    if "reply_forms" in raw and not isinstance(raw["reply_forms"], list):
        checker.add(prefix + "reply_forms", "must be a list of form definitions")


def _check_retention(checker, retention, where):
    if retention is None:
        return
    if not isinstance(retention, dict):
        checker.add(where, "must be a table")
        return
    checker.unknown_keys(retention, set(RETENTION_KEYS), where)
    for name in RETENTION_KEYS:
        if name in retention:
            checker.positive_int(retention[name], f"{where}.{name}")


def _check_sections(checker, sections, where):
    """Checks every section and field; returns {key: raw field} of the top-level fields."""
    fields = {}
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
        _check_fields(checker, raw_fields, base, fields, in_group=False)
    return fields


def _check_fields(checker, raw_fields, base, seen, in_group):
    for index, raw in enumerate(raw_fields):
        here = f"{base}[{index}]"
        if not isinstance(raw, dict):
            checker.add(here, "must be a table")
            continue
        if isinstance(raw.get("key"), str):
            here = f"{here} (key '{raw['key']}')"
        key = _check_field(checker, raw, here, base=f"{base}[{index}]", in_group=in_group)
        if key is None:
            continue
        if key in seen:
            checker.add(here, f"duplicate field key '{key}'")
        else:
            seen[key] = raw
        raw["_where"] = here


def _check_field(checker, raw, here, base, in_group):
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
    if kind == "group":
        _check_group(checker, raw, here, base, in_group)
    elif "fields" in raw:
        checker.add(here, "'fields' only belong to group fields")
    for bound in ("min_rows", "max_rows"):
        if bound in raw and kind != "group":
            checker.add(here, f"'{bound}' only belongs to group fields")
    return key


def _check_group(checker, raw, here, base, in_group):
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
    siblings = {}
    _check_fields(checker, subfields, f"{base}.fields", siblings, in_group=True)
    for sub in siblings.values():
        _check_show_if(checker, sub, siblings)


def _check_show_if(checker, raw, fields):
    show_if = raw.get("show_if")
    if not show_if:
        return
    here = raw.get("_where", raw.get("key"))
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
    if kind == "yesno":
        allowed = YESNO_VALUES
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


def _check_field_references(checker, raw, fields, prefix):
    for field in fields.values():
        _check_show_if(checker, field, fields)
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
    identity = raw.get("identity_code_field")
    if identity is not None:
        if identity not in fields:
            checker.add(prefix + "identity_code_field", f"unknown field '{identity}'")
        elif fields[identity].get("type") != "hetu":
            checker.add(prefix + "identity_code_field", f"field '{identity}' must be of type hetu")


def _check_routing(checker, routing, where):
    if not isinstance(routing, dict):
        checker.add(where, "must be a table with senders, receivers and copies")
        return
    checker.unknown_keys(routing, set(ROUTING_KEYS), where)
    for name in ROUTING_KEYS:
        if name not in routing and name != "copies":
            checker.add(where, f"'{name}' is missing")
        elif name in routing:
            checker.kinds(routing[name], f"{where}.{name}", allow_empty=name == "copies")


def _check_visibility(checker, visibility, section_keys, where):
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
