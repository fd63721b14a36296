"""Attachments (PDF, JPEG, PNG) on a handover, sealed under the handover's data key.

The type is decided by the file's first bytes, never by its name or the browser's claim: a file
called ``report.pdf`` that is really an HTML page is refused. The file name may name the child,
so it is sealed too.
"""

import unicodedata
from typing import NamedTuple

from flask import current_app

from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    ContentErased,
    LifecycleError,
    commit_with_audit,
    hold_draft,
    open_json,
    seal_json,
)
from handover.services.policy import HandoverAccess
from handover.store.database import db
from handover.store.models import Attachment, Handover, User

#: Leading bytes of each accepted type, and the media type it is served as.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG", "image/png"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class AttachmentRejected(LifecycleError):
    pass


class Download(NamedTuple):
    """A file as a reader downloads it."""

    name: str | None
    media_type: str
    data: bytes


def media_type_of(data: bytes) -> str | None:
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    return None


ATTACH_ONLY_TO_DRAFTS = _l("Files can be attached only while the handover is a draft.")
REMOVE_ONLY_FROM_DRAFTS = _l("Files can be removed only while the handover is a draft.")


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or 10 * 1024 * 1024)


def add(access: HandoverAccess, user: User, filename: str | None, data: bytes) -> Attachment:
    """Attach a file to a draft. Raises `AttachmentRejected` with a message for the user."""
    handover = access.handover
    if not access.can("attach") or handover.status != "draft":
        raise AttachmentRejected(ATTACH_ONLY_TO_DRAFTS)
    if not data:
        raise AttachmentRejected(_l("The file is empty."))
    limit = max_bytes()
    if len(data) > limit:
        raise AttachmentRejected(
            f"The file is too large: at most {limit // (1024 * 1024) or 1} MB is allowed."
        )
    media_type = media_type_of(data)
    if media_type is None:
        raise AttachmentRejected(_l("Only PDF, JPEG and PNG files can be attached."))
    hold_draft(handover, AttachmentRejected(ATTACH_ONLY_TO_DRAFTS))
    attachment = Attachment(handover_id=handover.id, uploaded_by_id=user.id,
                            media_type=media_type, size=len(data))
    db.session.add(attachment)
    db.session.flush()
    name = _safe_name(filename, media_type)
    attachment.filename = seal_json(handover, name, crypto.Purpose.ATTACHMENT_NAME,
                                    record_id=attachment.id)
    key = crypto.ensure_data_key(handover)
    attachment.body = crypto.seal(key, data, handover_id=handover.id,
                                  form_key=handover.form_key,
                                  form_version=handover.form_version,
                                  purpose=crypto.Purpose.ATTACHMENT, record_id=attachment.id)
    commit_with_audit("handover.attachment_added", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id, detail={"attachment": attachment.id})
    return attachment


def remove(access: HandoverAccess, user: User, attachment_id: int) -> None:
    handover = access.handover
    attachment = _find(handover, attachment_id)
    if not access.can("attach") or handover.status != "draft":
        raise AttachmentRejected(REMOVE_ONLY_FROM_DRAFTS)
    hold_draft(handover, AttachmentRejected(REMOVE_ONLY_FROM_DRAFTS))
    db.session.delete(attachment)
    commit_with_audit("handover.attachment_removed", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id, detail={"attachment": attachment_id})


def name_of(handover: Handover, attachment: Attachment) -> str | None:
    """The file's name as shown and downloaded (`_visible`: also for a name stored before
    names were kept so)."""
    if attachment.filename is None or handover.wrapped_key is None:
        return None
    return _visible(str(open_json(handover, attachment.filename, crypto.Purpose.ATTACHMENT_NAME,
                                  record_id=attachment.id)))


def download(access: HandoverAccess, user: User, attachment_id: int) -> Download:
    """(file name, media type, bytes) for a reader; the download is audited."""
    handover = access.handover
    attachment = _find(handover, attachment_id)
    if attachment.body is None or handover.wrapped_key is None:
        raise ContentErased()
    key = crypto.handover_data_key(handover)
    data = crypto.open_sealed(key, attachment.body, handover_id=handover.id,
                              form_key=handover.form_key, form_version=handover.form_version,
                              purpose=crypto.Purpose.ATTACHMENT, record_id=attachment.id)
    name = name_of(handover, attachment)
    commit_with_audit("handover.attachment_downloaded", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id, detail={"attachment": attachment.id})
    return Download(name, attachment.media_type, data)


def _find(handover: Handover, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.handover_id != handover.id:
        raise LookupError(attachment_id)
    return attachment


def _safe_name(filename: str | None, media_type: str) -> str:
    """Keep the visible name but never a path; make the extension match the real type. Only
    characters a name shows are kept: no control characters, and no invisible formatting
    ones, whose right-to-left override made "\u202egpj.pdf" read as "fdp.jpg" on the page."""
    name = _visible(filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:150]
    name = name or "attachment"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem + EXTENSIONS[media_type]


def _visible(text: str) -> str:
    return "".join(character for character in text
                   if unicodedata.category(character) not in ("Cc", "Cf"))
