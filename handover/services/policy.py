"""The one access policy: what may this user do with this handover now, and who may manage what.

A person reaches a handover only through a unit they are a member of: the sending unit, the
receiving unit or a unit the routing gave a copy. Their role in that unit says what they may ever
do (`CAPABILITIES`); the handover's status says which of those they may do now (`HandoverAccess.
actions`). Views ask `require` before acting and templates ask ``granted.allows(action)`` before
offering a button: nothing else decides again.

Everyone else — administrators and auditors included — is told the handover does not exist:
`require` audits the attempt and raises `NotFound`. A permitted action the status no longer
allows raises `WrongState`. The web layer turns both into answers (404, or back to the
handover's page with the message) in one error handler; nothing here knows HTTP.

Who may manage units and users (administrators; unit leads for their own units), and which units
a person works through, are decided in `policy_people` and answered here too (`policy.is_admin`,
`policy.inbox_unit_ids`, ...): callers ask this one module.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, undefer_group

from handover.i18n import lazy_gettext as _l
from handover.services import LifecycleError, NotFound
from handover.services.accounts import units_by_id
from handover.services.policy_people import (  # noqa: F401  (the people half, asked through here)
    INBOX_ROLES,
    OUTBOX_ROLES,
    SENDING_ROLES,
    draft_unit_ids,
    inbox_unit_ids,
    is_admin,
    is_auditor,
    led_units,
    may_start,
    member_units,
    outbox_unit_ids,
    require_admin,
    require_led_unit,
    require_membership_in,
    require_person,
    require_start,
    sending_units,
    system_accounts_with_memberships,
    works_in_units,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, HandoverCopy, Unit, User

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


#: Access depends on the copies: read them in the same round trip as the handover.
_WITH_COPIES = (joinedload(Handover.copies),)
_WITH_UNITS = (joinedload(Handover.copies).joinedload(HandoverCopy.unit),
               joinedload(Handover.sender_unit), joinedload(Handover.receiver_unit))
_WITH_COUNTS = (undefer_group("related_counts"),)
#: The four ways `require` reads a handover, built once: a request builds no statement and
#: generates no cache key for its loader options.
_HANDOVER_BY_ID = {
    (units, counts): select(Handover)
    .options(*(_WITH_UNITS if units else _WITH_COPIES), *(_WITH_COUNTS if counts else ()))
    .where(Handover.id == bindparam("handover_id"))
    for units in (False, True) for counts in (False, True)
}


def relations(user: User | None, handover: Handover) -> list[tuple[str, int, set[str]]]:
    """Every (relation, unit_id, roles) by which ``user`` is connected to ``handover``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if user.is_admin or user.is_auditor:
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
                if can(needs) and action in ("view", "download", "edit", "preview", "discard",
                                              "routing", "send", "attach")}
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


def _refusal(handover: Handover, action: str) -> WrongState:
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


def _why_not(handover: Handover, action: str) -> Any:
    """What to tell someone whose action the status no longer allows."""
    if handover.status == "draft":
        return _l("This handover has not been sent yet.")
    if action in ("edit", "preview", "discard", "routing", "send", "attach"):
        return _l("This handover has already been sent.")
    if action == "acknowledge" and handover.status == "acknowledged":
        return _l("This handover has already been acknowledged.")
    if action == "acknowledge":
        return _l("This handover can no longer be acknowledged.")
    if action == "withdraw":
        return _l("This handover can no longer be withdrawn: it has been opened.")
    if action == "correct":
        return _l("This handover cannot be corrected.")
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


#: The largest id an id column (INTEGER, 32 bits) holds; a caller can give a larger integer than
#: the database can compare with one (PostgreSQL answers "integer out of range").
_LARGEST_ID = 2**31 - 1


def is_handover_id(handover_id: object) -> bool:
    """Whether ``handover_id`` can name a stored handover at all: a URL's integer can be larger
    than the database holds, and such an id is simply not found."""
    return isinstance(handover_id, int) and 0 < handover_id <= _LARGEST_ID


def require(user: Any, handover_id: object, action: str = "view", *, with_units: bool = False,
            with_counts: bool = False) -> HandoverAccess:
    """The handover and the user's access to it, if they may ``action`` it now.

    Raises `NotFound` (after auditing the attempt) when their role never allows it — a handover
    that does not exist and one the user may not see look the same from outside — and
    `WrongState` when the role allows it but the status does not.

    Its copies always come with it (access depends on them). In the same query,
    ``with_units`` loads its units (sending, receiving and copies; see `units_of`) and
    ``with_counts`` how many replies, attachments and sent corrections it has, for the pages
    that show them: one round trip instead of one per kind.
    """
    action = ALIASES.get(action, action)
    with_counts = with_counts or action == "correct"   # whether a correction replaced it
    handover = db.session.execute(
        _HANDOVER_BY_ID[with_units, with_counts], {"handover_id": handover_id}
    ).unique().scalar_one_or_none() if is_handover_id(handover_id) else None
    # Flask-Login's `current_user` is a proxy that looks the user up again at each touch, and
    # the checks below touch it a dozen times: they get the object behind it.
    user = getattr(user, "_get_current_object", lambda: user)()
    if handover is None:
        if action in _DRAFT_ACTIONS and discarded_by_own_unit(user, handover_id):
            raise DraftDiscarded(handover_id)
        deny(user, handover_id, action)
    access = evaluate(user, handover)
    if not access.can(ACTIONS[action]) or (action == "download" and access.as_copy):
        deny(user, handover_id, action)
    if not access.allows(action):
        raise _refusal(handover, action)
    return access


#: The actions on a draft: asked of a draft that is gone, they may meet a repeated "delete".
_DRAFT_ACTIONS = ("edit", "preview", "discard", "routing", "send", "attach")
_DISCARDED = (select(AuditEvent.id)
              .where(AuditEvent.handover_id == bindparam("handover_id"),
                     AuditEvent.action == "handover.draft_discarded",
                     AuditEvent.unit_id.in_(bindparam("unit_ids", expanding=True)))
              .limit(1))


def discarded_by_own_unit(user: Any, handover_id: object) -> bool:
    """Whether the draft ``handover_id`` was deleted by a sender of a unit whose drafts
    ``user`` may write: the deletion's audit event says so, and says nothing new to them."""
    unit_ids = draft_unit_ids(user)
    return bool(unit_ids) and is_handover_id(handover_id) and db.session.execute(
        _DISCARDED, {"handover_id": handover_id, "unit_ids": unit_ids}).first() is not None


def units_of(handover: Handover) -> dict[int, Unit]:
    """{id: Unit} of the handover's sending, receiving and copy units: those loaded with it
    (`require` ``with_units``) when they are the ones its ids name, else one query."""
    wanted = {handover.sender_unit_id, handover.receiver_unit_id,
              *(copy.unit_id for copy in handover.copies)} - {None}
    loaded = [handover.__dict__.get("sender_unit"), handover.__dict__.get("receiver_unit"),
              *(copy.__dict__.get("unit") for copy in handover.copies)]
    units = {unit.id: unit for unit in loaded if unit is not None}
    return units if units.keys() == wanted else units_by_id(wanted)


def deny(user: Any, handover_id: object, action: str) -> NoReturn:
    """Record the refused attempt in its own transaction, then raise `NotFound`."""
    db.session.rollback()
    audit.record(
        "handover.access_denied",
        actor=user if getattr(user, "is_authenticated", False) else None,
        handover_id=handover_id if is_handover_id(handover_id) else None,
        outcome="denied",
        detail={"wanted": action},
    )
    db.session.commit()
    raise NotFound(handover_id)
