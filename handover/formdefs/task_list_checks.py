"""Checks of what a definition says about its task list: ``[[groups]]`` of sections and a
section's ``requires``.

The fill pages show a task list of the sections. ``[[groups]]`` put headings over runs of
consecutive sections (so that the list reads in the order the pages go); a section's
``requires`` names sections that must be completed first, and the task list shows it as
"cannot start yet" until they are. "Completed" is derived from required fields, so a
prerequisite must have at least one: a section without required fields would be completed by
any answer, and a required section waiting on it could hold up sending for nothing.
"""

from typing import Any

from handover.formdefs.checker import Checker, Raw

GROUP_KEYS = {"key", "title", "sections"}


def check_task_list(checker: Checker, raw: Raw, prefix: str) -> None:
    """The ``groups`` table and every section's ``requires``, against the section keys."""
    sections = [s for s in raw.get("sections") or [] if isinstance(s, dict)]
    order = [s.get("key") for s in sections]
    _check_requires(checker, sections, order, prefix + "sections")
    if "groups" in raw:
        _check_groups(checker, raw["groups"], order, prefix + "groups")


def _check_requires(checker: Checker, sections: list[Raw], order: list[Any],
                    where: str) -> None:
    with_required = {s.get("key") for s in sections
                     if any(isinstance(f, dict) and f.get("required") is True
                            for f in s.get("fields") or [])}
    graph: dict[str, list[str]] = {}
    for index, section in enumerate(sections):
        if "requires" not in section:
            continue
        here = f"{where}[{index}] (key '{section.get('key')}').requires"
        requires = section["requires"]
        if not isinstance(requires, list) or not all(isinstance(k, str) for k in requires):
            checker.add(here, "must be a list of section keys")
            continue
        for key in requires:
            if key == section.get("key"):
                checker.add(here, "a section cannot require itself")
            elif key not in order:
                checker.add(here, f"unknown section '{key}'")
            elif key not in with_required:
                checker.add(here, f"section '{key}' has no required field, so it is never "
                                  f"'completed' by rule; require a section that has one")
        graph[str(section.get("key"))] = [k for k in requires if k in order]
    cycle = _cycle(graph)
    if cycle:
        checker.add(where, "requires go round in a circle: " + " -> ".join(cycle))


def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """One cycle of ``graph`` as a path that ends where it starts, or an empty list."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return []
        for following in graph.get(node, []):
            found = visit(following, [*path, node])
            if found:
                return found
        done.add(node)
        return []

    for start in graph:
        found = visit(start, [])
        if found:
            return found
    return []


def _check_groups(checker: Checker, groups: Any, order: list[Any], where: str) -> None:
    if not isinstance(groups, list) or not groups:
        checker.add(where, "must be a list of [[groups]] tables")
        return
    grouped: dict[str, str] = {}
    seen = set()
    for index, group in enumerate(groups):
        here = f"{where}[{index}]"
        if not isinstance(group, dict):
            checker.add(here, "must be a table")
            continue
        if isinstance(group.get("key"), str):
            here = f"{here} (key '{group['key']}')"
        checker.unknown_keys(group, GROUP_KEYS, here)
        key = checker.key(group, here, "group key")
        if key in seen:
            checker.add(here, f"duplicate group key '{key}'")
        seen.add(key)
        checker.texts(group, here, "title")
        members = group.get("sections")
        if not isinstance(members, list) or not members or not all(
                isinstance(m, str) for m in members):
            checker.add(here, "'sections' must be a non-empty list of section keys")
            continue
        for member in members:
            if member not in order:
                checker.add(here, f"unknown section '{member}'")
            elif member in grouped:
                checker.add(here, f"section '{member}' is already in group '{grouped[member]}'")
            else:
                grouped[member] = str(key)
        positions = [order.index(m) for m in members if m in order]
        if positions and positions != list(range(positions[0], positions[0] + len(positions))):
            checker.add(here, "the sections of a group must follow each other in the "
                              "definition's order, in that order")
