"""The per-action rules of the access policy: what a role may ever do with a handover through its
unit's relation to it (`CAPABILITIES`), and which of those the handover's status leaves open now
(`actions_now`). Given the user and the handover already read, `evaluate` answers both as one
`HandoverAccess`.

Nothing here reads a handover or refuses anyone: `policy.require` does both, and is what callers
ask (this module's names are answered through `policy` too).
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from handover.store.database import db
from handover.store.models import Handover, User

#: The relations a unit can have to a handover.
SENDING, RECEIVING, COPY = "sending", "receiving", "copy"

#: What each role may ever do, per relation. Drafts are visible to the sending unit's senders
#: only. Only the receiving unit answers with the form's reply forms.
CAPABILITIES = {
    SENDING: {
        "sender": {"read", "edit_draft", "send", "withdraw", "correct", "reply", "attach",
                   "reroute", "update"},
        "lead": {"read"},
    },
    RECEIVING: {
        "receiver": {"read", "acknowledge", "reply", "reply_form", "close", "return"},
        "lead": {"read", "acknowledge", "reply", "reply_form", "close", "return"},
    },
    COPY: {
        "receiver": {"read"},
        "lead": {"read"},
    },
}

#: Every action on one handover, and the capability it needs. ``download`` is fetching an
#: attachment; ``print`` the print view; ``routing`` changing a draft's receivers; ``close``
#: the receiving unit ending the thread; ``return`` sending it back to the sender (wrong unit),
#: who may ``reroute`` it to another unit; ``update`` a sender telling earlier receivers of a
#: change in the placement.
ACTIONS = {
    "view": "read", "print": "read", "download": "read",
    "edit": "edit_draft", "preview": "edit_draft", "discard": "edit_draft",
    "routing": "edit_draft", "send": "send", "attach": "attach",
    "acknowledge": "acknowledge", "reply": "reply", "reply_form": "reply_form",
    "withdraw": "withdraw", "correct": "correct",
    "close": "close", "return": "return", "reroute": "reroute", "update": "update",
}
#: Capability names the services and older callers ask with, as actions.
ALIASES = {"read": "view", "edit_draft": "edit"}
#: The actions on a draft: writing it, routing it and sending it. Asked of a handover already
#: sent they come too late; asked of a draft that is gone they may be a repeated "delete".
DRAFT_ACTIONS = ("edit", "preview", "discard", "routing", "send", "attach")
#: What the status leaves open on a draft: reading it and its attachments, and the draft actions.
_OPEN_ON_A_DRAFT = ("view", "download", *DRAFT_ACTIONS)


@dataclass(frozen=True)
class HandoverAccess:
    """What ``user`` may do with ``handover`` and through which of their units.

    ``capabilities`` are what their role allows at all (services check these); ``actions`` are
    the `ACTIONS` allowed now, in the handover's present status (views and templates ask these).
    """

    handover: Handover
    relation: str | None = None
    unit_id: int | None = None
    capabilities: frozenset = frozenset()
    actions: frozenset = frozenset()

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def allows(self, action: str) -> bool:
        return ALIASES.get(action, action) in self.actions

    @property
    def as_copy(self) -> bool:
        return self.relation == COPY


def relations(user: User | None, handover: Handover) -> list[tuple[str, int, set[str]]]:
    """Every (relation, unit_id, roles) by which ``user`` is connected to ``handover``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if user.is_admin or user.is_auditor or getattr(user, "admin_awaiting_confirmation", False):
        return []  # never content, even through a membership left from before the rule
    found = []
    copy_units = {copy.unit_id for copy in handover.copies}
    for unit_id in {m.unit_id for m in user.memberships}:
        roles = user.roles_in(unit_id)
        if unit_id == handover.sender_unit_id:
            found.append((SENDING, unit_id, roles))
        if handover.status != "draft":
            if unit_id == handover.receiver_unit_id:
                found.append((RECEIVING, unit_id, roles))
            if unit_id in copy_units:
                found.append((COPY, unit_id, roles))
    return found


