"""Every hook a Handover plugin may implement, and the read-only summaries its events carry.

Plugins mark their implementations with ``handover.hookimpl``. The core calls every hook through
``handover.plugins.manager.call_hook(name, **kwargs)``: always with keyword arguments, so an
implementation may accept fewer arguments than its spec names and specs can gain arguments
without breaking plugins. ``None`` answers are skipped and lists are flattened. A plugin whose
implementation raises is switched off, in every worker, with the reason on the Plugins page; a
plugin never needs a try/except of its own around a hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pluggy
from flask import Flask

from handover.formdefs import FormDefinition

hookspec = pluggy.HookspecMarker("handover")
hookimpl = pluggy.HookimplMarker("handover")


@dataclass(frozen=True)
class UnitSummary:
    """A unit as event hooks see it: no people, no content."""

    id: int
    kind: str
    name: str


@dataclass(frozen=True)
class HandoverSummary:
    """A handover as event hooks see it: who, which form, what state and when, never content.

    A snapshot taken when the event happened; it is not connected to the database.
    """

    id: int
    form_key: str
    form_version: int
    status: str
    sender_unit_id: int
    receiver_unit_id: int | None
    copy_unit_ids: tuple[int, ...]
    created_at: datetime | None
    sent_at: datetime | None
    opened_at: datetime | None
    acknowledged_at: datetime | None
    withdrawn_at: datetime | None
    due_at: datetime | None


class UnitKind(TypedDict):
    """A kind of unit a plugin adds (`register_unit_kinds`): its key and its label per
    language."""

    key: str
    labels: dict[str, str]


class RoutingRuleSource(TypedDict):
    """Who may send a form to whom, as a plugin returns it (`register_routing_rules`); unit
    kinds by key."""

    form: str
    senders: list[str]
    receivers: list[str]
    copies: NotRequired[list[str]]


@hookspec
def register_unit_kinds(app: Flask) -> list[UnitKind] | None:
    """Called once per app while plugins load, before forms, to add kinds of unit.

    ``app`` is the Flask app being created (no request, no database access).

    Return a list of dicts ``{"key": "health_service", "labels": {"fi": ..., "sv": ...,
    "en": ...}}``. The key must not clash with a core kind or another plugin's. ``None`` means
    no new kinds.
    """


@hookspec
def register_forms(app: Flask) -> list[Path | Traversable | dict[str, Any]] | None:
    """Called once per app while plugins load, to learn which forms a plugin provides.

    ``app`` is the Flask app being created (no request, no database access).

    Return a list of form definition sources: each a ``pathlib.Path`` (or package resource) of
    a TOML file, or a dict of the same shape already parsed. Several versions of the same form
    key may be returned; keep old versions so that handovers filled with them still render.
    ``None`` means the plugin provides no forms. A definition that fails validation disables
    the whole plugin.
    """


@hookspec
def register_routing_rules(app: Flask) -> list[RoutingRuleSource] | None:
    """Called once per app while plugins load, to learn who may send which form to whom.

    ``app`` is the Flask app being created.

    Return a list of dicts ``{"form": KEY, "senders": [kind, ...], "receivers": [kind, ...],
    "copies": [kind, ...]}`` using core unit kinds or kinds some plugin registers. Rules are
    merged with the ``[routing]`` table of the form's definition. ``None`` means no extra rules.
    """


@hookspec
def validate_form(definition: FormDefinition, form_key: str, form_version: int,
                  content: dict[str, Any], language: str,
                  sender_kind: str | None) -> dict[str, list[str]] | None:
    """Called after a filled form passed field-by-field validation, for cross-field rules,
    only on the plugin that registered the form.

    ``definition`` is the ``handover.formdefs.FormDefinition`` the form was filled with (a
    reply form's own definition for a reply); ``form_key`` and ``form_version`` name it.
    ``content`` is the JSON-able dict the form would store (``{field_key: value, group_key:
    [{sub_key: value}, ...]}``): every value has passed its field's checks (dates are ISO
    strings, groups are lists of dicts), and a field not filled is absent or empty. ``language``
    is the language the user works in ("fi", "sv" or "en"), for the messages. ``sender_kind``
    is the kind of the unit that fills and sends the form (e.g. "school"), for rules that hold
    for some senders only; None where no sender is known (a preview of an uploaded form).

    Return a dict ``{field_path: [message, ...]}`` where ``field_path`` is a field key or
    ``"group_key.row_index.sub_key"`` (any other path is shown above the form); ``None`` or an
    empty dict means no objections. Never log ``content``: it is child data.
    """


@hookspec
def handover_sent(handover: HandoverSummary, app: Flask) -> None:
    """Called after a handover was sent and committed, for notifications and integrations.

    ``handover`` is a ``HandoverSummary`` of the sent handover; ``app`` the Flask app. The
    return value is ignored. Never put child data into logs or messages sent outside Handover.
    """


@hookspec
def handover_opened(handover: HandoverSummary, unit: UnitSummary, app: Flask) -> None:
    """Called after a receiving or copy unit first opened a handover, once committed.

    ``handover`` is a ``HandoverSummary``; ``unit`` the ``UnitSummary`` of the unit whose
    member opened it; ``app`` the Flask app. The return value is ignored.
    """


@hookspec
def handover_acknowledged(handover: HandoverSummary, app: Flask) -> None:
    """Called after the receiver acknowledged a handover, once committed.

    ``handover`` is a ``HandoverSummary`` of the acknowledged handover; ``app`` the Flask app.
    The return value is ignored.
    """
