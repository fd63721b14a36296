"""`handover plugins list|enable|disable|check`: the Plugins page on the command line, and a
linter for plugin authors that names every problem of a form definition or plugin module."""

from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app, has_app_context
from flask.cli import ScriptInfo, with_appcontext

from handover.formdefs import DefinitionError, load_definition
from handover.plugins import manager as plugin_manager
from handover.plugins.loading import (
    Candidate,
    discover,
    known_kinds,
    load_module_from_path,
    load_plugins,
    module_stem,
)
from handover.plugins.state import PluginState
from handover.plugins.state import logger as loader_log


@click.group("plugins")
def plugins_group():
    """List, switch on and off, and check form plugins."""


def forms_summary(name):
    """'form_key v1, v2' for each form a plugin registered."""
    versions = {}
    for definition in plugin_manager.registry().definitions_of(name):
        versions.setdefault(definition.key, []).append(f"v{definition.version}")
    return "; ".join(f"{key} {', '.join(found)}" for key, found in versions.items())


def state_of(record):
    if record.error:
        return "failed"
    return "enabled" if record.enabled else "disabled"


@plugins_group.command("list")
@with_appcontext
def list_command():
    """Every plugin: name, version, source, state, forms; a failed plugin's reason below it."""
    for record in plugin_manager.plugins():
        click.echo("\t".join([record.name, record.version or "-", record.source,
                              state_of(record), forms_summary(record.name) or "-"]))
        if record.error:
            for line in record.error.splitlines():
                click.echo(f"    {line}")
        elif record.failure:
            click.echo(f"    switched off after a failure: {record.failure}")


def _switch(name, enabled):
    try:
        plugin_manager.set_enabled(name, enabled)
    except plugin_manager.UnknownPlugin:
        names = ", ".join(r.name for r in plugin_manager.plugins()) or "none"
        raise click.ClickException(f"no plugin named {name!r} (plugins: {names})") from None
    record = plugin_manager.plugin(name)
    click.echo(f"Plugin {name} {'enabled' if enabled else 'disabled'}.")
    if enabled and record.error:
        click.echo(f"Note: it failed to load and stays off until fixed: {record.error}", err=True)


@plugins_group.command("enable")
@click.argument("name")
@with_appcontext
def enable_command(name):
    """Switch plugin NAME on for this instance."""
    _switch(name, True)


@plugins_group.command("disable")
@click.argument("name")
@with_appcontext
def disable_command(name):
    """Switch plugin NAME off for this instance (its old handovers still render)."""
    _switch(name, False)


@plugins_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(path):
    """Check a form definition (.toml) or a plugin module (.py); print every problem."""
    app = _app_or_none()
    problems = check_path(path, app)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("OK")


def _app_or_none():
    """The configured app when there is one (its plugins' unit kinds count as known); a plugin
    author without an instance can still check a file."""
    if has_app_context():
        return current_app._get_current_object()
    info = click.get_current_context().find_object(ScriptInfo)
    try:
        return info.load_app() if info else None
    except Exception:  # no instance configured: check against the core kinds only
        return None


def check_path(path, app=None):
    """Problems of ``path`` as printable lines, each starting with the file's path."""
    state = PluginState(app)
    installed = app.extensions["handover_plugins"] if app is not None else _installed_plugins()
    if installed is not None:
        # A checked copy of an installed plugin may register its own kinds again.
        own = _kinds_of(installed, path) if path.suffix == ".py" else set()
        state.unit_kind_labels.update({
            kind: label for kind, label in installed.unit_kind_labels.items() if kind not in own
        })
    if path.suffix == ".toml":
        try:
            definition = load_definition(path, unit_kinds=known_kinds(state))
        except DefinitionError as error:
            return [f"{path}: {problem}" for problem in error.problems]
        # Only a definition that names its plugin can be told from that plugin's own file.
        if not definition.plugin_name:
            return []
        return _taken_keys(installed, [definition], definition.plugin_name, path)
    if path.suffix != ".py":
        return [f"{path}: not a .toml form definition or a .py plugin module"]
    name = module_stem(path)
    candidate = Candidate(name, "checked",
                          lambda: load_module_from_path(path, "handover_checked_plugins"),
                          lambda module: "")
    with _loader_log_silenced():
        load_plugins(state, [candidate])
    record = state.records[name]
    if record.error:
        return [f"{path}: {line}" for line in record.error.splitlines()]
    if not state.pm.get_hookcallers(record.module):
        return [f"{path}: implements no Handover hook (are the functions marked @hookimpl?)"]
    # A checked copy of an installed plugin is that plugin: its forms are its own.
    owner = _installed_name_of(installed, path) if installed is not None else None
    return _taken_keys(installed, state.registry.definitions_of(name), owner or name, path)


def _taken_keys(installed, definitions, owner, path):
    """What the server would refuse of ``definitions`` that the file alone does not show: a
    form or reply form key that an installed plugin other than ``owner`` already has."""
    if installed is None:
        return []
    problems = []
    for definition in definitions:
        for key in (definition.key, *(reply.key for reply in definition.reply_forms)):
            others = installed.registry.key_owners(key) - {owner}
            if others:
                problems.append(f"{path}: form {key!r} belongs to plugin {min(others)!r}: a "
                                "plugin cannot register another plugin's form or reply form, "
                                "in any version")
    return problems


@contextmanager
def _loader_log_silenced():
    """The loader logs a failed plugin, traceback and all, for a server's log; here the check
    prints the same problem itself, as one line with the file's path."""
    def silence(_record):
        return False

    loader_log.addFilter(silence)
    try:
        yield
    finally:
        loader_log.removeFilter(silence)


def _installed_plugins():
    """Without an instance, still know the kinds that built-ins and installed packages add."""
    state = PluginState(None)
    load_plugins(state, discover(None))
    return state


def _installed_name_of(state, path):
    """The name of the installed plugin loaded from ``path``, or None."""
    for name, record in state.records.items():
        module_file = getattr(record.module, "__file__", None)
        if module_file and Path(module_file).resolve() == path.resolve():
            return name
    return None


def _kinds_of(state, path):
    """The kinds an installed plugin loaded from ``path`` registered: a checked copy of it may
    register them again without clashing."""
    kinds = set()
    for record in state.records.values():
        module_file = getattr(record.module, "__file__", None)
        if module_file and Path(module_file).resolve() == path.resolve():
            kinds.update(record.unit_kinds)
    return kinds


COMMANDS = (plugins_group,)
