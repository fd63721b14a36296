"""Finding plugins and loading what they register, for ``handover.plugins.manager``.

Plugins come from three places, loaded in this order and all through the same hooks:

1. ``DEFAULT_PLUGINS``, the built-in forms, imported by module name like any installed package
   (they ship inside the package as ``handover.builtin_plugins``; see pyproject.toml);
2. packages declaring an entry point in the group ``handover``;
3. modules in the instance's plugins folder (``PLUGINS_DIR``), loaded by path under the
   namespaced name ``handover_instance_plugins.<stem>``, so nothing generic is put on the path.

What they register is taken in that order too: a plugin name, unit kind or form key and version
stays with the plugin loaded first, and a later plugin asking for it fails with the reason.
"""

import importlib
import importlib.metadata
import importlib.util
import re
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import has_app_context
from flask_babel import get_locale
from markupsafe import escape

from handover import hookspecs
from handover.formdefs.loader import DefinitionError, load_definition, load_routing_rule
from handover.formdefs.model import LANGUAGES, text_in
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS
from handover.plugins.state import (
    PluginRecord,
    PluginState,
    call_implementations,
    is_plugin_failure,
)

#: The built-in plugins, one module per built-in form, loaded like any installed plugin.
DEFAULT_PLUGINS = (
    "handover.builtin_plugins.daycare",
    "handover.builtin_plugins.placement_update",
    "handover.builtin_plugins.pre_placement",
    "handover.builtin_plugins.psychiatric_ward",
    "handover.builtin_plugins.school_transfer",
)
#: Plugins that are part of Handover itself, loaded first: the forms admins upload.
INTERNAL_PLUGINS = ("handover.plugins.uploaded",)
FOLDER_NAMESPACE = "handover_instance_plugins"
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Definition paths are shown relative to the folder that holds the package (the repository,
#: or site-packages), so the Plugins page does not spell out the server's layout.
INSTALL_ROOT = Path(hookspecs.__file__).resolve().parent.parent


@dataclass
class Candidate:
    """A plugin found but not yet imported."""

    name: str
    source: str
    load: Callable[[], ModuleType]
    version: Callable[[ModuleType], str]


class LocalisedLabel:
    """A plugin unit kind's label that renders in the language of the current request."""

    def __init__(self, labels: dict[str, str]):
        self.labels = dict(labels)

    def __str__(self) -> str:
        locale = get_locale() if has_app_context() else None
        return text_in(self.labels, locale.language if locale else "fi")

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.labels.items())))


def discover(plugins_dir: str | Path | None,
             default_plugins: Iterable[str] | None = None) -> list[Candidate]:
    """Candidates in loading order: internal, the defaults, entry points, the plugins folder."""
    defaults = DEFAULT_PLUGINS if default_plugins is None else default_plugins
    candidates = [
        Candidate(module_name.rpartition(".")[2], "internal", _import_loader(module_name),
                  _builtin_version)
        for module_name in INTERNAL_PLUGINS
    ] + [
        Candidate(module_name.rpartition(".")[2], "built-in", _import_loader(module_name),
                  _builtin_version)
        for module_name in defaults
    ]
    for entry_point in importlib.metadata.entry_points(group="handover"):
        candidates.append(Candidate(entry_point.name, "entry point", entry_point.load,
                                    _entry_point_version(entry_point)))
    candidates += [
        Candidate(module_stem(path), "plugins folder", _path_loader(path, FOLDER_NAMESPACE),
                  _module_version)
        for path in _modules_in(plugins_dir)
    ]
    return candidates


def _modules_in(folder: str | Path | None) -> list[Path]:
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(
        path for path in Path(folder).glob("*.py")
        if not path.name.startswith(("_", "."))
    )


def load_module_from_path(path: str | Path, namespace: str) -> ModuleType:
    """Import ``path`` as ``<namespace>.<stem>`` (fresh every time: each app loads anew)."""
    if namespace not in sys.modules:
        package = types.ModuleType(namespace)
        package.__path__ = []
        sys.modules[namespace] = package
    path = Path(path)
    name = f"{namespace}.{module_stem(path)}"
    if path.name == "__init__.py":  # a package: its own files (package data) must resolve
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[str(path.parent)])
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def module_stem(path: str | Path) -> str:
    """The plugin name a file gives: its stem, or its folder's name for a package."""
    path = Path(path)
    return path.parent.name if path.name == "__init__.py" else path.stem


def _import_loader(module_name: str) -> Callable[[], ModuleType]:
    return lambda: importlib.import_module(module_name)


def _path_loader(path: Path, namespace: str) -> Callable[[], ModuleType]:
    return lambda: load_module_from_path(path, namespace)


def _module_version(module: ModuleType) -> str:
    return str(getattr(module, "__version__", "") or "")


def _builtin_version(module: ModuleType) -> str:
    try:
        core = importlib.metadata.version("handover")
    except importlib.metadata.PackageNotFoundError:
        core = ""
    return _module_version(module) or core


