"""What a definition tells the sender besides its fields: warnings that do not stop a send, and
when the form should be sent (its timing).

Why warnings: some answers are allowed but probably stale, e.g. the basic-education support
model of before 1 August 2025 chosen for a school start after the act's transition period; the
sender should think again, and may still send. Why timing: each pilot form has its moment (a
ward's pre-information before a planned arrival, within 24 hours of an emergency one; a school's
during planning), which the sender is shown and the overdue rules count from.

In TOML::

    [[warnings]]
    key = "old_support_model"
    when = { field = "support_model", equals = "pre_2025" }    # like show_if
    date_field = "school_start_date"   # the date compared (today when it is empty)
    after = "2026-07-31"               # the warning applies to dates after this one
    message = { fi = "...", sv = "...", en = "..." }

    [timing]
    text = { fi = "...", sv = "...", en = "..." }   # shown to the sender
    date_field = "arrival_date"        # the date the due date counts from
    offset_days = 0                    # send by that date plus these days (negative: before)
      [[timing.cases]]                 # the first case whose condition holds wins
      when = { field = "arrival_type", equals = "emergency" }
      offset_days = 1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from handover.formdefs import content as content_rules
from handover.formdefs.checker import LONGEST_DAYS, Checker, Raw
from handover.formdefs.model import text_in

NOTICE_KEYS = ("warnings", "timing")
WARNING_KEYS = {"key", "when", "date_field", "after", "message"}
TIMING_KEYS = {"text", "date_field", "offset_days", "cases"}
CASE_KEYS = {"when", "offset_days"}


def condition_holds(when: Mapping[str, Any] | None, content: Mapping[str, Any]) -> bool:
    """``{field, equals}`` or ``{field, in}`` against ``content`` (a list value matches when
    any of its items does), as a field's ``show_if``."""
    if not when:
        return True
    value = content.get(when["field"])
    wanted = when["in"] if "in" in when else [when["equals"]]
    if isinstance(value, list | tuple):
        return any(item in wanted for item in value)
    return value in wanted


@dataclass(frozen=True)
class FormWarning:
    """An answer worth a second look; shown to the sender, never a reason to refuse a send."""

    key: str
    message: dict
    when: dict | None = None
    date_field: str | None = None
    after: str | None = None

    def applies(self, content: Mapping[str, Any], today: date) -> bool:
        if not condition_holds(self.when, content):
            return False
        if self.after is None:
            return True
        compared = content_rules.as_date(content.get(self.date_field)) if self.date_field else None
        return (compared or today) > date.fromisoformat(self.after)

    def message_in(self, language: str) -> str:
        return text_in(self.message, language)


@dataclass(frozen=True)
class Timing:
    """When the form should be sent: a text for the sender, and a due date for overdue rules."""

    text: dict
    date_field: str | None = None
    offset_days: int = 0
    #: ((condition, offset_days), ...): the first whose condition holds replaces the offset.
    cases: tuple = ()

    def text_in(self, language: str) -> str:
        return text_in(self.text, language)

    def due_date(self, content: Mapping[str, Any]) -> date | None:
        """The date by which the form should be sent (that whole day counts), or None when the
        form names no date to count from or it is not filled in."""
        start = content_rules.as_date(content.get(self.date_field)) if self.date_field else None
        if start is None:
            return None
        return start + timedelta(days=self.offset_for(content))

    def offset_for(self, content: Mapping[str, Any]) -> int:
        """The days added to the start date: the first case whose condition holds, else the
        form's own offset. While a case's field is still unanswered (a ward draft that does not
        yet say whether the admission was an emergency), which case applies is unknown, and the
        latest offset the form allows counts: a draft is never called late for an answer it
        does not have yet, and it becomes due earlier as soon as the answer says so."""
        for when, days in self.cases:
            if _unanswered(when, content):
                return max([self.offset_days, *(offset for _, offset in self.cases)])
            if condition_holds(when, content):
                return days
        return self.offset_days


def _unanswered(when: Mapping[str, Any], content: Mapping[str, Any]) -> bool:
    return content.get(when["field"]) in (None, "", [], ())


def warnings_of(definition: Any, content: Mapping[str, Any] | None, language: str,
                today: date | None = None) -> list[str]:
    """The messages of the definition's warnings that apply to ``content``, in ``language``."""
    values = content or {}
    day = today or content_rules.today()
    return [warning.message_in(language) for warning in getattr(definition, "warnings", ())
            if warning.applies(values, day)]


# -- Building and checking ----------------------------------------------------------------------

