"""One pluggy plugin manager per app: loading plugins, calling hooks, switching plugins on/off.

``init_app`` loads the plugins (``loading``); ``call_hook`` is the one way the core calls a
hook; ``set_enabled`` is the admin's switch (``switches``). A plugin that fails to import,
declares an invalid form or answers a hook wrongly while loading is marked failed with its
reason; one that fails while serving is switched off for the whole instance with its reason
(``state``). Either way the Plugins page and ``handover plugins list`` say why, and the app and
every other plugin keep working.

The state lives in ``app.extensions["handover_plugins"]`` so each test app starts clean.
"""

from typing import Any

from flask import Flask, current_app

from handover.formdefs.loader import DefinitionError
from handover.formdefs.model import FormDefinition
from handover.formdefs.registry import FormRegistry, UnknownForm
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS
from handover.plugins import switches, uploaded
from handover.plugins.loading import DEFAULT_PLUGINS, discover, load_plugins
from handover.plugins.state import PluginRecord, PluginState, call_implementations
from handover.plugins.switches import disabled_in_database

SOURCES = ("internal", "built-in", "entry point", "plugins folder")
#: Hooks about one form: only the plugin that registered the form is asked, and it is given
#: the form's definition.
FORM_HOOKS = frozenset({"validate_form"})


class FormChecksUnavailable(RuntimeError):
    """The plugin that owns a form is switched off, or failed while checking it: what its rules
    would refuse cannot be known, so nothing may be sent as if the form had been checked."""

    def __init__(self, plugin_name: str) -> None:
        super().__init__(f"the checks of plugin {plugin_name} are unavailable")
        self.plugin_name = plugin_name

__all__ = [
    "DEFAULT_PLUGINS", "DefinitionError", "FormChecksUnavailable", "PluginRecord", "PluginState",
    "UnknownForm",
    "UnknownPlugin", "call_hook", "disabled_in_database", "implemented", "init_app", "plugin",
    "plugins", "registry", "set_enabled", "unit_kind_label", "unit_kinds",
]


class UnknownPlugin(LookupError):
    """No plugin of that name was found when this app started."""


def init_app(app: Flask) -> None:
    """Load every plugin into a manager of this app's own."""
    state = PluginState(app)
    app.extensions["handover_plugins"] = state
    load_plugins(state, discover(app.config.get("PLUGINS_DIR")))
    uploaded.init_app(app)
    app.teardown_appcontext(_record_runtime_failures)


def _state(app: Flask | None = None) -> PluginState:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions["handover_plugins"]


def _record_runtime_failures(_error: BaseException | None = None) -> None:
    """Run-time failures reach the database once the context's own work is over."""
    state = _state()
    pending = dict(state.unrecorded_failures)
    if pending and switches.record_runtime_failures(pending):
        for name in pending:
            state.unrecorded_failures.pop(name, None)


def registry(app: Flask | None = None) -> FormRegistry:
    """The ``FormRegistry`` of ``app`` (default: the current app)."""
    return _state(app).registry


def plugins(app: Flask | None = None) -> list[PluginRecord]:
    """Every plugin found, in loading order, with its instance setting filled in."""
    state = _state(app)
    disabled = disabled_in_database()
    reasons = switches.failure_reasons() if disabled else {}
    for record in state.records.values():
        pending = state.unrecorded_failures.get(record.name)
        record.enabled = record.name not in disabled and pending is None
        record.failure = pending or (reasons.get(record.name) if not record.enabled else None)
    return list(state.records.values())


def plugin(name: str, app: Flask | None = None) -> PluginRecord:
    for record in plugins(app):
        if record.name == name:
            return record
    raise UnknownPlugin(name)


def unit_kinds(app: Flask | None = None) -> dict[str, Any]:
    """{kind: label} of the core kinds, then the kinds plugins registered: the one list."""
    return {**CORE_UNIT_KINDS, **_state(app).unit_kind_labels}


def unit_kind_label(kind: str, app: Flask | None = None) -> Any:
    """A kind's label in the reader's language; an unknown kind shows its key."""
    return unit_kinds(app).get(kind, kind)


def call_hook(name: str, **kwargs: Any) -> list[Any]:
    """Call hook ``name`` with keyword arguments on every active plugin that implements it;
    return the answers, skipping ``None`` and flattening lists.

    A hook about one form (``FORM_HOOKS``) is called only on the plugin that registered the
    form, with its ``definition`` (looked up from ``form_key`` and ``form_version`` if not
    given); an unknown form, or a definition no plugin registered, has nobody to ask. When that
    plugin is switched off or fails during the call, `FormChecksUnavailable` is raised: an empty
    answer would read as "no objection".
    """
    app = kwargs.get("app") or current_app._get_current_object()  # type: ignore[attr-defined]
    kwargs["app"] = app
    state = _state(app)
    if not implemented(name, app):
        return []    # nobody listens: no need to ask the database who is switched off
    owner = None
    if name in FORM_HOOKS:
        definition = _definition(state, kwargs)
        if definition is None:
            return []
        owner = state.registry.owner(definition.key, definition.version)
        if owner is None:
            return []    # a definition no plugin registered has nobody to ask
        kwargs.update(definition=definition, form_key=definition.key,
                      form_version=definition.version)
    inactive = state.inactive_names()
    if owner is not None and owner in inactive:
        raise FormChecksUnavailable(owner)
    answers: list[Any] = []
    for _plugin_name, answer in call_implementations(
            state, name, kwargs,
            skip=lambda plugin: plugin in inactive or (owner is not None and plugin != owner)):
        if isinstance(answer, list | tuple):
            answers.extend(answer)
        else:
            answers.append(answer)
    if owner is not None and owner in state.unrecorded_failures:
        raise FormChecksUnavailable(owner)
    return answers


def _definition(state: PluginState, kwargs: dict[str, Any]) -> FormDefinition | None:
    definition = kwargs.get("definition")
    if definition is not None:
        return definition
    try:
        return state.registry.get(kwargs.get("form_key"), kwargs.get("form_version"))
    except UnknownForm:
        return None


def implemented(name: str, app: Flask | None = None) -> bool:
    """Whether any plugin that has not failed implements hook ``name``."""
    state = _state(app)
    return any(not state.records[impl.plugin_name].error
               and impl.plugin_name not in state.unrecorded_failures
               for impl in getattr(state.pm.hook, name).get_hookimpls())


def set_enabled(name: str, enabled: bool, actor: Any = None) -> None:
    """Switch a plugin on or off for this instance, with its audit event, in one transaction.

    Switching on a plugin that failed at run time is how the admin says it has been fixed."""
    state = _state()
    if name not in state.records:
        raise UnknownPlugin(name)
    switches.switch(name, enabled, actor)
    if enabled:
        state.unrecorded_failures.pop(name, None)