def evaluate(user: User | None, handover: Handover) -> HandoverAccess:
    """The richest access the user has; a receiving relation wins over a copy."""
    order = {RECEIVING: 0, SENDING: 1, COPY: 2}
    relation = unit_id = None
    granted: set[str] = set()
    for kind, unit, roles in sorted(relations(user, handover), key=lambda r: order[r[0]]):
        found = set().union(*(CAPABILITIES[kind].get(role, set()) for role in roles))
        if handover.status == "draft" and "edit_draft" not in found:
            found = set()  # a draft is the senders' work in progress, not yet a handover
        if found and relation is None:
            relation, unit_id = kind, unit
        granted |= found
    return HandoverAccess(handover, relation, unit_id, frozenset(granted),
                          frozenset(actions_now(handover, relation, granted)))


def actions_now(handover: Handover, relation: str | None,
                capabilities: Collection[str]) -> set[str]:
    """The actions the status of ``handover`` leaves open to someone with ``capabilities``."""
    can = capabilities.__contains__
    if handover.status == "draft":
        return {action for action, needs in ACTIONS.items()
                if can(needs) and action in _OPEN_ON_A_DRAFT}
    open_now = {"view", "print"} if can("read") else set()
    erased = handover.erased_at is not None
    withdrawn = handover.status == "withdrawn"
    if erased:
        return open_now
    if handover.status == "returned":
        # Back with the sender, who routes it to another unit or withdraws it; the unit that
        # returned it is no longer its receiver (`services.returning`).
        if can("read") and relation == SENDING:
            open_now |= {"download"} | {a for a in ("reroute", "withdraw") if can(a)}
        return open_now
    # Attachments are not part of the minimum a copy receives; a withdrawn handover's files
    # stay with the sending unit.
    if can("read") and relation != COPY and (not withdrawn or relation == SENDING):
        open_now.add("download")
    if can("acknowledge") and handover.status in ("sent", "opened"):
        open_now.add("acknowledge")
    closed = handover.closed_at is not None
    if not withdrawn and not closed:
        open_now |= {action for action in ("reply", "reply_form") if can(action)}
    if can("close") and handover.status == "acknowledged" and not closed:
        open_now.add("close")
    if can("return") and handover.status in ("sent", "opened"):
        open_now.add("return")
    if _update_possible(handover, can) and handover.identity_hash:
        open_now.add("update")
    if can("withdraw") and handover.status == "sent" and handover.opened_at is None:
        open_now.add("withdraw")
    if can("correct") and not _replaced(handover):
        open_now.add("correct")
    return open_now


def _update_possible(handover: Handover, can: Any) -> bool:
    """An update is sent from a handover (never from another update or a withdrawn one) and
    finds the units to tell by the child's identity code (`update_needs_identity_code`)."""
    return bool(can("update") and handover.status not in ("draft", "withdrawn", "returned")
                and handover.erased_at is None and not handover.update_of_id)


def update_needs_identity_code(access: HandoverAccess) -> bool:
    """Whether the sender could send a placement update from this handover but for the child's
    identity code, which it was sent without: an update reaches the units that received the
    child's handovers by that code, and the update form asks for it."""
    handover = access.handover
    return (access.relation == SENDING and not handover.identity_hash
            and _update_possible(handover, access.can))


#: The sent correction (not a draft, not withdrawn) that replaces a handover, newest first.
_NEWER_VERSION = (select(Handover.id)
                  .where(Handover.replaces_id == bindparam("handover_id"),
                         Handover.status.not_in(("draft", "withdrawn")))
                  .order_by(Handover.id.desc()).limit(1))


def _replaced(handover: Handover) -> bool:
    """Whether a sent correction replaces ``handover``: correcting it again would start from
    outdated content. Known only when its correction count was read with it (`require` reads
    it for "correct"); a count of none costs no query. Unknown counts as not replaced: the
    correction itself checks again (`services.withdrawal.correct`)."""
    count = handover.__dict__.get("correction_count")
    return bool(count) and newer_version(handover.id) is not None


def newer_version(handover_id: int) -> int | None:
    """The id of the newest sent correction of the handover ``handover_id``, following the
    corrections of corrections to the latest version; None when nothing replaces it."""
    newest = None
    for _ in range(100):   # a chain of corrections, never a cycle: bounded all the same
        found = db.session.execute(_NEWER_VERSION, {"handover_id": handover_id}).scalar()
        if found is None:
            return newest
        newest = handover_id = found
    return newest
