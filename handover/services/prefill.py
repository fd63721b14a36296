"""Fill once: a draft for a child who already has a handover from the sender's units takes over
the answers of the latest one it can take them from — the shared sections (the `common`
fragments: child, guardians, placement, responsible professionals, protection, author) into any
form that has them, or the whole content into the same form. A handover whose form has none of
the draft's shared sections (a placement update) is no source.

Taken answers fill only what the draft leaves empty, never over what the sender typed. They are
marked: the draft keeps the keys of the sections it took answers into, and the sender confirms
each section (having checked it) before the handover can be sent. Who decides and who consented
(`common:decides`) and the child's own view are never taken over: consent and the child's view
belong to each disclosure.

Answers are taken over only from a handover of the same child as the draft: the source's keyed
identity hash must equal the hash of the identity code saved in the draft. A draft that names
no child yet takes the source's child with its answers (the child's section brings the code);
one that would still name no child after it takes nothing over. Taking over is audited on the
draft, naming the source handover, and on the source (``handover.copied_from``, naming the
draft), so that the source's child's access report and the log filtered by the source show
that its content was read and copied.
"""

from typing import Any

from handover.formdefs import FormDefinition, UnknownForm
from handover.formdefs.fragments import shipped_section_keys
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    ContentErased,
    LifecycleError,
    commit_with_audit,
    definition_of,
    open_json,
    policy,
    retention,
    seal_json,
)
from handover.services.policy import HandoverAccess, draft_unit_ids
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, User
from handover.store.models.base import utcnow

#: Shared sections that belong to each disclosure and are never taken over.
NOT_TAKEN = ("decides", "child_view")
SHARED, WHOLE = "shared", "whole"

#: Refused when the draft names no child yet: taking over needs the child's saved code.
NO_CHILD = _l("Save the child's personal identity code in the form first: answers can be "
              "taken over only from an earlier handover of the same child. Nothing was "
              "changed in the draft.")
#: What the journey page says instead of offering answers when the code looked up is another
#: child's than the draft's.
OTHER_CHILD_ON_PAGE = _l("This code is not the one saved in the draft: answers are taken over "
                         "only from handovers of the child whose code is saved in the draft.")
#: Refused when the source is another child's handover.
OTHER_CHILD = _l("Answers can be taken over only from an earlier handover of the same child "
                 "as this draft. Nothing was changed in the draft.")


def shared_sections() -> tuple[str, ...]:
    return tuple(key for key in shipped_section_keys() if key not in NOT_TAKEN)


def awaiting(handover: Handover) -> list[str]:
    """Keys of the sections whose taken-over answers the sender has not confirmed yet."""
    return [key for key in (handover.prefilled_sections or "").split(",") if key]


def require_confirmed(handover: Handover) -> None:
    """Refuse to send while taken-over answers wait for the sender's confirmation."""
    if awaiting(handover):
        raise LifecycleError(_l("Check and confirm each section with answers taken over from "
                                "an earlier handover before sending."))


def scopes(draft: Handover, source: Handover | None) -> list[str]:
    """What the draft may take over from ``source``: the whole content only into the same
    form, the shared sections into a form that has some of the same shared sections; nothing
    from a form that shares none (a placement update, whose one section is its own)."""
    if source is None:
        return []
    try:
        return scopes_between(definition_of(draft), definition_of(source))
    except UnknownForm:   # a form no longer installed: nothing is known to fit
        return []


def scopes_between(draft: FormDefinition | None, source: FormDefinition) -> list[str]:
    """`scopes` by the two forms' definitions; without a ``draft``, what any form could take
    from ``source`` (its shared sections, if it has any)."""
    if draft is None:
        return [SHARED] if shared_between(source, source) else []
    shared = [SHARED] if shared_between(draft, source) else []
    return [WHOLE, *shared] if source.key == draft.key else shared


def shared_between(draft: FormDefinition, source: FormDefinition) -> list[str]:
    """The keys of the shared sections (`shared_sections`) that both forms have, in the
    draft's order: what the shared scope takes over. A field of another section that happens
    to have the same key (a placement update's child's name) is no shared answer."""
    theirs = {section.key for section in source.sections}
    shared = set(shared_sections())
    return [section.key for section in draft.sections
            if section.key in theirs and section.key in shared]


