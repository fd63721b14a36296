"""Taking a handover back before anyone read it, and correcting one by a new version.

A correction never edits what was sent: readers may already have acted on it. It is a new
draft carrying the old content and routing, linked by ``replaces_id``.
"""

from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, update

from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    ContentErased,
    LifecycleError,
    NotWithdrawable,
    commit_with_audit,
    deliveries,
    open_json,
    retention,
    returning,
    rows_changed,
    seal_json,
    webhooks,
)
from handover.services.policy import HandoverAccess, may_start, newer_version
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, HandoverCopy, User
from handover.store.models.base import utcnow

#: Why a sender takes a handover back, as its receivers are told: a choice, never free text,
#: so that it says nothing about the child. The key is kept with the handover and its audit
#: event.
WITHDRAWAL_REASONS = {
    "wrong_unit": _l("It was sent to the wrong unit."),
    "wrong_child": _l("It concerns another child."),
    "corrected": _l("Something in it was wrong: a corrected handover follows."),
    "not_needed": _l("It is no longer needed."),
}


def reason_label(key: str | None) -> str | None:
    """The words for a withdrawal's reason; None when none was given (before reasons were
    asked, or a key no longer known)."""
    label = WITHDRAWAL_REASONS.get(key or "")
    return str(label) if label is not None else None


class AlreadyWithdrawn(NotWithdrawable):
    """A repeated withdrawal (a double click): the handover is withdrawn, as asked."""


class AlreadyCorrected(LifecycleError):
    """A sent correction replaces the handover: a correction must start from the newest
    version (``newer_id``), or outdated content would be sent again."""

    def __init__(self, newer_id: int) -> None:
        super().__init__(_l("This handover has already been corrected: its newer version is "
                            "#%(id)s. Correct that one if something still needs changing.",
                            id=newer_id))
        self.newer_id = newer_id


def withdraw(access: HandoverAccess, user: User, *, reason: str | None = None,
             now: datetime | None = None) -> Handover:
    """Withdraw a sent handover that the receiving unit has not opened yet, or one its
    receiver returned (`services.returning`), for ``reason`` (a key of `WITHDRAWAL_REASONS`;
    None says none was given)."""
    handover = access.handover
    if not access.can("withdraw"):
        raise LifecycleError(_l("Only a sender of the sending unit can withdraw this handover."))
    if reason is not None and reason not in WITHDRAWAL_REASONS:
        raise LifecycleError(_l("Choose why the handover is withdrawn."))
    now = now or utcnow()
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.erased_at.is_(None),
               or_(and_(Handover.status == "sent", Handover.opened_at.is_(None)),
                   Handover.status == "returned"))
        .values(**retention.columns_after(handover, now, activity=False, status="withdrawn",
                                          withdrawn_at=now, updated_at=now,
                                          withdrawal_reason=reason))
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        db.session.rollback()
        db.session.refresh(handover)
        if handover.status == "withdrawn":   # the same post, at the same moment, did it
            raise AlreadyWithdrawn(_l("This handover has already been withdrawn."))
        raise NotWithdrawable(
            "This handover can no longer be withdrawn: it has been opened or is not sent."
        )
    returning.resolve_withdrawn(handover.id, now)
    # The integrations of its units hear of it in the same transaction (services/webhooks).
    hooks = webhooks.record("withdrawn", handover, now=now)
    commit_with_audit("handover.withdrawn", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id, detail={"reason": reason} if reason else "")
    deliveries.dispatch(hooks)
    db.session.refresh(handover)
    return handover


def correct(access: HandoverAccess, user: User) -> Handover:
    """A new draft with the old handover's content and routing, linked to it; or the draft
    that already corrects it, so that "Correct" pressed twice (a double click, a re-post) leads
    to one correction, not two that both replace the same handover. A handover that a sent
    correction already replaces is refused (`AlreadyCorrected`): its content is outdated."""
    old = access.handover
    if not access.can("correct") or not may_start(user, old.sender_unit_id):
        raise LifecycleError(_l("Only a sender of the sending unit can correct this handover."))
    if old.status == "draft":
        raise LifecycleError(_l("A draft is corrected by editing it."))
    if old.erased_at is not None or old.wrapped_key is None:
        raise ContentErased()
    started = _correction_started(old)
    if started is not None:
        return started
    content = open_json(old, old.content, crypto.Purpose.CONTENT) or {}
    new = Handover(
        form_key=old.form_key,
        form_version=old.form_version,
        status="draft",
        sender_unit_id=old.sender_unit_id,
        receiver_unit_id=old.receiver_unit_id,
        created_by_id=user.id,
        legal_basis=old.legal_basis,
        replaces_id=old.id,
        # The same child: its access report finds the correction's events from the start.
        identity_hash=old.identity_hash,
    )
    db.session.add(new)
    db.session.flush()
    for copy in old.copies:
        new.copies.append(HandoverCopy(unit_id=copy.unit_id))
    new.content = seal_json(new, content, crypto.Purpose.DRAFT)
    new.updated_at = utcnow()
    retention.keep_current(new)
    # On the new draft that it started, and on the old handover that its content was read
    # and copied into the correction: the log filtered by the old one, and its child's
    # access report, show the copy. One statement, one commit.
    try:
        audit.record_all([
            ("handover.correction_started", new.id, {"replaces": old.id}),
            ("handover.copied_to_correction", old.id, {"into": new.id}),
        ], actor=user, unit_id=old.sender_unit_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return new


#: Writes nothing new, but takes the old handover's row (PostgreSQL) or the database's write
#: lock (SQLite) until the commit: a second press waits for the first to finish, then finds
#: its draft, instead of both finding none.
_HOLD_HANDOVER = (update(Handover).where(Handover.id == bindparam("handover_id"))
                  .values(updated_at=Handover.updated_at)
                  .execution_options(synchronize_session=False))
_ERASED_AT = select(Handover.erased_at).where(Handover.id == bindparam("handover_id"))
_CORRECTION_DRAFT = (select(Handover).where(Handover.replaces_id == bindparam("handover_id"),
                                            Handover.status == "draft")
                     .order_by(Handover.id).limit(1))


def _correction_started(old: Handover) -> Handover | None:
    """The draft already correcting ``old``, if a sender of its unit has started one; refused
    when a sent correction replaces ``old`` (read under the same hold as the draft)."""
    db.session.execute(_HOLD_HANDOVER, {"handover_id": old.id})
    if db.session.execute(_ERASED_AT, {"handover_id": old.id}).scalar() is not None:
        db.session.rollback()   # erased by the retention rule since the page loaded it
        raise ContentErased()
    newer = newer_version(old.id)
    if newer is not None:
        db.session.rollback()
        raise AlreadyCorrected(newer)
    started = db.session.execute(_CORRECTION_DRAFT, {"handover_id": old.id}).scalar()
    if started is not None:
        db.session.commit()
    return started
