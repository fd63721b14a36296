"""Checking that every sealed value still opens (`check`, for `handover keys check`): each
handover's data key, content, summary, acknowledgement note, replies and attachments, every
user's two-factor secret (`check_secrets`) and every webhook endpoint's signing secret. The
check is audited.

Apart from `key_maintenance`, which changes keys (rotation, retirement), because this only
reads: it opens each value and changes no key or value (it writes only its audit event).
`key_maintenance` answers for these names too: callers import them from there.
"""

from typing import Any, NamedTuple

from sqlalchemy import Row, select

from handover.security import crypto, keys
from handover.services import sealed_secrets
from handover.store import audit
from handover.store.database import db
from handover.store.models import Attachment, Handover, Reply

#: The part reported when a handover's row could not be checked value by value.
UNREADABLE = "its sealed values (the row is unreadable)"


class CheckResult(NamedTuple):
    """What `check` found: how many handovers it opened, the parts that failed by handover
    id, the users whose two-factor secret and the webhook endpoints whose signing secret do
    not open."""

    checked: int
    failures: dict[int, list[str]]
    failed_secrets: list[int]
    #: Webhook endpoints whose signing secret does not open.
    failed_endpoints: list[int]


def check(*, batch_size: int = 100) -> CheckResult:
    """Open every sealed value; ``(checked, failures, failed_secrets)`` where failures maps
    handover id to the parts that failed ("data key", "content", "reply 7", ...) and
    failed_secrets lists the users whose two-factor secret does not open. Erased handovers are
    skipped."""
    keyring = keys.load_keyring()
    failures: dict[int, list[str]] = {}
    checked = 0
    last_id = 0
    while True:
        handovers = db.session.execute(
            select(Handover.id, Handover.status, Handover.form_key, Handover.form_version,
                   Handover.kek_id, Handover.wrapped_key, Handover.erased_at,
                   Handover.content, Handover.summary, Handover.acknowledgement_note)
            .where(Handover.id > last_id).order_by(Handover.id).limit(batch_size)
        ).all()
        if not handovers:
            break
        for handover in handovers:
            if handover.erased_at is not None and handover.wrapped_key is None:
                continue
            checked += 1
            try:
                failed = _check_handover(handover, keyring)
            except (TypeError, ValueError):
                # Whatever else an edited row breaks on the way: one bad row is reported
                # like a value that does not open, and the check goes on to the next one.
                failed = [UNREADABLE]
            if failed:
                failures[handover.id] = failed
        last_id = handovers[-1].id
    # Two-factor secrets are sealed under the KEKs too: a key problem locks people out.
    failed_secrets = check_secrets()
    failed_endpoints = sealed_secrets.failing(sealed_secrets.WEBHOOK, keyring)
    audit.record("keys.checked",
                 outcome="ok" if not (failures or failed_secrets or failed_endpoints)
                 else "failed",
                 detail={"checked": checked, "failed": len(failures),
                         "failed_secrets": len(failed_secrets),
                         "failed_endpoints": len(failed_endpoints)})
    db.session.commit()
    return CheckResult(checked, failures, failed_secrets, failed_endpoints)


def check_secrets() -> list[int]:
    """Open every user's TOTP secret; the ids of users whose secret does not open."""
    return sealed_secrets.failing(sealed_secrets.TOTP, keys.load_keyring())


def _check_handover(handover: Row[*tuple[Any, ...]], keyring: dict[str, Any]) -> list[str]:
    binding = {"handover_id": handover.id, "form_key": handover.form_key,
               "form_version": handover.form_version}
    stored: list[tuple[str, bytes | None, str, int | None]] = [
        ("content", handover.content,
         crypto.Purpose.DRAFT if handover.status == "draft" else crypto.Purpose.CONTENT, None),
        ("summary", handover.summary, crypto.Purpose.SUMMARY, None),
        ("acknowledgement note", handover.acknowledgement_note,
         crypto.Purpose.ACKNOWLEDGEMENT, None)]
    for reply_id, body in db.session.execute(
        select(Reply.id, Reply.body).where(Reply.handover_id == handover.id).order_by(Reply.id)
    ):
        stored.append((f"reply {reply_id}", body, crypto.Purpose.REPLY, reply_id))
    attachment_ids = db.session.scalars(
        select(Attachment.id).where(Attachment.handover_id == handover.id).order_by(Attachment.id)
    ).all()
    sealed = [(label, blob, purpose, record_id) for label, blob, purpose, record_id in stored
              if blob is not None]
    if handover.wrapped_key is None:
        # A draft that never got a key is fine; sealed values without a key are not.
        return ["data key"] if sealed or attachment_ids else []
    try:
        data_key = crypto.unwrap_data_key(handover.kek_id, handover.wrapped_key, handover.id,
                                          keyring=keyring)
    except (crypto.TamperedRecord, TypeError, ValueError):
        return ["data key"]
    failed = [label for label, blob, purpose, record_id in sealed
              if not _opens(data_key, blob, purpose=purpose, record_id=record_id, **binding)]
    # One attachment at a time: bodies may be megabytes each.
    for attachment_id in attachment_ids:
        filename, body = db.session.execute(
            select(Attachment.filename, Attachment.body).where(Attachment.id == attachment_id)
        ).one()
        for part, blob, purpose in (("name", filename, crypto.Purpose.ATTACHMENT_NAME),
                                    ("body", body, crypto.Purpose.ATTACHMENT)):
            if blob is not None and not _opens(data_key, blob, purpose=purpose,
                                               record_id=attachment_id, **binding):
                failed.append(f"attachment {attachment_id} {part}")
    return failed


def _opens(data_key: bytes, blob: bytes, **binding: object) -> bool:
    try:
        crypto.open_sealed(data_key, blob, **binding)
    except (crypto.TamperedRecord, TypeError, ValueError):
        # TypeError, ValueError: edited columns (an empty form key) that bind nothing.
        return False
    return True
