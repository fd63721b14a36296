"""Sending a draft: the server re-checks everything the browser was shown, then seals it.

A send is idempotent per submission token (the hidden field of the preview page): a double click
or a retry after a timeout finds the handover the first request made instead of a second one.
The state change is one conditional UPDATE (``WHERE status = 'draft'``) so that two concurrent
sends of the same draft produce one handover.
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from handover import crypto
from handover.extensions import db
from handover.lifecycle import (
    AlreadySent,
    LifecycleError,
    commit_with_audit,
    definition_of,
    drafts,
    fire_hook,
    seal_json,
)
from handover.models import Handover, Unit
from handover.models.base import utcnow


def summary_of(definition, content):
    """The few fields the receiver's inbox shows (e.g. the child's name), never stored plain."""
    return {key: content.get(key) for key in definition.summary_fields if content.get(key)}


def identity_hash_of(definition, content):
    code = content.get(definition.identity_code_field) if definition.identity_code_field else None
    return crypto.identity_hash(code) if code else None


def send(user, handover, submission_token, *, validate=None, language=None, now=None):
    """Send ``handover`` (a draft). Returns the sent handover.

    ``validate(definition, content)`` -> {field: [messages]} replaces the default check (the
    form builder's field rules plus the plugins' `validate_form` rules, `drafts.validate_content`).
    """
    if submission_token:
        earlier = db.session.execute(
            select(Handover).where(Handover.submission_token == submission_token)
        ).scalar_one_or_none()
        if earlier is not None and earlier.status != "draft":
            return earlier
    if handover.status != "draft":
        raise AlreadySent(_l("This handover has already been sent."))

    now = now or utcnow()
    definition = definition_of(handover)
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    receiver_unit = db.session.get(Unit, handover.receiver_unit_id)
    copy_units = [db.session.get(Unit, copy.unit_id) for copy in handover.copies]
    drafts.check_routing(user, sender_unit, handover.form_key, receiver_unit, copy_units,
                         handover.legal_basis or "")
    if not handover.legal_basis:
        raise LifecycleError(_l("Choose the legal basis of the disclosure."))

    content = drafts.content_of(handover)
    if validate is None:
        errors = drafts.validate_content(definition, content, sender_unit.kind,
                                         language or drafts.default_language())
    else:
        errors = dict(validate(definition, content))
    if errors:
        raise drafts.ValidationFailed(errors)

    sealed_content = seal_json(handover, content, crypto.Purpose.CONTENT)
    sealed_summary = seal_json(handover, summary_of(definition, content), crypto.Purpose.SUMMARY)
    hours = getattr(definition, "acknowledge_within_hours", None) or 24
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status == "draft")
        .values(
            status="sent",
            submission_token=submission_token or None,
            content=sealed_content,
            summary=sealed_summary,
            identity_hash=identity_hash_of(definition, content),
            sent_by_id=user.id,
            sent_at=now,
            updated_at=now,
            due_at=now + timedelta(hours=hours),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(handover)
        if submission_token and handover.submission_token == submission_token:
            return handover
        raise AlreadySent(_l("This handover has already been sent."))
    commit_with_audit("handover.sent", actor=user, unit_id=sender_unit.id,
                      handover_id=handover.id)
    db.session.refresh(handover)

    from handover.lifecycle import notifications

    notifications.notify_arrival(handover)
    fire_hook("handover_sent", handover=handover)
    return handover
