"""The shape of a form definition once validated: frozen dataclasses the rest of Handover reads.

Sequences are tuples so that a definition cannot be changed after loading; texts are dicts
``{"fi": ..., "sv": ..., "en": ...}`` read through ``text_in``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("fi", "sv", "en")

FIELD_TYPES = (
    "text", "textarea", "date", "yesno", "choice", "multichoice", "hetu", "phone", "email",
    "number", "group",
)
CHOICE_TYPES = ("choice", "multichoice")
DEFAULT_MAX_LENGTH = {"text": 500, "textarea": 5000}
DEFAULT_MAX_ROWS = 20
YESNO_VALUES = ("yes", "no")
#: How a field of the ``summary`` is shown: as any value, in bold, or as a warning (allergies,
#: risks) that a reader cannot take for an ordinary answer.
EMPHASES = ("normal", "strong", "alert")
#: What the server fills in a reply form's field before the receiver sees it: the name of the
#: person replying, today's date. The field's type each needs.
PREFILLS = {"user_name": "text", "today": "date"}
#: The latest a date field may be (``not_after``): "today" is today in Finland, for a date
#: that records something already done (a birth, a consent, the day a form was filled).
NOT_AFTER = ("today",)
#: The earliest a date field may be (``not_before``): "birth" is the child's date of birth
#: (the form's ``birth_date_field``), for a date of something in the child's life.
NOT_BEFORE = ("birth",)


def text_in(texts: Mapping[str, Any] | None, language: str) -> str:
    """The text in ``language``, else Finnish, else any; empty when there is none."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("fi") or next(iter(texts.values()), "")


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict

    def label_in(self, language: str) -> str:
        return text_in(self.label, language)

    @property
    def key(self) -> str:
        """Legal bases are choices named by ``key`` in the TOML."""
        return self.value


@dataclass(frozen=True, repr=False)
class Field:
    key: str
    type: str
    label: dict
    help: dict = field(default_factory=dict)
    required: bool = False
    sensitive: bool = False
    reveals_location: bool = False
    choices: tuple = ()
    show_if: dict | None = None
    max_length: int | None = None
    fields: tuple = ()
    sender_kinds: tuple | None = None
    min: float | None = None
    max: float | None = None
    min_rows: int = 0
    max_rows: int = DEFAULT_MAX_ROWS
    #: One of `PREFILLS`: a reply form's field the server fills in (still editable).
    prefill: str | None = None
    #: One of `NOT_AFTER`: a date field's latest allowed date ("today": never in the future).
    not_after: str | None = None
    #: One of `NOT_BEFORE`: a date field's earliest allowed date ("birth": not before the
    #: child was born; 14.3.2002 typed for 14.3.2020 is then caught).
    not_before: str | None = None
    #: What an empty required field's error says, per language; empty: derived from the
    #: field's type and label (``formdefs.required``).
    required_message: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Field {self.key} {self.type}>"

    def label_in(self, language: str) -> str:
        return text_in(self.label, language)

    def help_in(self, language: str) -> str:
        return text_in(self.help, language)

    def choice_label(self, value: Any, language: str) -> Any:
        for choice in self.choices:
            if choice.value == value:
                return choice.label_in(language)
        return value

    def shown_for(self, sender_kind: str | None) -> bool:
        """Whether a sender of ``sender_kind`` fills this field (None: any sender)."""
        return sender_kind is None or self.sender_kinds is None or sender_kind in self.sender_kinds

    def condition_met(self, values: Mapping[str, Any]) -> bool:
        """Whether ``show_if`` holds for ``values`` (a mapping of sibling field values)."""
        if not self.show_if:
            return True
        value = values.get(self.show_if["field"])
        wanted = self.show_if.get("in")
        if wanted is None:
            wanted = [self.show_if["equals"]]
        if isinstance(value, list | tuple):
            return any(item in wanted for item in value)
        return value in wanted


@dataclass(frozen=True, repr=False)
class Section:
    key: str
    title: dict
    description: dict = field(default_factory=dict)
    fields: tuple = ()
    #: Keys of the sections that must be completed before this one can be started.
    requires: tuple = ()

    def __repr__(self) -> str:
        return f"<Section {self.key}>"

    def title_in(self, language: str) -> str:
        return text_in(self.title, language)

    def description_in(self, language: str) -> str:
        return text_in(self.description, language)

    def fields_for(self, sender_kind: str | None = None) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.shown_for(sender_kind))


