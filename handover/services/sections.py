"""Where a draft stands, section by section: the task list of the fill pages.

A long form is filled a section at a time, between other work. The task list says of each
section whether it is not started, in progress or completed; "completed" is derived from the
definition's own required fields (with their ``show_if`` conditions and the sender's kind; a
date or number kept as typed because it could not be read leaves a section in progress) and
from the send's own check (a row's rules, a plugin's rule pointing at the section's fields),
so a definition needs no extra rules and the task list agrees with the checks made on sending.
A section whose ``requires`` are not completed yet "cannot start yet" (until someone starts it
anyway, on the whole-form page), and checking the answers cannot start while a required answer
is missing. The definition's ``[[groups]]`` put headings over the list.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import has_app_context

from handover.formdefs import FormDefinition, Section, UnknownForm
from handover.formdefs import content as content_rules
from handover.formdefs.model import Field, SectionGroup
from handover.security import crypto
from handover.services import (
    LifecycleError,
    commit_keeping_loaded,
    definition_of,
    drafts,
    late_drafts,
)
from handover.services.listing import drafts_of
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, Unit, User

NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"
CANNOT_START = "cannot_start"


@dataclass(frozen=True)
class SectionState:
    section: Section
    state: str
    #: How many fields the sender fills in this section, and how many are required and empty.
    inputs: int
    missing: int
    #: The required sections not completed yet, while this one cannot start.
    waiting_for: tuple[Section, ...] = ()


@dataclass(frozen=True)
class TaskGroup:
    """A run of the task list under one heading (``group`` None: the form has no heading
    for these sections)."""

    group: SectionGroup | None
    states: tuple[SectionState, ...]


def has_answer(field: Field, value: Any) -> bool:
    """Whether ``value`` answers ``field``: a group answers with a row holding any value."""
    if field.type == "group":
        return any(isinstance(row, Mapping) and any(v not in (None, "", []) for v in row.values())
                   for row in value or [])
    return value not in (None, "", [])


def section_states(definition: FormDefinition, content: Mapping[str, Any] | None,
                   sender_kind: str | None) -> list[SectionState]:
    """The state of every section this sender fills, in the definition's order."""
    values = content or {}
    states = []
    send_problems = None   # asked once, of the first section that would be completed
    for section in definition.sections:
        fields = section.fields_for(sender_kind)
        if not fields:
            continue
        answered = [f for f in fields if has_answer(f, values.get(f.key))]
        missing = [f for f in fields if f.required and f.condition_met(values)
                   and not has_answer(f, values.get(f.key))]
        # A date or number kept as typed because it could not be read, or an answer its
        # field refuses (a date of birth in the future), is still to correct: the section
        # is not completed.
        unreadable = any(content_rules.holds_unreadable(values.get(f.key)) for f in fields)
        refused = any(content_rules.value_problems(f, values.get(f.key)) for f in answered
                      if f.type != "group" and f.condition_met(values))
        # What the send's check refuses in the section's fields (a row's own rules, a
        # plugin's rule pointing at one of them) leaves it in progress too: only a section
        # that passes that check is shown completed.
        if not answered:
            state = NOT_STARTED
        elif missing or unreadable or refused:
            state = IN_PROGRESS
        else:
            checked = send_problems if send_problems is not None else _send_problems(
                definition, values, sender_kind)
            send_problems = checked
            state = IN_PROGRESS if any(f.key in checked for f in fields) else COMPLETED
        states.append(SectionState(section, state, _inputs(fields), len(missing)))
    return _waiting(states)


def _send_problems(definition: FormDefinition, content: Mapping[str, Any],
                   sender_kind: str | None) -> set[str]:
    """The keys of the fields whose answers the send's check (`drafts.validate_content`)
    refuses. Outside an app (no plugins to ask), or while the form's plugin cannot check
    (the check-answers page says so), the field rules alone."""
    if has_app_context():
        try:
            found = drafts.validate_content(definition, content, sender_kind,
                                            drafts.default_language())
        except LifecycleError:
            found = content_rules.problems(definition, content, sender_kind)
    else:
        found = content_rules.problems(definition, content, sender_kind)
    return {str(path).split(".", 1)[0] for path in found}


def _waiting(states: list[SectionState]) -> list[SectionState]:
    """Marks "cannot start yet" the untouched sections whose ``requires`` are not completed.
    A required section this sender does not fill holds nothing up."""
    by_key = {state.section.key: state for state in states}
    marked = []
    for state in states:
        waiting = tuple(by_key[key].section for key in state.section.requires
                        if key in by_key and by_key[key].state != COMPLETED)
        if waiting and state.state == NOT_STARTED:
            state = replace(state, state=CANNOT_START, waiting_for=waiting)
        marked.append(state)
    return marked


def ready_to_check(states: list[SectionState]) -> bool:
    """Whether checking the answers can start: no required answer is missing anywhere."""
    return all(state.missing == 0 for state in states)


def task_groups(definition: FormDefinition, states: list[SectionState]) -> list[TaskGroup]:
    """The task list in runs under the definition's group headings, in section order."""
    group_of = {key: group for group in definition.groups for key in group.sections}
    runs: list[TaskGroup] = []
    for state in states:
        group = group_of.get(state.section.key)
        if runs and runs[-1].group is group:
            runs[-1] = TaskGroup(group, (*runs[-1].states, state))
        else:
            runs.append(TaskGroup(group, (state,)))
    return runs


def _inputs(fields: tuple[Field, ...]) -> int:
    """Inputs on the page: a group counts the inputs of its one empty row."""
    return sum(len(f.fields) if f.type == "group" else 1 for f in fields)


def next_section(states: list[SectionState], key: str) -> Section | None:
    """The section after ``key`` in the task list that can be started, None after the last."""
    keys = [state.section.key for state in states]
    if key not in keys:
        return None
    return next((state.section for state in states[keys.index(key) + 1:]
                 if state.state != CANNOT_START), None)


@dataclass(frozen=True)
class DraftRow:
    """A draft as the home page and the outbox list it: whose it is, which form, how far."""

    handover: Handover
    title: str
    child: str | None
    completed: int
    sections: int
    updated_at: datetime | None
    #: The form's send-by date and whether it has passed (`late_drafts`); None without one.
    send_by: late_drafts.SendBy | None = None


def draft_rows(user: User, language: str) -> list[DraftRow]:
    """The drafts ``user`` may continue, newest change first, with the child's name (read
    from the sealed draft, so the listing is audited) and the sections completed."""
    rows = []
    for handover in drafts_of(user):
        try:
            definition = definition_of(handover)
        except UnknownForm:   # its plugin is gone: listed under its key, as the lists do
            rows.append(DraftRow(handover, handover.form_key, None, 0, 0, handover.updated_at))
            continue
        try:
            content = drafts.content_of(handover)
        except crypto.TamperedRecord:
            content = {}   # listed without its name; opening it reports the damage
        unit = db.session.get(Unit, handover.sender_unit_id)
        states = section_states(definition, content, unit.kind if unit else None)
        name_key = definition.summary_fields[0] if definition.summary_fields else None
        rows.append(DraftRow(
            handover, definition.title_in(language),
            str(content[name_key]) if name_key and content.get(name_key) else None,
            sum(state.state == COMPLETED for state in states), len(states),
            handover.updated_at, late_drafts.send_by(handover)))
    if rows:
        # Each through its sending unit, the user's unit whose draft it is.
        audit.record_all([("handover.listed", row.handover.id, "", row.handover.sender_unit_id)
                          for row in rows])
        commit_keeping_loaded()
    return rows