def _entry_point_version(entry_point: Any) -> Callable[[ModuleType], str]:
    def version(module: ModuleType) -> str:
        dist = getattr(entry_point, "dist", None)
        return (dist.version if dist else "") or _module_version(module)

    return version


def load_plugins(state: PluginState, candidates: Iterable[Candidate]) -> None:
    """Import and register every candidate, then ask the loaded ones what they provide."""
    for candidate in candidates:
        name = candidate.name
        if name in state.records:
            name = f"{candidate.name} ({candidate.source})"
            state.records[name] = PluginRecord(name, candidate.source)
            state.fail(name, f"another plugin named {candidate.name!r} was loaded first "
                             f"({state.records[candidate.name].source})")
            continue
        record = state.records[name] = PluginRecord(name, candidate.source)
        try:
            module = candidate.load()
            record.module = module
            record.version = candidate.version(module)
        except BaseException as error:  # an import error, or sys.exit(), must not stop the server
            if not is_plugin_failure(error):
                raise
            state.fail(name, f"could not be imported: {type(error).__name__}: {error}",
                       exc_info=True)
            continue
        try:
            state.pm.register(module, name=name)
        except BaseException as error:  # pluggy rejects implementations with wrong arguments
            if not is_plugin_failure(error):  # (a module's __getattr__ may even exit)
                raise
            state.fail(name, f"could not be registered: {error}")
            continue
        unknown = sorted(hc.name for hc in state.pm.get_hookcallers(module) or ()
                         if hc.spec is None)
        if unknown:
            state.fail(name, f"implements unknown hooks: {', '.join(unknown)}")
    _load_unit_kinds(state)
    _load_forms(state)
    _load_routing_rules(state)


def _answers(state: PluginState, hook: str) -> list[tuple[str, Any]]:
    return list(call_implementations(state, hook, {"app": state.app}, while_loading=True))


def _load_unit_kinds(state: PluginState) -> None:
    for name, answer in _answers(state, "register_unit_kinds"):
        problems, kinds = [], {}
        for index, item in enumerate(answer):
            here = f"register_unit_kinds()[{index}]"
            key = item.get("key") if isinstance(item, dict) else None
            if not isinstance(key, str) or not KIND_PATTERN.match(key):
                problems.append(f"{here}: 'key' must be lower-case letters, digits and _")
                continue
            if key in CORE_UNIT_KINDS or key in state.unit_kind_labels or key in kinds:
                problems.append(f"{here}: unit kind '{key}' already exists")
            labels = item.get("labels")
            if not isinstance(labels, dict) or not all(
                isinstance(labels.get(lang), str) and labels[lang].strip() for lang in LANGUAGES
            ):
                problems.append(f"{here}: 'labels' needs non-empty fi, sv and en texts")
                continue
            kinds[key] = LocalisedLabel(labels)
        if problems:
            state.fail(name, "; ".join(problems))
            continue
        state.records[name].unit_kinds = list(kinds)
        state.unit_kind_labels.update(kinds)


def known_kinds(state: PluginState) -> tuple[str, ...]:
    """The core kinds, then the kinds plugins registered, in loading order."""
    return tuple(CORE_UNIT_KINDS) + tuple(state.unit_kind_labels)


def display_path(path: Any, root: Path | None = None) -> str:
    """A definition file's path as the admin reads it: relative to the install root if inside."""
    try:
        return str(Path(str(path)).resolve().relative_to(root or INSTALL_ROOT))
    except ValueError:
        return str(path)


def _load_forms(state: PluginState) -> None:
    for name, answer in _answers(state, "register_forms"):
        problems, definitions = [], []
        kinds = known_kinds(state)   # asked again: a plugin that failed took its kinds along
        for index, source in enumerate(answer):
            try:
                definitions.append(load_definition(source, plugin_name=name, unit_kinds=kinds))
            except DefinitionError as error:
                error.source = (f"register_forms()[{index}]" if isinstance(source, dict)
                                else display_path(source))
                problems.extend(str(error).splitlines())
        if not problems:
            for definition in definitions:
                try:
                    state.registry.add(definition, name)
                except ValueError as error:
                    problems.append(str(error))
        if problems:
            state.fail(name, "invalid form definition: " + "\n".join(problems))


def _load_routing_rules(state: PluginState) -> None:
    for name, answer in _answers(state, "register_routing_rules"):
        problems, rules = [], []
        kinds = known_kinds(state)
        for raw in answer:
            try:
                rule = load_routing_rule(raw, name, kinds)
            except DefinitionError as error:
                problems.extend(error.problems)
                continue
            if not state.registry.has_key(rule.form):
                problems.append(f"routing rule for {rule.form!r}: no such form is registered")
            rules.append(rule)
        if problems:
            state.fail(name, "invalid routing rule: " + "; ".join(problems))
            continue
        for rule in rules:
            state.registry.add_rule(rule)
