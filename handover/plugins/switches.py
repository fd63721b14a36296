"""The instance's plugin switches, kept in the database so that every worker agrees.

An admin switches a plugin off and on (``plugins.disabled`` / ``plugins.enabled`` audit events);
a hook that fails at run time switches its plugin off the same way, with a ``plugins.failed``
event that carries the reason, so every worker stops calling it and the Plugins page says why.
Switching it on again is the admin's decision, after the plugin is fixed.
"""

import json
import logging
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import select

from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, PluginSetting
from handover.store.models.base import utcnow

logger = logging.getLogger("handover.plugins")

SWITCH_ACTIONS = ("plugins.enabled", "plugins.disabled", "plugins.failed")
_SWITCHED_OFF = select(PluginSetting.name).where(PluginSetting.enabled.is_(False))


def disabled_in_database() -> set[str]:
    """Names switched off for this instance. Asked once per request (a send consults the
    registry several times); `write_switch` forgets the answer. Outside a request it is asked
    every time."""
    current = request._get_current_object() if has_request_context() else None  # type: ignore[attr-defined]
    cached = g.get("_disabled_plugins") if current is not None else None
    if cached is not None and cached[0] is current:
        return set(cached[1])
    names = set(db.session.execute(_SWITCHED_OFF).scalars())
    if current is not None:
        g._disabled_plugins = (current, frozenset(names))
    return names


def write_switch(name: str, enabled: bool, action: str, actor: Any = None,
                 detail: dict[str, str] | None = None) -> None:
    """Set plugin ``name`` on or off with its audit event, in the current transaction."""
    setting = db.session.get(PluginSetting, name)
    if setting is None:
        setting = PluginSetting(name=name)
        db.session.add(setting)
    setting.enabled = bool(enabled)
    setting.changed_at = utcnow()
    if has_request_context():
        g.pop("_disabled_plugins", None)
    audit.record(action, actor=actor, outcome="failed" if action == "plugins.failed" else "ok",
                 detail={"plugin": name, **(detail or {})})


def switch(name: str, enabled: bool, actor: Any = None) -> None:
    """The admin's switch: on or off, audited, committed."""
    write_switch(name, enabled, "plugins.enabled" if enabled else "plugins.disabled", actor)
    db.session.commit()


def record_runtime_failures(failures: dict[str, str]) -> bool:
    """Write run-time failures (``{name: reason}``) in a transaction of their own; True when
    written. Called as the app context ends, when the request's own work is finished: what it
    left uncommitted is rolled back as it would have been anyway."""
    if not failures:
        return True
    try:
        db.session.rollback()
        for name, reason in failures.items():
            write_switch(name, False, "plugins.failed", detail={"reason": reason})
        db.session.commit()
    except Exception:  # the database is unreachable: this worker keeps it off meanwhile
        db.session.rollback()
        logger.exception("could not record the failure of plugins %s", ", ".join(failures))
        return False
    return True


def failure_reasons() -> dict[str, str]:
    """{plugin name: reason} of plugins whose latest switch was a run-time failure."""
    latest: dict[str, tuple[str, str]] = {}
    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.action.in_(SWITCH_ACTIONS)).order_by(AuditEvent.id))
    for action, detail in events:
        fields = _detail(detail)
        if isinstance(fields.get("plugin"), str):
            latest[fields["plugin"]] = (action, str(fields.get("reason", "")))
    return {name: reason for name, (action, reason) in latest.items()
            if action == "plugins.failed"}


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
