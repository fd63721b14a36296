"""What the access policy tells someone whose action on a handover it refuses, when the refusal is
news they may have: the status no longer allows what their role does (`WrongState`, with the
words for each action), their relation or role never allows what they can see (`not_permitted`,
saying who does it), or the draft they asked for was deleted by their own unit
(`DraftDiscarded`). Everyone else is told the handover does not exist (`NotFound`, raised by
`policy.deny`).

`policy.require` raises these; callers catch them as ``policy.WrongState`` and
``policy.DraftDiscarded``.
"""

from typing import Any

from handover.i18n import format_date
from handover.i18n import lazy_gettext as _l
from handover.services import LifecycleError, NotFound
from handover.services.policy_actions import (
    ACTIONS,
    CAPABILITIES,
    DRAFT_ACTIONS,
    RECEIVING,
    newer_version,
)
from handover.store.models import Handover


class WrongState(LifecycleError):
    """The user may do this to the handover, but not in its present status. The message is for
    the user; ``handover_id`` lets the web layer lead them back to the handover's own page.
    ``done`` says the action had already been done (a repeated post), so the answer is news,
    not a refusal; ``newer_id`` names the sent correction that replaced the handover."""

    def __init__(self, message: object, handover_id: int, action: str, *, done: bool = False,
                 newer_id: int | None = None) -> None:
        super().__init__(message)
        self.handover_id, self.action = handover_id, action
        self.done, self.newer_id = done, newer_id


class DraftDiscarded(NotFound):
    """The draft is gone because a sender of the user's own unit deleted it (a repeated
    "delete" post): nothing the user may not know, so the web layer can say so."""


def refusal(handover: Handover, action: str) -> WrongState:
    """The `WrongState` for ``action`` on ``handover``: what to tell the user, whether the
    action had already been done, and the newer version of a corrected handover."""
    if action == "withdraw" and handover.status == "withdrawn":
        return WrongState(_l("This handover has already been withdrawn."), handover.id, action,
                          done=True)
    if action == "acknowledge" and handover.status == "acknowledged":
        return WrongState(_why_not(handover, action), handover.id, action, done=True)
    if action == "correct" and handover.status not in ("draft", "returned"):
        newer = newer_version(handover.id)
        if newer is not None:
            return WrongState(_l("This handover has already been corrected: its newer version "
                                 "is #%(id)s. Correct that one if something still needs "
                                 "changing.", id=newer), handover.id, action, newer_id=newer)
    return WrongState(_why_not(handover, action), handover.id, action)


def not_permitted(access: Any, action: str) -> WrongState:
    """The `WrongState` for someone who may read the handover but whose unit's relation to it
    or role in that unit never allows ``action``: they see the handover, so it is not denied
    as missing; they are told who does this instead."""
    needed = ACTIONS[action]
    if any(needed in allowed for allowed in CAPABILITIES[access.relation].values()):
        message = _l("Your role in your unit does not allow this for this handover.")
    elif access.as_copy and needed in _ANY_RECEIVER_CAN:
        message = _l("Your unit has a copy of this handover for information. The receiving "
                     "unit acknowledges it, answers it and closes it.")
    elif needed in _ANY_RECEIVER_CAN:
        message = _l("The receiving unit does this, not the sending unit.")
    else:
        message = _l("The sending unit does this, not your unit.")
    return WrongState(message, access.handover.id, action)


_ANY_RECEIVER_CAN = set().union(*CAPABILITIES[RECEIVING].values())


def _why_not(handover: Handover, action: str) -> Any:
    """What to tell someone whose action the status no longer allows."""
    if handover.status == "draft":
        return _l("This handover has not been sent yet.")
    if action in DRAFT_ACTIONS:
        return _l("This handover has already been sent.")
    if action == "acknowledge" and handover.status == "acknowledged":
        return _l("This handover has already been acknowledged.")
    if action == "acknowledge":
        return _l("This handover can no longer be acknowledged.")
    if action == "withdraw" and handover.erased_at is not None:
        return _l("This handover can no longer be withdrawn: its content was erased under the "
                  "retention rule.")
    if action == "withdraw" and handover.status in ("opened", "acknowledged"):
        return _l("This handover can no longer be withdrawn: it has been opened.")
    if action == "withdraw":
        return _l("This handover can no longer be withdrawn.")
    if action == "correct":
        return _l("This handover cannot be corrected.")
    if action in ("reply", "reply_form") and handover.closed_at is not None:
        return _l("The receiving unit closed this handover on %(date)s: its thread has ended "
                  "and no more replies can be written.",
                  date=format_date(handover.closed_at, "short"))
    if action in ("reply", "reply_form"):
        return _l("This handover cannot be replied to.")
    if action == "close":
        return _l("Only an acknowledged handover that is still open can be closed.")
    if action == "return":
        return _l("Only a handover not yet acknowledged can be returned.")
    if action == "reroute":
        return _l("Only a returned handover can be routed to another unit.")
    if action == "update" and handover.update_of_id:
        return _l("An update is sent from the original handover, not from another update.")
    if action == "update" and handover.status in ("sent", "opened", "acknowledged") \
            and handover.erased_at is None and not handover.identity_hash:
        return IDENTITY_CODE_NEEDED
    if action == "update":
        return _l("No update can be sent from this handover: it was withdrawn, returned or "
                  "its content was erased.")
    return _l("This is no longer possible for this handover.")


#: Why a handover sent without the child's identity code has no placement update.
IDENTITY_CODE_NEEDED = _l(
    "A placement update cannot be sent from this handover, because it was sent without the "
    "child's personal identity code. The update finds every unit that received a handover of "
    "this child by that code, and the update form asks for it. Write about the change under "
    "Replies instead, or correct the handover and add the code.")
