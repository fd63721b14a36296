"""The key facts of a handover: what a nurse, a teacher or a daycare director must know before
anything else, shown first on the reading page and the print view.

Which fields they are, and how each is emphasised, is the form definition's ``summary``. A fact
is shown only from a section this reader may see (a copy unit gets the minimum), never a field
that reveals where the child lives when that is hidden from this reader, and long answers are
cut to a line or two with the section named where the whole answer is, so that the facts and
the acknowledge button fit on the first screen.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup

from handover.formdefs import FormDefinition, Section
from handover.formdefs import content as content_rules
from handover.formdefs.display import display_value
from handover.formdefs.model import Field

#: Characters of one fact shown before it is cut (the full answer follows on the page).
FACT_LENGTH = 160


@dataclass(frozen=True)
class KeyFact:
    key: str
    label: str
    text: str
    emphasis: str
    #: The section holding the full answer, when ``text`` was cut short.
    section_key: str
    cut: bool = False


def key_facts(definition: FormDefinition, content: dict[str, Any] | None,
              sections: tuple[Section, ...] | None, hide_location: bool,
              language: str) -> list[KeyFact]:
    """The summary's facts this reader may see, in the definition's order; an empty answer
    is shown as "—" so that "no allergies given" reads differently from a missing field."""
    if content is None:
        return []
    visible = {f.key: s.key for s in (sections or definition.sections) for f in s.fields}
    facts = []
    for item in definition.summary:
        if item.field not in visible or item.field not in content:
            continue
        field = definition.field(item.field)
        if hide_location and field.reveals_location:
            continue
        text = _as_text(field, content[item.field], hide_location, language)
        cut = len(text) > FACT_LENGTH
        if cut:
            text = text[:FACT_LENGTH].rsplit(" ", 1)[0] + " …"
        facts.append(KeyFact(field.key, field.label_in(language), text, item.emphasis,
                             visible[item.field], cut))
    return facts


def _as_text(field: Field, value: Any, hide_location: bool, language: str) -> str:
    """One answer on one line: a repeating group as its rows, "; " between them."""
    if field.type != "group":
        shown = display_value(field, value, language)
        return str(shown.striptags() if isinstance(shown, Markup) else shown)
    rows = []
    for row in value or []:
        parts = [str(display_value(sub, row.get(sub.key), language)) for sub in field.fields
                 if row.get(sub.key) not in (None, "", [])
                 and not (hide_location and sub.reveals_location)]
        if parts:
            rows.append(", ".join(parts))
    return "; ".join(rows) or "—"


def age_in_years(definition: FormDefinition, content: dict[str, Any] | None,
                 today: date | None = None) -> int | None:
    """The child's age from the definition's birth-date field, None when it is not known."""
    key = definition.birth_date_field
    if not key or not content or not content.get(key):
        return None
    try:
        born = date.fromisoformat(content[key])
    except (TypeError, ValueError):
        return None
    today = today or content_rules.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