def take_over(granted: HandoverAccess, user: User, source: Handover, scope: str) -> list[str]:
    """Fill ``granted.handover`` (a draft the user may edit) from ``source``; returns the keys
    of the sections that took answers. ``source`` must be a handover of the user's own sending
    units that is not erased (`earlier_handovers.latest_sent_by` finds it), about the same child
    as the identity code saved in the draft (`child_of`). A draft without one takes the
    source's child with the answers; another child's handover, or answers that leave the
    draft naming no child, are refused (`LifecycleError`) and the draft is left as it was."""
    draft = granted.handover
    if not granted.allows("edit"):
        raise LifecycleError(_l("Answers can be taken over only into a draft."))
    if source.sender_unit_id not in draft_unit_ids(user) or source.status == "draft" \
            or scope not in scopes(draft, source):
        raise LifecycleError(_l("These answers cannot be taken over."))
    if source.erased_at is not None or source.content is None:
        raise ContentErased()
    # Held and read again (`policy.hold`): a colleague's send, or the sender's own in another
    # tab, committed since the page loaded the draft, refuses this; a sent handover sealed
    # again as a draft would be reported to its receiver as tampered.
    draft = policy.hold(granted, user, "edit").handover
    definition = definition_of(draft)
    content = open_json(draft, draft.content, crypto.Purpose.DRAFT) or {}
    child = child_of(definition, content)
    if child is not None and source.identity_hash != child:
        raise LifecycleError(OTHER_CHILD)
    taken_from = open_json(source, source.content, crypto.Purpose.CONTENT) or {}
    wanted = None if scope == WHOLE else set(shared_between(definition, definition_of(source)))
    filled = _fill(definition, content, taken_from, wanted)
    if child is None and (source.identity_hash is None
                          or child_of(definition, content) != source.identity_hash):
        raise LifecycleError(NO_CHILD)   # the draft would name no child, or not this one
    if not filled:
        return []
    draft.content = seal_json(draft, content, crypto.Purpose.DRAFT)
    draft.prefilled_from_id = source.id
    draft.prefilled_sections = ",".join(
        [*awaiting(draft), *(key for key in filled if key not in awaiting(draft))])[:500]
    draft.updated_at = utcnow()
    retention.keep_current(draft)
    # One statement, one commit: on the draft what it took, on the source that it was read
    # and copied (the source's child's report and the log filtered by it find this one).
    try:
        audit.record_all([
            ("handover.prefilled", draft.id,
             {"from": source.id, "scope": scope, "sections": filled}),
            ("handover.copied_from", source.id,
             {"into": draft.id, "scope": scope, "sections": filled}),
        ], actor=user, unit_id=draft.sender_unit_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return filled


def child_of(definition: FormDefinition, content: dict[str, Any]) -> str | None:
    """The keyed hash of the identity code in a draft's ``content`` (None without one), as
    `earlier_handovers.hash_of_code` and the send compute it."""
    field = definition.identity_code_field
    code = content.get(field) if field else None
    code = code.strip().upper() if isinstance(code, str) else ""
    return crypto.identity_hash(code) if code else None


def _fill(definition: FormDefinition, content: dict[str, Any], source: dict[str, Any],
          wanted: set[str] | None) -> list[str]:
    """Copy ``source``'s answers into the empty fields of ``content`` that the draft's form
    has, in the ``wanted`` sections (None: every section). Returns the sections filled."""
    filled = []
    for section in definition.sections:
        if section.key in NOT_TAKEN or wanted is not None and section.key not in wanted:
            continue
        took = False
        for field in section.fields:
            value = source.get(field.key)
            if value in (None, "", []) or content.get(field.key) not in (None, "", []):
                continue
            content[field.key] = value
            took = True
        if took:
            filled.append(section.key)
    return filled


def confirm(granted: HandoverAccess, user: User, section_key: str) -> list[str]:
    """The sender checked the taken-over answers of one section; returns what still waits."""
    draft = granted.handover
    if not granted.allows("edit"):
        raise LifecycleError(_l("Answers can be taken over only into a draft."))
    draft = policy.hold(granted, user, "edit").handover
    left = [key for key in awaiting(draft) if key != section_key]
    draft.prefilled_sections = ",".join(left) or None
    draft.updated_at = utcnow()
    commit_with_audit("handover.prefill_confirmed", actor=user, unit_id=draft.sender_unit_id,
                      handover_id=draft.id, detail={"section": section_key})
    db.session.refresh(draft)
    return left
