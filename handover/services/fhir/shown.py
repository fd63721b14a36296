"""What a reader is shown of a handover's content, as data: the JSON API and the FHIR export
give exactly what the reading page shows (`reader_view.open_for_reader`).

Only the fields of the sections this reader's unit may see are kept (minimum necessary), and
when the child's location is hidden from this reader, every field that would reveal it is
left out and its path listed, as the page shows "Hidden" in its place. A placement update
also shows the location flags it carries from the child's handovers (`updates.Protection`).
"""

from typing import Any

from handover.formdefs import Field
from handover.services.reader_view import ReaderView


def shown_content(view: ReaderView) -> tuple[dict[str, Any] | None, list[str]]:
    """(content, redacted paths) of ``view``; content is None when none is shown."""
    if view.content is None or view.sections is None:
        return None, []
    shown: dict[str, Any] = {}
    redacted: list[str] = []
    for section in view.sections:
        for field in section.fields:
            if view.hide_location and field.reveals_location:
                redacted.append(field.key)
            elif field.key in view.content:
                shown[field.key] = _value(field, view.content[field.key], view.hide_location,
                                          redacted)
    # A placement update's carried flags, as a handover's content shows its own.
    shown.update(view.carried_flags)
    return shown, redacted


def _value(field: Field, value: Any, hide_location: bool, redacted: list[str]) -> Any:
    if field.type != "group" or not hide_location or not isinstance(value, list):
        return value
    rows = []
    for number, row in enumerate(value):
        kept = dict(row) if isinstance(row, dict) else row
        for sub in field.fields:
            if sub.reveals_location and isinstance(kept, dict) and sub.key in kept:
                del kept[sub.key]
                redacted.append(f"{field.key}.{number}.{sub.key}")
        rows.append(kept)
    return rows
