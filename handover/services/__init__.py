"""What a handover can go through: drafting, sending, reading, replying, withdrawal, erasure.

Each service function is a plain function that the web views, the CLI and a later JSON API all
call. Each does its state change and its audit event in ONE transaction (if the audit row cannot
be written, nothing happens), and calls the plugins' event hooks only after the commit.
"""

import logging
from typing import Any, TypedDict, Unpack, cast

from flask import current_app
from sqlalchemy import CursorResult, Result, bindparam, select, update

from handover.formdefs.model import FormDefinition
from handover.hookspecs import HandoverSummary, UnitSummary
from handover.i18n import lazy_gettext as _l
from handover.plugins import manager as plugin_manager
from handover.security import crypto
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, User

log = logging.getLogger("handover.services")


class LifecycleError(Exception):
    """An action the handover's state or the rules do not allow; the message is for the user."""


class NoLongerTheUnits(LifecycleError):
    """The receiving unit's action came after the handover was returned and routed to
    another unit: it is no longer this unit's to act on."""

    def __init__(self) -> None:
        super().__init__(_l("This handover changed meanwhile: it is no longer your unit's."))


class AlreadyAcknowledged(LifecycleError):
    pass


class NotWithdrawable(LifecycleError):
    pass


class AlreadySent(LifecycleError):
    pass


class ContentErased(LifecycleError):
    pass


class NotFound(LookupError):
    """The handover (or page) does not exist for this user: absent, or not theirs to see
    (`policy`)."""


def definition_of(handover_or_key: Any, version: int | None = None) -> FormDefinition:
    """The exact form definition a handover was written with (even if its plugin is now off).

    Raises `UnknownForm` when no loaded plugin registers it (its plugin failed or was removed):
    the handover is kept, and the web answers with a page saying so (`web.errors`)."""
    registry = plugin_manager.registry(current_app)
    if isinstance(handover_or_key, str):
        return registry.get(handover_or_key, version)
    return registry.get(handover_or_key.form_key, handover_or_key.form_version)


def fire_hook(name: str, **kwargs: Any) -> None:
    """Tell plugins that something happened; called after commit, never breaks the action.

    A ``handover`` or ``unit`` argument reaches plugins as a read-only summary (no content, no
    session), built only when some plugin listens."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        if plugin_manager.implemented(name, app):
            kwargs = _event_summaries(kwargs)
        plugin_manager.call_hook(name, app=app, **kwargs)
    except Exception:  # a plugin must not undo a committed handover
        log.exception("hook %s failed", name)


def _event_summaries(kwargs: dict[str, Any]) -> dict[str, Any]:
    handover, unit = kwargs.get("handover"), kwargs.get("unit")
    if handover is not None and not isinstance(handover, HandoverSummary):
        kwargs["handover"] = HandoverSummary(
            id=handover.id, form_key=handover.form_key, form_version=handover.form_version,
            status=handover.status, sender_unit_id=handover.sender_unit_id,
            receiver_unit_id=handover.receiver_unit_id,
            copy_unit_ids=tuple(copy.unit_id for copy in handover.copies),
            created_at=handover.created_at, sent_at=handover.sent_at,
            opened_at=handover.opened_at, acknowledged_at=handover.acknowledged_at,
            withdrawn_at=handover.withdrawn_at, due_at=handover.due_at)
    if unit is not None and not isinstance(unit, UnitSummary):
        kwargs["unit"] = UnitSummary(id=unit.id, kind=unit.kind, name=unit.name)
    return kwargs


class SealBinding(TypedDict):
    """What a sealed value is bound to: opening it under any other binding fails its check."""

    handover_id: int
    form_key: str
    form_version: int
    purpose: str
    record_id: int | None


class AuditFields(TypedDict, total=False):
    """The fields `commit_with_audit` passes on to `handover.store.audit.record`."""

    actor: User | None
    unit_id: int | None
    handover_id: int | None
    outcome: str
    detail: str | dict[str, Any]


def seal_params(handover: Handover, purpose: str, record_id: int | None = None) -> SealBinding:
    return {
        "handover_id": handover.id,
        "form_key": handover.form_key,
        "form_version": handover.form_version,
        "purpose": purpose,
        "record_id": record_id,
    }


def seal_json(handover: Handover, value: object, purpose: str,
              record_id: int | None = None) -> bytes:
    key = crypto.ensure_data_key(handover)
    return crypto.seal_json(key, value, **seal_params(handover, purpose, record_id))


def open_json(handover: Handover, blob: bytes | None, purpose: str,
              record_id: int | None = None) -> Any:
    """Decrypt one sealed value (any JSON value; None when ``blob`` is None); raises
    `crypto.TamperedRecord` if it fails its check."""
    if blob is None:
        return None
    if handover.wrapped_key is None:
        raise ContentErased()
    key = crypto.handover_data_key(handover)
    return crypto.open_json(key, blob, **seal_params(handover, purpose, record_id))


def record_integrity_failure(handover_id: int, actor: User | None = None,
                             part: str | None = None) -> None:
    """A sealed value failed to open: audit it in its own transaction (``part``: which one,
    when not the content, e.g. a list's "summary")."""
    db.session.rollback()
    audit.record("handover.integrity_failed", actor=actor, handover_id=handover_id,
                 outcome="failed", detail={"part": part} if part else "")
    db.session.commit()
    log.error("integrity check failed for handover %s", handover_id)


def commit_with_audit(action: str, **audit_fields: Unpack[AuditFields]) -> None:
    """Add the audit event to the pending change and commit both; roll back both on failure."""
    try:
        audit.record(action, **audit_fields)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def rows_changed(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows the UPDATE or DELETE that gave ``result`` changed. The session runs such a
    statement into a `CursorResult` (which has the count) but is typed to return its base
    class, `Result`."""
    return cast(CursorResult[*tuple[Any, ...]], result).rowcount


#: Writes nothing new, but takes the draft's row (PostgreSQL) or the database's write lock
#: (SQLite) until the commit, and only while the handover is still a draft.
_HOLD_DRAFT = (update(Handover)
               .where(Handover.id == bindparam("handover_id"), Handover.status == "draft")
               .values(updated_at=Handover.updated_at)
               .execution_options(synchronize_session=False))


def hold_draft(handover: Handover, refused: LifecycleError) -> None:
    """Begin a change of the draft ``handover`` (its content, routing, attachments, or its
    deletion) by holding its row; raise ``refused`` when it is no longer a draft, `NotFound`
    when it is gone.

    The status on the loaded object is what the request read earlier, and the change itself
    is an UPDATE or DELETE by id only: a colleague's send (or the sender's own, in another
    tab) committed in between would otherwise be overwritten by a background save, rerouted
    or deleted. Held, a send waits for this change's commit, and a change that comes after
    the send finds no draft. Rolls back before raising."""
    handover_id = handover.id
    if handover.status != "draft" or rows_changed(
            db.session.execute(_HOLD_DRAFT, {"handover_id": handover_id})) != 1:
        db.session.rollback()
        if db.session.execute(_STATUS, {"handover_id": handover_id}).first() is None:
            raise NotFound(handover_id)   # deleted meanwhile by a colleague
        raise refused


_STATUS = select(Handover.status).where(Handover.id == bindparam("handover_id"))


def commit_keeping_loaded() -> None:
    """Commit without expiring what this request has loaded (the reader, their memberships,
    the handovers on the page): a page that commits its audit events before rendering would
    otherwise reload each object with a query of its own. Callers set any column they changed
    with a bulk UPDATE themselves."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expire_on_commit
