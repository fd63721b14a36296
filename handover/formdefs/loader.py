"""Reading a TOML form definition (or an already parsed dict) into a ``FormDefinition``.

Shared sections are written once, in a fragment file, and a definition takes one by reference:
``[[sections]] use = "common:child"`` (see ``fragments``). Validation runs next and names every
problem; only a valid definition is built.
"""

import copy
import functools
import tomllib
from collections.abc import Iterable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from handover.formdefs.fragments import FragmentError, resolve_fragments
from handover.formdefs.model import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_ROWS,
    Choice,
    Field,
    FormDefinition,
    RoutingRule,
    Section,
    SectionGroup,
    SummaryItem,
)
from handover.formdefs.notices import build_timing, build_warnings
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS
from handover.formdefs.validation import ROUTING_KEYS, Checker, check_definition

DEFAULT_RETENTION = {"after_acknowledged_days": 30, "unopened_days": 90}


class DefinitionError(ValueError):
    """A form definition (or routing rule) is invalid; ``problems`` names every problem."""

    def __init__(self, problems: Iterable[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(prefix + problem for problem in self.problems)


def read_source(source: Path | str | Traversable | dict[str, Any]) -> dict[str, Any]:
    """The parsed dict of ``source`` with its fragments resolved: ``source`` is a path to a
    TOML file (or a package resource), or a dict, which is copied."""
    if isinstance(source, dict):
        raw, folder = copy.deepcopy(source), None
    elif isinstance(source, str | Path | Traversable):
        path = Path(source) if isinstance(source, str) else source
        try:
            raw = _parse(path)
        except OSError as error:
            raise DefinitionError([f"cannot read the file: {error.strerror}"], str(path)) from None
        except tomllib.TOMLDecodeError as error:
            raise DefinitionError([f"not valid TOML: {error}"], str(path)) from None
        folder = path.parent if isinstance(path, Path) else None
    else:
        raise DefinitionError(
            [f"a form source must be a pathlib.Path to a TOML file or a dict, "
             f"not {type(source).__name__}"]
        )
    try:
        return resolve_fragments(raw, folder)
    except FragmentError as error:
        label = None if isinstance(source, dict) else str(source)
        raise DefinitionError(error.problems, label) from None


def _parse(path: Path | Traversable) -> dict[str, Any]:
    with path.open("rb") as stream:
        return tomllib.load(stream)


@functools.cache
def _shipped_folder() -> Path | None:
    folder = files("handover.builtin_forms")
    return Path(str(folder)).resolve() if isinstance(folder, Path) else None


def _is_shipped(source: object) -> bool:
    folder = _shipped_folder()
    return folder is not None and isinstance(source, Path) and \
        source.resolve().is_relative_to(folder)


def load_definition(source: Path | str | Traversable | dict[str, Any],
                    plugin_name: str | None = None,
                    unit_kinds: Any = None) -> FormDefinition:
    """Validate and build one definition; raises ``DefinitionError`` naming every problem.

    ``unit_kinds`` are the kinds routing and visibility may name (default: the core kinds).
    """
    kinds = tuple(unit_kinds) if unit_kinds is not None else tuple(CORE_UNIT_KINDS)
    if _is_shipped(source):
        return _load_shipped(str(source), plugin_name, kinds)
    return _load(source, plugin_name, kinds)


@functools.cache
def _load_shipped(path: str, plugin_name: str | None,
                  unit_kinds: tuple[str, ...]) -> FormDefinition:
    """A built-in definition, read, checked and built once per process for the same plugin
    name and unit kinds, as the shipped fragments are read once: it changes only with
    Handover itself, and a built definition is frozen, already shared by every request of an
    app. Reading the five took about half of every app's start, once per test in the suite.
    """
    return _load(Path(path), plugin_name, unit_kinds)


def _load(source: Path | str | Traversable | dict[str, Any], plugin_name: str | None,
          kinds: tuple[str, ...]) -> FormDefinition:
    label = None if isinstance(source, dict) else str(source)
    raw = read_source(source)
    problems = check_definition(raw, kinds)
    if problems:
        raise DefinitionError(problems, label)
    return build_definition(raw, plugin_name or raw.get("plugin") or "", label or "")


def build_definition(raw: dict[str, Any], plugin_name: str, source: str = "") -> FormDefinition:
    """A ``FormDefinition`` from a dict that ``check_definition`` accepted."""
    routing = None
    if "routing" in raw:
        routing = routing_rule(dict(raw["routing"], form=raw["key"]), plugin_name)
    return FormDefinition(
        key=raw["key"],
        version=raw["version"],
        title=dict(raw["title"]),
        description=dict(raw.get("description") or {}),
        plugin_name=raw.get("plugin") or plugin_name,
        sections=tuple(_section(s) for s in raw["sections"]),
        retention={**DEFAULT_RETENTION, **(raw.get("retention") or {})},
        acknowledge_within_hours=raw.get("acknowledge_within_hours", 24),
        legal_bases=tuple(Choice(b["key"], dict(b["label"])) for b in raw.get("legal_bases", [])),
        summary_fields=tuple(raw.get("summary_fields", ())),
        summary=tuple(_summary_item(item) for item in raw.get("summary", ())),
        identity_code_field=raw.get("identity_code_field"),
        birth_date_field=raw.get("birth_date_field"),
        location_flags=tuple(raw.get("location_flags", ())),
        reply_forms=tuple(
            build_definition(reply, plugin_name, source) for reply in raw.get("reply_forms", ())
        ),
        routing=routing,
        visibility={
            name: {kind: tuple(keys) for kind, keys in table.items()}
            for name, table in (raw.get("visibility") or {}).items()
        },
        source=source,
        warnings=build_warnings(raw.get("warnings")),
        timing=build_timing(raw.get("timing")),
        groups=tuple(SectionGroup(g["key"], dict(g["title"]), tuple(g["sections"]))
                     for g in raw.get("groups", ())),
        urgency_field=(raw.get("urgency") or {}).get("field"),
        urgent_values=tuple((raw.get("urgency") or {}).get("urgent", ())),
        acknowledges=raw.get("acknowledges", False),
    )


def _summary_item(raw: str | dict[str, Any]) -> SummaryItem:
    """``"allergies"`` or ``{ field = "allergies", emphasis = "alert" }``."""
    if isinstance(raw, str):
        return SummaryItem(raw)
    return SummaryItem(raw["field"], raw.get("emphasis", "normal"))


def _section(raw: dict[str, Any]) -> Section:
    return Section(
        key=raw["key"],
        title=dict(raw["title"]),
        description=dict(raw.get("description") or {}),
        fields=tuple(_field(f) for f in raw["fields"]),
        requires=tuple(raw.get("requires", ())),
    )


def _field(raw: dict[str, Any]) -> Field:
    kind = raw["type"]
    sender_kinds = raw.get("sender_kinds")
    return Field(
        key=raw["key"],
        type=kind,
        label=dict(raw["label"]),
        help=dict(raw.get("help") or {}),
        required=raw.get("required", False),
        sensitive=raw.get("sensitive", False),
        reveals_location=raw.get("reveals_location", False),
        choices=tuple(Choice(c["value"], dict(c["label"])) for c in raw.get("choices", ())),
        show_if=dict(raw["show_if"]) if raw.get("show_if") else None,
        max_length=raw.get("max_length", DEFAULT_MAX_LENGTH.get(kind)),
        fields=tuple(_field(f) for f in raw.get("fields", ())),
        sender_kinds=tuple(sender_kinds) if sender_kinds is not None else None,
        min=raw.get("min"),
        max=raw.get("max"),
        min_rows=max(raw.get("min_rows", 0), 1 if kind == "group" and raw.get("required") else 0),
        max_rows=raw.get("max_rows", DEFAULT_MAX_ROWS),
        required_message=dict(raw.get("required_message") or {}),
        prefill=raw.get("prefill"),
        not_after=raw.get("not_after"),
        not_before=raw.get("not_before"),
    )


def routing_rule(raw: dict[str, Any], plugin_name: str = "") -> RoutingRule:
    return RoutingRule(
        form=raw["form"],
        senders=tuple(raw["senders"]),
        receivers=tuple(raw["receivers"]),
        copies=tuple(raw.get("copies", ())),
        plugin_name=plugin_name,
    )


def load_routing_rule(raw: Any, plugin_name: str = "",
                      unit_kinds: Iterable[str] | None = None) -> RoutingRule:
    """A ``RoutingRule`` from a dict a plugin's ``register_routing_rules`` returned."""
    if not isinstance(raw, dict):
        raise DefinitionError([f"a routing rule must be a dict, not {type(raw).__name__}"])
    checker = Checker(unit_kinds if unit_kinds is not None else tuple(CORE_UNIT_KINDS))
    form = raw.get("form")
    where = f"routing rule for {form!r}"
    if not isinstance(form, str) or not form:
        checker.add(where, "'form' must name a form key")
    checker.unknown_keys(raw, set(ROUTING_KEYS) | {"form"}, where)
    for name in ROUTING_KEYS:
        if name not in raw and name != "copies":
            checker.add(where, f"'{name}' is missing")
        elif name in raw:
            checker.kinds(raw[name], f"{where}.{name}", allow_empty=name == "copies")
    if checker.problems:
        raise DefinitionError(checker.problems)
    return routing_rule(raw, plugin_name)


__all__ = ["DEFAULT_MAX_ROWS", "DefinitionError", "load_definition", "load_routing_rule"]
