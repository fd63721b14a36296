"""Sections written once and used by reference from any form definition.

Every built-in form begins with the same sections (the child, guardians, placement, ...) and a
third-party form may want them too. They live once in a fragment file, a TOML file of
``[[sections]]`` tables like a definition's, and a definition takes one with::

    [[sections]]
    use = "common:child"            # library "common", section "child"

      [[sections.fields]]           # optional: fields added after the fragment's own
      key = "foster_carer_view"
      ...

``common`` is the library Handover ships (``forms/fragments/common.toml`` in the repository,
``handover.builtin_forms`` once installed). A library name ending in ``.toml`` is a fragment file
beside the definition, for a plugin's own shared sections. The result is the definition exactly
as if the sections had been written out, so the strict checks and everything after them see no
difference.
"""

import copy
import functools
import tomllib
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any

#: Libraries shipped with Handover: name -> (package, resource inside it).
LIBRARIES = {"common": ("handover.builtin_forms", "fragments/common.toml")}


class FragmentError(ValueError):
    """A ``use`` that cannot be resolved; ``problems`` names each, with its location."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def resolve_fragments(raw: Any, folder: Path | None = None) -> Any:
    """``raw`` (a parsed definition, changed in place and returned) with every section that
    says ``use`` replaced by the fragment's section; reply forms too. ``folder`` is where the
    definition file lies (None for a dict), for fragment files of the plugin's own."""
    problems: list[str] = []
    _resolve(raw, folder, "", problems)
    if problems:
        raise FragmentError(problems)
    return raw


def _resolve(raw: Any, folder: Path | None, prefix: str, problems: list[str]) -> None:
    if not isinstance(raw, dict):
        return
    sections = raw.get("sections")
    if isinstance(sections, list):
        raw["sections"] = [
            _section(section, folder, f"{prefix}sections[{index}]", problems)
            for index, section in enumerate(sections)
        ]
    replies = raw.get("reply_forms")
    if isinstance(replies, list):
        for index, reply in enumerate(replies):
            _resolve(reply, folder, f"{prefix}reply_forms[{index}].", problems)


def _section(section: Any, folder: Path | None, where: str, problems: list[str]) -> Any:
    if not isinstance(section, dict) or "use" not in section:
        return section
    reference = section["use"]
    where = f"{where} (use {reference!r})"
    extra = sorted(set(section) - {"use", "fields"})
    if extra:
        problems.append(f"{where}: a section that uses a fragment may only add 'fields', "
                        f"not {', '.join(extra)}")
        return section
    if not isinstance(reference, str) or reference.count(":") != 1:
        problems.append(f"{where}: 'use' must be \"library:section\", e.g. \"common:child\"")
        return section
    library, key = reference.split(":")
    try:
        fragments = _library(library, folder)
    except FragmentError as error:
        problems.extend(f"{where}: {problem}" for problem in error.problems)
        return section
    if key not in fragments:
        problems.append(f"{where}: fragment library {library!r} has no section {key!r} "
                        f"(it has: {', '.join(fragments)})")
        return section
    resolved = copy.deepcopy(fragments[key])
    added = section.get("fields", [])
    if not isinstance(added, list):
        problems.append(f"{where}: 'fields' must be a list of [[sections.fields]]")
        return section
    resolved["fields"] = [*resolved.get("fields", []), *added]
    return resolved


def _library(name: str, folder: Path | None) -> dict[str, Any]:
    """The sections of fragment library ``name``, by key (a fresh copy is taken per use)."""
    if name in LIBRARIES:
        package, resource = LIBRARIES[name]
        return _parse_shipped(package, resource)
    if not name.endswith(".toml"):
        raise FragmentError([f"unknown fragment library {name!r} (Handover ships: "
                             f"{', '.join(LIBRARIES)}; a file of your own ends in .toml)"])
    relative = PurePosixPath(name)
    if folder is None or relative.is_absolute() or ".." in relative.parts:
        raise FragmentError([f"fragment file {name!r} must lie beside the definition file"])
    return _parse_file(str(folder / relative), name)


@functools.cache
def _parse_shipped(package: str, resource: str) -> dict[str, Any]:
    """Read once per process: the shipped library changes only with Handover itself."""
    node = files(package)
    for part in resource.split("/"):
        node = node / part
    with node.open("rb") as stream:
        return _sections_by_key(tomllib.load(stream), resource)


def _parse_file(path: str, name: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            return _sections_by_key(tomllib.load(stream), path)
    except FileNotFoundError:
        raise FragmentError([f"fragment file {name} is missing: it must lie beside the "
                             "definition file (an uploaded form carries both in one .zip or "
                             ".tar package)"]) from None
    except OSError as error:
        raise FragmentError([f"cannot read fragment file {path}: {error.strerror}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise FragmentError([f"fragment file {path} is not valid TOML: {error}"]) from None


def shipped_section_keys(library: str = "common") -> tuple[str, ...]:
    """The keys of the sections a shipped library holds (e.g. the shared "child", "guardians"
    ...): what `services.prefill` may take over from one form into another."""
    package, resource = LIBRARIES[library]
    return tuple(_parse_shipped(package, resource))


def _sections_by_key(raw: dict[str, Any], label: str) -> dict[str, Any]:
    sections = raw.get("sections")
    if not isinstance(sections, list) or not all(
            isinstance(s, dict) and isinstance(s.get("key"), str) and "use" not in s
            for s in sections):
        raise FragmentError([f"fragment file {label} must hold [[sections]] tables, each with "
                             f"a key and without 'use'"])
    return {section["key"]: section for section in sections}


__all__ = ["LIBRARIES", "FragmentError", "resolve_fragments", "shipped_section_keys"]
