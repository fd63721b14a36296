"""The receiving unit marks a handover closed: the thread has done its work (for a ward, the
child has been discharged and the discharge summary sent).

Closing ends the thread (no more replies) and starts the form's period after closing
(``retention.after_closing_days``), after which `handover purge` erases the content. Until then
an active thread keeps its content however long the stay lasts (`services.retention`).
"""

from datetime import datetime

from sqlalchemy import update

from handover.i18n import lazy_gettext as _l
from handover.services import LifecycleError, commit_with_audit, retention, rows_changed
from handover.services.policy import HandoverAccess
from handover.store.database import db
from handover.store.models import Handover, User
from handover.store.models.base import utcnow


def close(access: HandoverAccess, user: User, *, now: datetime | None = None) -> Handover:
    """Mark ``access.handover`` closed on behalf of the receiving unit; one transaction."""
    handover = access.handover
    if not access.allows("close"):
        raise LifecycleError(_l("Only an acknowledged handover that is still open can be "
                                "closed."))
    now = now or utcnow()
    values = retention.columns_after(handover, now, activity=False, closed_at=now,
                                     updated_at=now)
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status == "acknowledged",
               Handover.closed_at.is_(None), Handover.erased_at.is_(None))
        .values(**values).execution_options(synchronize_session=False))
    if rows_changed(result) != 1:
        db.session.rollback()
        raise LifecycleError(_l("Only an acknowledged handover that is still open can be "
                                "closed."))
    commit_with_audit("handover.closed", actor=user, unit_id=access.unit_id,
                      handover_id=handover.id)
    db.session.refresh(handover)
    return handover
