"""What one app knows about its plugins, and the one way a hook implementation is called.

``call_implementations`` applies the failure policy everywhere: while plugins load, a plugin
that raises or answers with the wrong type gets a load error (every worker loads the same code
and so reaches the same verdict); at run time it is switched off for the whole instance
(``switches.record_runtime_failures`` writes it to the database when the app context ends, and
this worker stops calling it at once). Plugins therefore need no try/except of their own.

A plugin's ``sys.exit()`` (a module that exits when a dependency is missing, a hook that
exits) is such a failure too, not the end of the server or of a ``handover`` command; see
``is_plugin_failure`` for what still reaches the process.
"""

import logging
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy
from flask import Flask, has_app_context
from flask_babel import LazyString

from handover import hookspecs
from handover.formdefs.registry import FormRegistry
from handover.plugins import switches

logger = logging.getLogger("handover.plugins")

#: What a non-None answer of each hook must be; another type disables the plugin.
EXPECTED_ANSWERS = {
    "register_forms": (list, tuple),
    "register_routing_rules": (list, tuple),
    "register_unit_kinds": (list, tuple),
    "validate_form": (dict,),
}


@dataclass
class PluginRecord:
    """What the Plugins page and ``handover plugins list`` show about one plugin."""

    name: str
    source: str
    version: str = ""
    module: ModuleType | None = None
    #: Why it failed to load (the same in every worker); None when it loaded.
    error: str | None = None
    unit_kinds: list[str] = field(default_factory=list)
    #: The instance setting, and why a hook switched it off at run time; filled by ``plugins()``.
    enabled: bool = True
    failure: str | None = None

    @property
    def active(self) -> bool:
        return self.error is None and self.enabled


class PluginState:
    """Everything plugin-related one app knows; kept on ``app.extensions``."""

    def __init__(self, app: Flask | None):
        self.app = app
        self.pm = pluggy.PluginManager("handover")
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.registry = FormRegistry(self.inactive_names)
        #: {kind: label} of the kinds plugins registered (the core's are in formdefs).
        self.unit_kind_labels: dict[str, Any] = {}
        #: {plugin name: reason} of run-time failures not yet written to the database.
        self.unrecorded_failures: dict[str, str] = {}

    def fail(self, name: str, reason: str, *, exc_info: bool = False) -> None:
        """A load error: the plugin stays off in this app, and what it registered is dropped
        (its forms, routing rules and unit kinds), so a failed plugin contributes nothing."""
        record = self.records[name]
        record.error = f"{record.error}; {reason}" if record.error else reason
        self.registry.remove_plugin(name)
        for kind in record.unit_kinds:
            self.unit_kind_labels.pop(kind, None)
        record.unit_kinds = []
        logger.error("Plugin %s disabled: %s", name, reason, exc_info=exc_info)

    def fail_at_run_time(self, name: str, reason: str) -> None:
        """A hook raised or answered wrongly while serving: off for the whole instance."""
        self.unrecorded_failures[name] = reason
        logger.error("Plugin %s switched off: %s", name, reason)

    def failed_names(self) -> set[str]:
        return {name for name, record in self.records.items() if record.error}

    def inactive_names(self) -> set[str]:
        """Failed plugins, and those switched off for the instance (asked from the database)."""
        names = self.failed_names() | set(self.unrecorded_failures)
        if has_app_context():
            names |= switches.disabled_in_database()
        return names


def is_plugin_failure(error: BaseException) -> bool:
    """Whether ``error``, raised while a plugin's code ran, is that plugin's failure: any
    ``Exception``, and a ``SystemExit`` the plugin raised itself (``sys.exit()``).

    Everything else must still reach the process: ``KeyboardInterrupt`` (the operator's Ctrl+C),
    ``GeneratorExit`` (a generator being closed), a green thread being killed (gevent's
    ``GreenletExit`` and ``Timeout`` are ``BaseException``s), and a ``SystemExit`` raised by
    one of this process's own signal handlers while the plugin happened to run (gunicorn's
    worker stops with ``sys.exit`` from its SIGQUIT, SIGINT and timeout handlers).
    """
    if isinstance(error, Exception):
        return True
    return isinstance(error, SystemExit) and not _raised_by_signal_handler(error)


