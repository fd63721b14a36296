"""Sending a draft: the server re-checks everything the browser was shown, then seals it.

A send is idempotent per submission token (the hidden field of the preview page): a double click
or a retry after a timeout finds the handover the first request made instead of a second one.
The state change is one conditional UPDATE (``WHERE status = 'draft'``) so that two concurrent
sends of the same draft produce one handover.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value

from handover.formdefs import FormDefinition
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    AlreadySent,
    LifecycleError,
    commit_keeping_loaded,
    definition_of,
    deliveries,
    disclosures,
    drafts,
    fire_hook,
    notifications,
    prefill,
    retention,
    seal_json,
    webhooks,
)
from handover.services.policy import units_of
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, User
from handover.store.models.base import utcnow

#: Built once; the SET clause comes from the parameters, so sending compiles nothing new. The
#: table's columns, not the mapped attributes, keep it a plain UPDATE rather than an ORM bulk
#: one that the session matches against every object it holds (`send` sets the columns it
#: wrote on the loaded draft itself).
_HANDOVERS = Handover.__table__
_SEND_DRAFT = (update(_HANDOVERS)
               .where(_HANDOVERS.c.id == bindparam("draft_id"), _HANDOVERS.c.status == "draft"))
#: The same, taking the audit chain's lock and reading its head in the same round trip.
_SEND_DRAFT_AND_LOCK_CHAIN = audit.returning_chain_head(_SEND_DRAFT)


#: ``validate(definition, content)`` -> {field: [messages]}: a check that replaces the default.
Validator = Callable[[FormDefinition, dict[str, Any]], Mapping[str, list[str]]]


def summary_of(definition: FormDefinition, content: Mapping[str, Any]) -> dict[str, Any]:
    """The few fields the receiver's inbox shows (e.g. the child's name), never stored plain."""
    return {key: content.get(key) for key in definition.summary_fields if content.get(key)}


def identity_hash_of(definition: FormDefinition, content: Mapping[str, Any]) -> str | None:
    code = content.get(definition.identity_code_field) if definition.identity_code_field else None
    return crypto.identity_hash(code) if code else None


def send(user: User, handover: Handover, submission_token: str | None, *,
         validate: Validator | None = None, language: str | None = None,
         now: datetime | None = None) -> Handover:
    """Send ``handover`` (a draft). Returns the sent handover.

    ``validate(definition, content)`` -> {field: [messages]} replaces the default check (the
    form builder's field rules plus the plugins' `validate_form` rules, `drafts.validate_content`).
    """
    if handover.status != "draft":
        # The token is only ever shown on this draft's preview page: a repeat of the request
        # that sent it (double click, retry after a timeout) finds it on the handover itself.
        if submission_token and handover.submission_token == submission_token:
            return handover
        raise AlreadySent(_l("This handover has already been sent."))

    now = now or utcnow()
    definition = definition_of(handover)
    copy_unit_ids = [copy.unit_id for copy in handover.copies]
    units = units_of(handover)
    sender_unit = units.get(handover.sender_unit_id)
    receiver_unit = (units.get(handover.receiver_unit_id)
                     if handover.receiver_unit_id is not None else None)
    copy_units = [units.get(unit_id) for unit_id in copy_unit_ids]
    prefill.require_confirmed(handover)
    route = drafts.check_routing(user, sender_unit, handover.form_key, receiver_unit,
                                 copy_units, handover.legal_basis or "",
                                 version=handover.form_version)
    if not handover.legal_basis:
        raise LifecycleError(_l("Choose the legal basis of the disclosure."))

    content = drafts.content_of(handover)
    if validate is None:
        errors = drafts.validate_content(definition, content, route.sender.kind,
                                         language or drafts.default_language())
    else:
        errors = dict(validate(definition, content))
    if errors:
        raise drafts.ValidationFailed(errors)

    sealed_content = seal_json(handover, content, crypto.Purpose.CONTENT)
    sealed_summary = seal_json(handover, summary_of(definition, content), crypto.Purpose.SUMMARY)
    hours = getattr(definition, "acknowledge_within_hours", None) or 24
    sent = {
        "status": "sent",
        "submission_token": submission_token or None,
        "content": sealed_content,
        "summary": sealed_summary,
        "identity_hash": identity_hash_of(definition, content),
        "sent_by_id": user.id,
        "sent_at": now,
        "updated_at": now,
        "due_at": now + timedelta(hours=hours),
        "send_by_at": None,   # a sent handover is not late: its deadline was the draft's
    }
    sent.update(retention.columns_after(handover, now, sent))
    # The arrival notices join the send's transaction (looked up before the chain's lock).
    arrival_notices = notifications.record_arrival(
        handover, [handover.receiver_unit_id, *copy_unit_ids], now)
    arrival_notices += webhooks.record("arrived", handover, now=now,
                                       receiving=[handover.receiver_unit_id, *copy_unit_ids])
    statement = _SEND_DRAFT_AND_LOCK_CHAIN if audit.returns_chain_head() else _SEND_DRAFT
    if audit.changed_rows(db.session.execute(statement, {**sent, "draft_id": handover.id})) != 1:
        db.session.rollback()
        db.session.refresh(handover)
        if submission_token and handover.submission_token == submission_token:
            return handover
        raise AlreadySent(_l("This handover has already been sent."))
    disclosures.record_sent(handover, definition, content, user.id, units, now)
    audit.record("handover.sent", actor=user, unit_id=route.sender.id, handover_id=handover.id)
    commit_keeping_loaded()
    for column, value in sent.items():   # what the UPDATE wrote, without reading it back
        set_committed_value(handover, column, value)

    deliveries.dispatch(arrival_notices)
    fire_hook("handover_sent", handover=handover)
    return handover