@dataclass(frozen=True)
class SectionGroup:
    """A heading of the task list over consecutive sections (``[[groups]]``)."""

    key: str
    title: dict
    sections: tuple = ()

    def title_in(self, language: str) -> str:
        return text_in(self.title, language)


@dataclass(frozen=True)
class SummaryItem:
    """One field of the key facts a reader sees first, and how it is emphasised."""

    field: str
    emphasis: str = "normal"


@dataclass(frozen=True)
class RoutingRule:
    """Which unit kinds may send a form, to which kinds, with copies to which kinds."""

    form: str
    senders: tuple
    receivers: tuple
    copies: tuple = ()
    plugin_name: str = ""


@dataclass(frozen=True, repr=False)
class FormDefinition:
    key: str
    version: int
    title: dict
    description: dict
    plugin_name: str
    sections: tuple
    retention: dict
    acknowledge_within_hours: int = 24
    legal_bases: tuple = ()
    summary_fields: tuple = ()
    #: The key facts shown first on the reading page and the print view (``SummaryItem``s).
    summary: tuple = ()
    identity_code_field: str | None = None
    #: A date field the core checks against the identity code's date (the wrong child else).
    birth_date_field: str | None = None
    location_flags: tuple = ()
    reply_forms: tuple = ()
    routing: RoutingRule | None = None
    visibility: dict = field(default_factory=dict)
    source: str = ""
    #: ``notices.FormWarning``s: answers worth a second look, shown without refusing a send.
    warnings: tuple = ()
    #: ``notices.Timing``: when the form should be sent, or None.
    timing: Any = None
    #: ``SectionGroup``s: the task list's headings, in order (empty: no headings).
    groups: tuple = ()
    #: The choice field that says how urgent a handover is, and its values that are urgent
    #: (the inbox shows "urgent" or "planned"); None: the form declares no urgency.
    urgency_field: str | None = None
    urgent_values: tuple = ()
    #: A reply form only: sending it acknowledges the handover it answers.
    acknowledges: bool = False

    def __repr__(self) -> str:
        return f"<FormDefinition {self.key} v{self.version} ({self.plugin_name})>"

    def title_in(self, language: str) -> str:
        return text_in(self.title, language)

    def description_in(self, language: str) -> str:
        return text_in(self.description, language)

    def fields(self) -> tuple[Field, ...]:
        """Every top-level field, in section order."""
        return tuple(f for section in self.sections for f in section.fields)

    def field(self, key: str) -> Field:
        for candidate in self.fields():
            if candidate.key == key:
                return candidate
        raise KeyError(key)

    def visible_sections(self, receiver_kind: str, as_copy: bool = False) -> tuple[Section, ...]:
        """The sections a unit of ``receiver_kind`` sees (minimum necessary).

        The ``[visibility]`` table lists sections per kind for main receivers and for copies;
        a kind not listed sees every section.
        """
        table = self.visibility.get("copies" if as_copy else "receivers", {})
        if receiver_kind not in table:
            return self.sections
        wanted = set(table[receiver_kind])
        return tuple(s for s in self.sections if s.key in wanted)

    def location_hidden(self, content: Mapping[str, Any] | None) -> bool:
        """Whether any location flag is "yes" in ``content``: then fields revealing where the
        child lives are hidden from copies and every reader sees a warning."""
        return any((content or {}).get(flag) == "yes" for flag in self.location_flags)

    def emphasis(self) -> dict[str, str]:
        """{field key: emphasis} of the summary's fields that are not shown as usual."""
        return {item.field: item.emphasis for item in self.summary if item.emphasis != "normal"}

    def location_cases(self, content: Mapping[str, Any] | None) -> tuple[Field, ...]:
        """The location flags that are "yes" in ``content``: which case hides where the child
        lives (a non-disclosure order, a placement hidden from the parents...)."""
        values = content or {}
        return tuple(self.field(flag) for flag in self.location_flags
                     if values.get(flag) == "yes")

    def is_urgent(self, content: Mapping[str, Any] | None) -> bool | None:
        """Whether ``content`` marks the handover urgent; None when the form (or the content)
        does not say."""
        if self.urgency_field is None or not (content or {}).get(self.urgency_field):
            return None
        return (content or {})[self.urgency_field] in self.urgent_values

    def reply_form(self, key: str) -> FormDefinition:
        for reply in self.reply_forms:
            if reply.key == key:
                return reply
        raise KeyError(key)
