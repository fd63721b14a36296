"""One pluggy plugin manager per app: loading plugins, calling hooks, switching plugins on/off.

Plugins load in this order, all through the same hooks: the built-ins in the repository's
``plugins/`` folder, then packages declaring an entry point in the group ``handover``, then
modules in the instance's plugins folder (``PLUGINS_DIR``). A plugin that fails to import,
declares an invalid form or answers a hook wrongly is marked failed with its reason (shown on the
Plugins page and logged); the app starts and every other plugin works.

The state lives in ``app.extensions["handover_plugins"]`` so each test app starts clean.
"""

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pluggy
from flask import current_app, has_app_context

import handover
from handover import hookspecs
from handover.formdefs.loader import DefinitionError
from handover.formdefs.registry import FormRegistry, UnknownForm
from handover.plugins.loading import discover, load_plugins

logger = logging.getLogger("handover.plugins")

BUILTIN_PLUGINS_DIR = Path(handover.__file__).resolve().parent.parent / "plugins"
SOURCES = ("built-in", "entry point", "plugins folder")

#: What a non-None answer of each hook must be; another type disables the plugin.
EXPECTED_ANSWERS = {
    "register_forms": (list, tuple),
    "register_routing_rules": (list, tuple),
    "register_unit_kinds": (list, tuple),
    "validate_form": (dict,),
}

__all__ = [
    "DefinitionError", "PluginRecord", "UnknownForm", "UnknownPlugin", "call_hook", "init_app",
    "plugins", "registry", "set_enabled", "unit_kinds",
]


class UnknownPlugin(LookupError):
    """No plugin of that name was found when this app started."""


@dataclass
class PluginRecord:
    """What the Plugins page and ``handover plugins list`` show about one plugin."""

    name: str
    source: str
    version: str = ""
    module: object = None
    error: str | None = None
    unit_kinds: list = field(default_factory=list)
    enabled: bool = True  # the instance setting; filled in by ``plugins()``

    @property
    def load_error(self):
        return self.error

    @property
    def active(self):
        return self.error is None and self.enabled


class PluginState:
    """Everything plugin-related one app knows."""

    def __init__(self, app):
        self.app = app
        self.pm = pluggy.PluginManager("handover")
        self.pm.add_hookspecs(hookspecs)
        self.records = {}
        self.registry = FormRegistry(self.inactive_names)
        self.unit_kind_labels = {}

    def fail(self, name, reason, *, exc_info=False):
        record = self.records[name]
        record.error = f"{record.error}; {reason}" if record.error else reason
        self.registry.remove_plugin(name)
        logger.error("Plugin %s disabled: %s", name, reason, exc_info=exc_info)

    def failed_names(self):
        return {name for name, record in self.records.items() if record.error}

    def inactive_names(self):
        """Failed plugins, and those the instance switched off (asked from the database)."""
        names = self.failed_names()
        if has_app_context():
            names |= disabled_in_database()
        return names


def init_app(app):
    state = PluginState(app)
    app.extensions["handover_plugins"] = state
    app.extensions["handover_unit_kind_labels"] = state.unit_kind_labels
    candidates = discover(BUILTIN_PLUGINS_DIR, app.config.get("PLUGINS_DIR"))
    load_plugins(state, candidates)
    from handover.web import formbuilder

    formbuilder.init_app(app)


def _state(app=None):
    app = app or current_app._get_current_object()
    return app.extensions["handover_plugins"]


def registry(app=None):
    """The ``FormRegistry`` of ``app`` (default: the current app)."""
    return _state(app).registry


def plugins(app=None):
    """Every plugin found, in loading order, with its instance setting filled in."""
    state = _state(app)
    disabled = disabled_in_database()
    for record in state.records.values():
        record.enabled = record.name not in disabled
    return list(state.records.values())


def plugin(name, app=None):
    for record in plugins(app):
        if record.name == name:
            return record
    raise UnknownPlugin(name)


