"""The key facts of a handover: what a nurse, a teacher or a daycare director must know before
anything else, shown first on the reading page and the print view.

Which fields they are, and how each is emphasised, is the form definition's ``summary``. A fact
is shown only from a section this reader may see (a copy unit gets the minimum), never a field
that reveals where the child lives when that is hidden from this reader, and long answers are
cut to a line or two with the section named where the whole answer is, so that the facts and
the acknowledge button fit on the first screen.

A repeating group (who may not fetch the child, contact restrictions, medication) is never cut:
each row is a line of its own, so that a second person barred from fetching, or the date a
restriction is valid until, is never lost behind the first row's words. A row shows who, what
to do and until when: it leaves out its choices (what a ban on fetching rests on, a long label;
what a decision covers, said in its own words too) and, of its dates, shows only the last,
named ("Valid until 31.12.2027": the end of a period, not its start); what it leaves out is
read in the section, to which "Read all" leads.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from handover.formdefs import FormDefinition, Section
from handover.formdefs import content as content_rules
from handover.formdefs.display import display_value
from handover.formdefs.model import Field

#: Characters of one fact shown before it is cut (the full answer follows on the page); the
#: rows of a repeating group are never cut.
FACT_LENGTH = 160

#: The sub-field types a group's row leaves out of its key fact (read in the section): the
#: kinds a row is sorted into (what a ban rests on, what a decision covers); what the row says
#: to do is in its own words.
_LEFT_OUT_OF_ROWS = ("choice", "multichoice")


@dataclass(frozen=True)
class KeyFact:
    key: str
    label: str
    text: str
    emphasis: str
    #: The section holding the full answer, when ``text`` was cut short.
    section_key: str
    #: Whether ``text`` leaves something out: cut short, or a row's answer left out.
    cut: bool = False
    #: The fact line by line: one line per row of a repeating group, one line otherwise;
    #: ``text`` is these lines joined by line breaks (Markup, each line escaped).
    lines: tuple[str, ...] = ()


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
        if field.type == "group":
            lines, cut = _rows(field, content[item.field], hide_location, language)
        else:
            line = _plain(display_value(field, content[item.field], language))
            cut = len(line) > FACT_LENGTH
            if cut:
                line = line[:FACT_LENGTH].rsplit(" ", 1)[0] + " …"
            lines = (line,)
        text = Markup("<br>").join(escape(line) for line in lines)
        facts.append(KeyFact(field.key, field.label_in(language), text, item.emphasis,
                             visible[item.field], cut, lines))
    return facts


def _rows(field: Field, value: Any, hide_location: bool,
          language: str) -> tuple[tuple[str, ...], bool]:
    """A repeating group's rows, one line each and none cut short ("—" when there are none),
    and whether a row left an answer out."""
    lines, left_out = [], False
    for row in value or []:
        parts = []
        shown_subs = [sub for sub in field.fields
                      if row.get(sub.key) not in (None, "", [])
                      and not (hide_location and sub.reveals_location)]
        dates = [sub for sub in shown_subs if sub.type == "date"]
        for sub in shown_subs:
            answer = row.get(sub.key)
            if sub.type in _LEFT_OUT_OF_ROWS or (sub.type == "date" and sub is not dates[-1]):
                left_out = True
                continue
            shown = _plain(display_value(sub, answer, language))
            parts.append(f"{sub.label_in(language)} {shown}" if sub.type == "date" else shown)
        if parts:
            lines.append(_joined(parts))
    return tuple(lines) or ("—",), left_out


def _joined(parts: list[str]) -> str:
    """A row's answers as one line: ", " between them, but a new sentence where the next
    answer starts one ("Tero Kokeilu, father. If he comes to the daycare, ...")."""
    line = parts[0]
    for part in parts[1:]:
        if line.endswith((".", "!", "?")):
            line += " " + part
        elif part[:1].isupper():
            line += ". " + part
        else:
            line += ", " + part
    return line


def _plain(shown: Any) -> str:
    """A displayed value as plain text on one line: a multi-line answer's lines joined."""
    if not isinstance(shown, Markup):
        return str(shown)
    lines = (part.unescape().strip() for part in shown.split(Markup("<br>")))
    return " ".join(line for line in lines if line)


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
