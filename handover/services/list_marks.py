"""What a list row marks besides the child: whether the handover is urgent (the form's
``urgency`` field, shown only to a reader whose unit sees that field's section) and which
location flags hold (the case that hides where the child lives, never the place itself).

Read from the sealed content that the list's audited read already covers (`services.listing`).
"""

from typing import Any

from sqlalchemy import select

from handover.formdefs import FormDefinition
from handover.security import crypto
from handover.services import open_json
from handover.services.policy import SENDING, HandoverAccess
from handover.store.database import db
from handover.store.models import Unit


def mark_urgency_and_location(row: Any, definition: FormDefinition, access: HandoverAccess,
                               language: str, kinds: dict[int, str]) -> None:
    """Set the row's urgency and location cases from the content: one more decryption per
    row with the data key the summary already opened, and no query (the content is loaded
    with the handover). Raises `crypto.TamperedRecord` as the summary does."""
    if not (definition.urgency_field or definition.location_flags) or row.handover.content is None:
        return
    content = open_json(row.handover, row.handover.content, crypto.Purpose.CONTENT) or {}
    row.location_cases = [(flag.key, flag.label_in(language))
                          for flag in definition.location_cases(content)]
    if definition.urgency_field and _sees_field(definition, definition.urgency_field, access,
                                                kinds):
        row.urgent = definition.is_urgent(content)


def _sees_field(definition: FormDefinition, key: str, access: HandoverAccess,
                kinds: dict[int, str]) -> bool:
    """Whether the reader's unit sees the section holding ``key`` (minimum necessary, as on
    the reading page); each unit's kind is read once per list."""
    if access.relation == SENDING:
        return True
    unit_id = access.unit_id or 0
    if unit_id not in kinds:
        kinds[unit_id] = db.session.execute(
            select(Unit.kind).where(Unit.id == unit_id)).scalar() or ""
    return any(f.key == key for section in definition.visible_sections(
        kinds[unit_id], access.as_copy) for f in section.fields)