def build_warnings(raw: list[Raw] | None) -> tuple[FormWarning, ...]:
    return tuple(FormWarning(key=item["key"], message=dict(item["message"]),
                             when=dict(item["when"]) if item.get("when") else None,
                             date_field=item.get("date_field"), after=item.get("after"))
                 for item in raw or ())


def build_timing(raw: Raw | None) -> Timing | None:
    if not raw:
        return None
    return Timing(text=dict(raw["text"]), date_field=raw.get("date_field"),
                  offset_days=raw.get("offset_days", 0),
                  cases=tuple((dict(case["when"]), case.get("offset_days", 0))
                              for case in raw.get("cases", ())))


def check_notices(checker: Checker, raw: Raw, fields: dict[str, Raw], prefix: str) -> None:
    """Every problem of ``warnings`` and ``timing``, each with its location."""
    warnings = raw.get("warnings", [])
    if not isinstance(warnings, list):
        checker.add(prefix + "warnings", "must be a list of [[warnings]] tables")
        warnings = []
    keys: set[str] = set()
    for index, item in enumerate(warnings):
        here = f"{prefix}warnings[{index}]"
        if not isinstance(item, dict):
            checker.add(here, "must be a table")
            continue
        checker.unknown_keys(item, WARNING_KEYS, here)
        key = checker.key(item, here, "warning key")
        if key in keys:
            checker.add(here, f"duplicate warning key '{key}'")
        keys.add(key or "")
        checker.texts(item, here, "message")
        _check_condition(checker, item.get("when"), fields, f"{here}.when")
        _check_date_field(checker, item.get("date_field"), fields, f"{here}.date_field")
        if "after" in item and content_rules.as_date(item["after"]) is None:
            checker.add(f"{here}.after", f"must be a date as text, e.g. \"2026-07-31\", "
                                         f"not {item['after']!r}")
    timing = raw.get("timing")
    if timing is None:
        return
    here = prefix + "timing"
    if not isinstance(timing, dict):
        checker.add(here, "must be a table")
        return
    checker.unknown_keys(timing, TIMING_KEYS, here)
    checker.texts(timing, here, "text")
    _check_date_field(checker, timing.get("date_field"), fields, f"{here}.date_field")
    _check_offset(checker, timing, here)
    cases = timing.get("cases", [])
    if not isinstance(cases, list):
        checker.add(f"{here}.cases", "must be a list of [[timing.cases]] tables")
        return
    for index, case in enumerate(cases):
        where = f"{here}.cases[{index}]"
        if not isinstance(case, dict):
            checker.add(where, "must be a table")
            continue
        checker.unknown_keys(case, CASE_KEYS, where)
        if "when" not in case:
            checker.add(where, "'when' is missing")
        _check_condition(checker, case.get("when"), fields, f"{where}.when")
        _check_offset(checker, case, where)


def _check_offset(checker: Checker, raw: Raw, where: str) -> None:
    offset = raw.get("offset_days", 0)
    if isinstance(offset, bool) or not isinstance(offset, int):
        checker.add(f"{where}.offset_days", f"must be a whole number of days, not {offset!r}")
    elif abs(offset) > LONGEST_DAYS:
        # Counted from a date, a few million days run off the calendar (a 500 at each save).
        checker.add(f"{where}.offset_days", f"must be at most {LONGEST_DAYS} days (a hundred "
                                            f"years) either way, not {offset}")


def _check_date_field(checker: Checker, key: Any, fields: dict[str, Raw], where: str) -> None:
    if key is None:
        return
    if key not in fields:
        checker.add(where, f"unknown field {key!r}")
    elif fields[key].get("type") != "date":
        checker.add(where, f"field '{key}' must be of type date")


def _check_condition(checker: Checker, when: Any, fields: dict[str, Raw], where: str) -> None:
    if when is None:
        return
    if (not isinstance(when, dict) or not isinstance(when.get("field"), str)
            or len({"equals", "in"} & set(when)) != 1 or set(when) - {"field", "equals", "in"}):
        checker.add(where, "must be {field = KEY, equals = VALUE} or {field = KEY, in = [VALUES]}")
        return
    target = fields.get(when["field"])
    if target is None:
        checker.add(where, f"unknown field '{when['field']}'")
        return
    values = when["in"] if "in" in when else [when["equals"]]
    allowed = [c.get("value") for c in target.get("choices") or [] if isinstance(c, dict)]
    if target.get("type") == "yesno":
        allowed = ["yes", "no"]
    for value in values if isinstance(values, list) else [values]:
        if allowed and value not in allowed:
            checker.add(where, f"{value!r} is not a value of field '{when['field']}'")
