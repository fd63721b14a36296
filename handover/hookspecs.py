"""Every hook a Handover plugin may implement, and nothing else.

Plugins import ``hookimpl`` from here. The core never calls ``pm.hook`` directly: it goes through
``handover.plugins.manager.call_hook(name, **kwargs)``, which passes keyword arguments (a plugin may
accept fewer than the spec names, so specs can gain arguments without breaking plugins), skips
``None`` answers, flattens lists and disables a plugin whose implementation raises.
"""

import pluggy

hookspec = pluggy.HookspecMarker("handover")
hookimpl = pluggy.HookimplMarker("handover")


@hookspec
def register_forms(app):
    """Called once per app while plugins load, to learn which forms a plugin provides.

    ``app`` is the Flask app being created (no request, no database access).

    Return a list of form definition sources: each a ``pathlib.Path`` to a TOML file or a dict
    of the same shape already parsed. Several versions of the same form key may be returned;
    keep old versions so that handovers filled with them still render. ``None`` means the plugin
    provides no forms. A definition that fails validation disables the whole plugin.
    """


@hookspec
def register_routing_rules(app):
    """Called once per app while plugins load, to learn who may send which form to whom.

    ``app`` is the Flask app being created.

    Return a list of dicts ``{"form": KEY, "senders": [kind, ...], "receivers": [kind, ...],
    "copies": [kind, ...]}`` using core unit kinds or kinds some plugin registers. Rules are
    merged with the ``[routing]`` table of the form's definition. ``None`` means no extra rules.
    """


@hookspec
def register_unit_kinds(app):
    """Called once per app while plugins load, before forms, to add kinds of unit.

    ``app`` is the Flask app being created.

    Return a list of dicts ``{"key": "health_service", "labels": {"fi": ..., "sv": ...,
    "en": ...}}``. The key must not clash with a core kind. ``None`` means no new kinds.
    """


@hookspec
def validate_form(form_key, form_version, content, language):
    """Called after a filled form passed field-by-field validation, for cross-field rules.

    ``form_key`` and ``form_version`` name the definition; ``content`` is the JSON-able dict the
    form would store (``{field_key: value, group_key: [{sub_key: value}, ...]}``); ``language``
    is the language the user works in ("fi", "sv" or "en"), for the messages.

    Return a dict ``{field_path: [message, ...]}`` where ``field_path`` is a field key or
    ``"group_key.row_index.sub_key"``; ``None`` or an empty dict means no objections. Must never
    raise: an implementation that raises is logged and its plugin disabled.
    """


@hookspec
def handover_sent(handover, app):
    """Called after a handover was sent and committed, for notifications and integrations.

    ``handover`` is the sent ``Handover``; ``app`` the Flask app. The return value is ignored.
    Never put child data into logs or messages sent outside Handover.
    """


@hookspec
def handover_opened(handover, unit, app):
    """Called after a receiving or copy unit first opened a handover, once committed.

    ``handover`` is the ``Handover``; ``unit`` the ``Unit`` whose member opened it; ``app`` the
    Flask app. The return value is ignored.
    """


@hookspec
def handover_acknowledged(handover, app):
    """Called after the receiver acknowledged a handover, once committed.

    ``handover`` is the acknowledged ``Handover``; ``app`` the Flask app. The return value is
    ignored.
    """
