"""Collecting the problems of one form definition, each with its location."""

import re
from collections.abc import Iterable
from typing import Any

from handover.formdefs.model import EMPHASES, LANGUAGES

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: A table of a parsed TOML definition, before it is checked.
Raw = dict[str, Any]

#: The largest whole number a definition may give (a version, a length): what
#: the database's integer columns and the addresses of the admin pages hold.
LARGEST_INT = 2**31 - 1
#: The longest period a definition may give, in days and in hours: a hundred years. Dates a
#: period reaches are computed, and a few million days run past the calendar's last year.
LONGEST_DAYS = 36_525
LONGEST_HOURS = LONGEST_DAYS * 24
CENTURY = " (a hundred years)"


class Checker:
    """Collects problems while walking one definition."""

    def __init__(self, unit_kinds: Iterable[str]):
        self.unit_kinds = set(unit_kinds)
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    # -- small checks ------------------------------------------------------------------------
    def unknown_keys(self, raw: Raw, allowed: set[str], where: str) -> None:
        for name in sorted(set(raw) - allowed):
            self.add(where, f"unknown key '{name}' (allowed: {', '.join(sorted(allowed))})")

    def texts(self, raw: Raw, where: str, name: str, required: bool = True) -> None:
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
            if text is not None and not isinstance(text, str):
                self.add(here, f"'{language}' must be a text in quotes, not {text!r}")
            elif text is None or not text.strip():
                self.add(here, f"'{language}' text is missing or empty")
        for language in sorted(set(value) - set(LANGUAGES)):
            self.add(here, f"unknown language '{language}' (use fi, sv, en)")

    def key(self, raw: Raw, where: str, what: str = "key") -> str | None:
        value = raw.get("key")
        if value is None:
            self.add(where, f"{what} is missing")
            return None
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            self.add(where, f"{what} {value!r} must be lower-case letters, digits and _ "
                            "starting with a letter")
            return None
        return value

    def positive_int(self, value: Any, where: str, most: int = LARGEST_INT,
                     meaning: str = "") -> bool:
        """Whether ``value`` is a whole number from 1 to ``most`` (``meaning`` says what that
        largest is, for a period: the message names it); otherwise a located problem."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.add(where, f"must be a whole number of at least 1, not {value!r}")
            return False
        if value > most:
            self.add(where, f"must be a whole number of at most {most}{meaning}, not {value}")
            return False
        return True

    def boolean(self, raw: Raw, name: str, where: str) -> None:
        if name in raw and not isinstance(raw[name], bool):
            self.add(where, f"'{name}' must be true or false, not {raw[name]!r}")

    def kinds(self, value: Any, where: str, allow_empty: bool = True) -> None:
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            self.add(where, "must be a list of unit kinds")
            return
        if not value and not allow_empty:
            self.add(where, "must name at least one unit kind")
        for kind in value:
            if kind not in self.unit_kinds:
                self.add(where, f"unknown unit kind '{kind}' (known: "
                                f"{', '.join(sorted(self.unit_kinds))})")

    def choices(self, raw: Raw, where: str, name: str = "choices",
                key_name: str = "value") -> list[str]:
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

    def summary(self, entries: Any, fields: dict[str, Raw], where: str) -> None:
        """The ``summary`` list: field keys, or tables ``{ field = ..., emphasis = ... }``,
        each naming a top-level field once."""
        if not isinstance(entries, list):
            self.add(where, "must be a list of field keys or { field, emphasis } tables")
            return
        seen = set()
        for index, entry in enumerate(entries):
            here = f"{where}[{index}]"
            if isinstance(entry, dict):
                self.unknown_keys(entry, {"field", "emphasis"}, here)
                key, emphasis = entry.get("field"), entry.get("emphasis", "normal")
                if emphasis not in EMPHASES:
                    self.add(here, f"emphasis {emphasis!r} is not one of {', '.join(EMPHASES)}")
            else:
                key = entry
            if not isinstance(key, str) or key not in fields:
                self.add(here, f"unknown field {key!r}")
            elif key in seen:
                self.add(here, f"field '{key}' is listed twice")
            seen.add(key)