def _raised_by_signal_handler(error: BaseException) -> bool:
    """Whether ``error`` came through one of the installed signal handlers: a handler runs in
    a frame of its own on top of the code it interrupted, so its frame is in the traceback."""
    handlers = set()
    for number in signal.valid_signals():
        try:
            handler = signal.getsignal(number)
        except (OSError, ValueError):  # pragma: no cover - a signal this platform cannot ask
            continue
        code = getattr(getattr(handler, "__func__", handler), "__code__", None)
        if code is not None:
            handlers.add(code)
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code in handlers:
            return True
        traceback = traceback.tb_next
    return False


def in_loading_order(state: PluginState,
                     impls: list[pluggy.HookImpl]) -> list[pluggy.HookImpl]:
    """``impls`` ordered as their plugins were loaded (built-ins, entry points, the plugins
    folder): what a plugin registers is decided in this order, so the earlier-loaded plugin
    keeps a form key or unit kind and a later one asking for it fails. Pluggy's own call order
    (last registered first, moved by ``tryfirst``) would let any later plugin take it over."""
    position = {name: index for index, name in enumerate(state.records)}
    return sorted(impls, key=lambda impl: position[impl.plugin_name])


def call_implementations(state: PluginState, name: str, kwargs: dict[str, Any], *,
                         skip: Callable[[str], bool] = lambda plugin: False,
                         while_loading: bool = False) -> Iterator[tuple[str, Any]]:
    """(plugin name, answer) for each implementation of hook ``name``, in loading order
    (`in_loading_order`), each given the keyword arguments it names. ``None`` answers are left
    out.

    At run time the message of an exception is not kept: a plugin may have put client data
    into it; its type and the hook name say enough to find the bug.
    """
    caller = getattr(state.pm.hook, name)
    expected = EXPECTED_ANSWERS.get(name)
    fail = state.fail if while_loading else state.fail_at_run_time
    for impl in in_loading_order(state, caller.get_hookimpls()):
        plugin_name = impl.plugin_name
        if state.records[plugin_name].error or plugin_name in state.unrecorded_failures:
            continue
        if skip(plugin_name):
            continue
        try:
            answer = impl.function(**{arg: kwargs.get(arg) for arg in impl.argnames})
        except BaseException as error:  # a plugin must never take the server down
            if not is_plugin_failure(error):
                raise
            if while_loading:
                state.fail(plugin_name, f"hook {name} raised {type(error).__name__}: {error}",
                           exc_info=True)
            else:
                state.fail_at_run_time(plugin_name,
                                       f"hook {name} raised {type(error).__name__}")
            continue
        if answer is None:
            continue
        if expected is not None and not isinstance(answer, expected):
            fail(plugin_name, f"hook {name} answered with {type(answer).__name__}, "
                              f"expected {expected[0].__name__}")
            continue
        if name == "validate_form" and not _messages_by_field(answer):
            fail(plugin_name, f"hook {name} answered with something other than messages "
                              "(text, or a list of texts) by field")
            continue
        yield plugin_name, answer


def _messages_by_field(answer: dict[Any, Any]) -> bool:
    """Whether a `validate_form` answer is what the hook promises: {field path: a message or
    a list of messages}, each a text (or a lazily translated one). Anything else would be shown
    to the sender as it is ("None", "['a', 'b']")."""
    def is_text(message: Any) -> bool:
        return isinstance(message, str | LazyString)

    return all(isinstance(path, str) and (is_text(messages) or (
        isinstance(messages, list | tuple) and all(map(is_text, messages))))
        for path, messages in answer.items())