def unit_kinds(app=None):
    """{kind: label} of the core kinds and the kinds plugins registered."""
    from handover.web.ui import UNIT_KIND_LABELS

    return {**UNIT_KIND_LABELS, **_state(app).unit_kind_labels}


def call_hook(name, **kwargs):
    """Call hook ``name`` on every active plugin with keyword arguments; return the answers,
    skipping ``None`` and flattening lists. A plugin whose implementation raises or answers
    with the wrong type is disabled for this app and left out."""
    app = kwargs.get("app") or current_app._get_current_object()
    state = _state(app)
    answers = []
    if not implemented(name, app):
        return answers    # nobody listens: no need to ask the database who is switched off
    for _plugin_name, answer in each_answer(state, name, kwargs, state.inactive_names()):
        if isinstance(answer, list | tuple):
            answers.extend(answer)
        else:
            answers.append(answer)
    return answers


def implemented(name, app=None):
    """Whether any plugin that loaded without error implements hook ``name``."""
    state = _state(app)
    return any(not state.records[impl.plugin_name].error
               for impl in getattr(state.pm.hook, name).get_hookimpls())


def each_answer(state, name, kwargs, skip=frozenset(), while_loading=False):
    """(plugin name, answer) for each implementation of ``name``, in pluggy's call order.

    Exceptions and wrong answer types disable the plugin. At run time the message of an
    exception is not logged: a plugin may have put client data into it.
    """
    caller = getattr(state.pm.hook, name)
    expected = EXPECTED_ANSWERS.get(name)
    for impl in reversed(caller.get_hookimpls()):
        plugin_name = impl.plugin_name
        if plugin_name in skip or state.records[plugin_name].error:
            continue
        try:
            answer = impl.function(**{arg: kwargs.get(arg) for arg in impl.argnames})
        except Exception as error:  # a plugin must never take the server down
            detail = f"{type(error).__name__}: {error}" if while_loading else type(error).__name__
            state.fail(plugin_name, f"hook {name} raised {detail}", exc_info=while_loading)
            continue
        if answer is None:
            continue
        if expected is not None and not isinstance(answer, expected):
            state.fail(plugin_name, f"hook {name} answered with {type(answer).__name__}, "
                                    f"expected {expected[0].__name__}")
            continue
        yield plugin_name, answer


@functools.cache
def _switched_off():
    """Built once (the models cannot be imported when this module is)."""
    from sqlalchemy import select

    from handover.store.models import PluginSetting

    return select(PluginSetting.name).where(PluginSetting.enabled.is_(False))


def disabled_in_database():
    """Asked once per request (a send consults the registry about ten times); `set_enabled`
    forgets the answer. Outside a request it is asked every time."""
    from flask import g, has_request_context, request

    from handover.store.database import db

    current = request._get_current_object() if has_request_context() else None
    cached = g.get("_disabled_plugins") if current is not None else None
    if cached is not None and cached[0] is current:
        return set(cached[1])
    names = set(db.session.execute(_switched_off()).scalars())
    if current is not None:
        g._disabled_plugins = (current, frozenset(names))
    return names


def set_enabled(name, enabled, actor=None):
    """Switch a plugin on or off for this instance, with its audit event, in one transaction."""
    from handover.store import audit
    from handover.store.database import db
    from handover.store.models import PluginSetting
    from handover.store.models.base import utcnow

    if name not in _state().records:
        raise UnknownPlugin(name)
    setting = db.session.get(PluginSetting, name)
    if setting is None:
        setting = PluginSetting(name=name)
        db.session.add(setting)
    setting.enabled = bool(enabled)
    setting.changed_at = utcnow()
    from flask import g

    g.pop("_disabled_plugins", None)
    audit.record("plugins.enabled" if enabled else "plugins.disabled", actor=actor,
                 detail={"plugin": name})
    db.session.commit()
