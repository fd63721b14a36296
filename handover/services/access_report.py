"""The audit pages' rows in words a person reads: who (by name, not e-mail address), in which
unit (by name), did what (the event's label), on which handover of which form (its title).

The per-child access report answers a child's or guardian's question "who used my data, when
and why"; a list of e-mail addresses, action keys and seven identical "draft saved" rows does
not. So the report folds repeats: consecutive identical events by the same person on the same
handover become one row with a count and the first and last time. The audit log itself keeps
every event, unfolded, with its keys; only the page is in words.

An administrator's or unit lead's event also says whom or what it was about (`Target`): the
account, the role, the plugin, read from the event's detail; a delivery's event says by which
channel the notice went (an e-mail to a unit, a webhook to an integration), read from its detail
too. The detail never holds client data, and only the fields named here are ever read from it.
An event written outside any request (by the worker, or a command on the server) has no client
address, and the page says so in words.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from handover.formdefs import FormDefinition
from handover.formdefs.registry import UnknownForm
from handover.i18n import gettext
from handover.i18n import lazy_gettext as _l
from handover.plugins import manager as plugin_manager
from handover.services import definition_of, disclosures
from handover.services.audit_labels import (
    address_label,
    delivery_label,
    label,
    outcome_label,
    readable,
)
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, IntegrationClient, User

#: Who acted when nobody did: a job of the service itself (a delivery, the retention rule).
SYSTEM = _l("The service itself")
#: A reply's free-text message (``Reply.kind``), as the disclosure record names what it was.
MESSAGE = _l("Message")


#: The areas of the events that act on accounts, units, plugins, forms and integration
#: clients, whose detail names what they acted on. The detail of a handover's events is
#: never read here (a reply's ``kind`` is no unit kind).
TARGETED_AREAS = ("admin", "unit_lead", "account", "plugins", "forms", "integration_client",
                  "api")

#: The events of a handover shown in a list (the inbox, the outbox, the drafts, search
#: results, the child's earlier handovers), each through a unit of the user's. An older one
#: recorded no unit: its row says so, rather than leave the unit blank.
LISTED_ACTIONS = ("handover.listed", "handover.earlier_shown")

#: The events of a search by identity code and of a look-up of a child's earlier handovers,
#: whose detail says how many handovers they found (``found``): the only field read from it.
FOUND_ACTIONS = ("handover.searched", "handover.earlier_looked_up")


@dataclass(frozen=True)
class Target:
    """Whom or what an event acted on. ``user`` is the account's name and e-mail address;
    ``role`` a membership role and ``unit_kind`` a unit kind (keys, the page labels them);
    ``system_roles`` the ones an account was given (``()`` for none; None when the event did
    not set them); ``form`` an uploaded form's key and version; ``client`` an integration
    client's name."""

    user: str = ""
    role: str = ""
    system_roles: tuple[str, ...] | None = None
    unit_kind: str = ""
    plugin: str = ""
    form: str = ""
    client: str = ""

    def __bool__(self) -> bool:
        return self != NO_TARGET


NO_TARGET = Target()


@dataclass(frozen=True)
class EventRow:
    """One line of an audit table: one event, or ``count`` consecutive identical ones."""

    first_at: datetime
    last_at: datetime
    action: str
    label: str
    count: int
    person: str
    #: The e-mail address, only when two people on the page share a name.
    person_detail: str
    unit_id: int | None
    handover_id: int | None
    outcome: str
    client_address: str
    #: Whom or what it acted on; false when the event names nothing (a handover's events).
    target: Target = NO_TARGET
    #: The event happened through a unit of the user's that it did not record (an older
    #: event of `LISTED_ACTIONS`).
    unit_unrecorded: bool = False
    #: How many handovers a search or look-up (`FOUND_ACTIONS`) found; None for other events.
    found: int | None = None

    @property
    def found_words(self) -> str:
        """What a search or look-up found, in words ("nothing found" is the sign of someone
        trying codes); "" for any other event."""
        if self.found is None:
            return ""
        return gettext("nothing found") if self.found == 0 else gettext(
            "%(num)s found", num=self.found)


def event_rows(events: Iterable[AuditEvent], *, fold: bool = False) -> list[EventRow]:
    """``events`` as table rows in the same order; with ``fold``, each run of identical events
    (same action, person, unit, handover, target, outcome and client address, one after
    another) as one row."""
    events = list(events)
    details = [_targeted_detail(event) for event in events]
    actors = {event.actor_id for event in events if event.actor_id is not None}
    people = _people(actors | {detail["user_id"] for detail in details
                               if isinstance(detail.get("user_id"), int)})
    clients = _client_names({detail["client"] for detail in details
                             if isinstance(detail.get("client"), int)})
    shared = {name for name, times in Counter(people[actor][0] for actor in actors
                                              if actor in people).items() if times > 1}
    rows: list[EventRow] = []
    previous: tuple[Any, ...] | None = None
    for event, detail in zip(events, details, strict=True):
        target = _target(detail, people, clients)
        words = _label(event)
        found = _found(event)
        key = (event.action, words, event.actor_id, event.actor_label, event.unit_id,
               event.handover_id, event.outcome, event.client_address, target, found)
        if fold and rows and key == previous:
            last = rows[-1]
            rows[-1] = EventRow(**{**last.__dict__, "count": last.count + 1,
                                   "last_at": event.occurred_at})
            continue
        previous = key
        person, person_detail = _person(event, people, shared)
        rows.append(EventRow(
            first_at=event.occurred_at, last_at=event.occurred_at, action=event.action,
            label=words, count=1, person=person, person_detail=person_detail,
            unit_id=event.unit_id, handover_id=event.handover_id,
            outcome=outcome_label(event.outcome),
            client_address=address_label(event.client_address), target=target,
            unit_unrecorded=event.unit_id is None and event.action in LISTED_ACTIONS,
            found=found))
    return rows


def _found(event: AuditEvent) -> int | None:
    """How many handovers a search or look-up (`FOUND_ACTIONS`) found, from its detail."""
    if event.action not in FOUND_ACTIONS:
        return None
    found = _parsed(event.detail).get("found")
    return found if isinstance(found, int) and not isinstance(found, bool) else None


#: A view of the child's report that downloaded it as a file (its detail's ``format``).
REPORT_DOWNLOADED = _l("Report for one child downloaded")


def _label(event: AuditEvent) -> str:
    """The event's label; a delivery's by the channel its detail names, a download of the
    child's report as such."""
    if event.action.partition(".")[0] == "delivery":
        return delivery_label(event.action, _parsed(event.detail).get("channel"))
    if event.action == "audit.child_report" and _parsed(event.detail).get("format") == "csv":
        return str(REPORT_DOWNLOADED)
    return label(event.action)


def _targeted_detail(event: AuditEvent) -> dict[str, Any]:
    """The detail of an event of `TARGETED_AREAS`, parsed; {} for any other event."""
    if event.action.partition(".")[0] not in TARGETED_AREAS:
        return {}
    return _parsed(event.detail)


def _parsed(detail: str | None) -> dict[str, Any]:
    if not detail:
        return {}
    try:
        parsed = json.loads(detail)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _target(detail: dict[str, Any], people: dict[int, tuple[str, str]],
            clients: dict[int, str]) -> Target:
    if not detail:
        return NO_TARGET
    user_id = detail.get("user_id")
    user = ""
    if isinstance(user_id, int):
        name, email = people.get(user_id, ("", ""))
        user = f"{name} ({email})" if name else f"#{user_id}"
    system_roles = None
    if "admin" in detail and "auditor" in detail:
        system_roles = tuple(role for role in ("admin", "auditor") if detail[role] is True)
    client_id = detail.get("client")
    form = detail.get("form")
    return Target(
        user=user, role=_text(detail.get("role")), system_roles=system_roles,
        unit_kind=_text(detail.get("kind")), plugin=_text(detail.get("plugin")),
        form=f"{form} v{detail.get('version')}" if isinstance(form, str) and form else "",
        client=clients.get(client_id, f"#{client_id}") if isinstance(client_id, int) else "")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _client_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(IntegrationClient.id, IntegrationClient.name)
                                   .where(IntegrationClient.id.in_(ids))).all())


def _people(ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {user_id: (name, email) for user_id, name, email in db.session.execute(
        select(User.id, User.name, User.email).where(User.id.in_(ids))).all()}


def _person(event: AuditEvent, people: dict[int, tuple[str, str]],
            shared: set[str]) -> tuple[str, str]:
    """(name, e-mail if needed to tell people apart) of who acted. A removed account, or a
    failed sign-in that named nobody real, shows what the event recorded."""
    if event.actor_id in people:
        name, email = people[event.actor_id]
        return name, email if name in shared else ""
    return (event.actor_label or str(SYSTEM)), ""


def form_title(key: str, version: int | str | None, language: str) -> str:
    """A form's title in ``language``; a form whose plugin is gone reads as words."""
    definition = _definition(key, version)
    return definition.title_in(language) if definition else readable(key)


def _definition(key: str, version: int | str | None) -> FormDefinition | None:
    """That version of the form, or without one its newest, even of a plugin switched off."""
    try:
        if version in (None, ""):
            versions = plugin_manager.registry().versions(key)
            return definition_of(key, versions[-1]) if versions else None
        return definition_of(key, int(version))
    except (UnknownForm, ValueError):
        return None


def handover_rows(handovers: Sequence[Handover], language: str) -> list[dict[str, Any]]:
    """The report's handovers: number, form title, from and to which unit, when sent, and
    whether it is still a draft (saved with the child's code, never sent)."""
    return [{"id": h.id, "form": form_title(h.form_key, h.form_version, language),
             "sender_unit_id": h.sender_unit_id, "receiver_unit_id": h.receiver_unit_id,
             "sent_at": h.sent_at, "draft": h.status == "draft"} for h in handovers]


def disclosure_rows(handovers: Sequence[Handover], language: str) -> list[dict[str, Any]]:
    """The disclosure record of the report's handovers (`disclosures.shown`) in words: the
    form's title instead of ``key:version``, section titles instead of keys, the basis of
    disclosure and whose consent it rests on as the form labels them."""
    rows = []
    for row in disclosures.shown(list(handovers)):
        key, _sep, rest = str(row["form_key"]).partition(":")
        version, _sep, reply_kind = rest.partition(":")
        definition = _definition(key, version)
        rows.append({**row, "form": form_title(key, version, language),
                     "what": _what(definition, row["sections"], reply_kind, language),
                     "basis": _basis(definition, row["basis"], language),
                     "consent_by": _consent_by(definition, row["consent_by"], language)})
    return rows


def _what(definition: FormDefinition | None, sections: str, reply_kind: str,
          language: str) -> str:
    if reply_kind:
        if reply_kind == "message":
            return str(MESSAGE)
        reply = next((r for r in (definition.reply_forms if definition else ())
                      if r.key == reply_kind), None)
        return reply.title_in(language) if reply else readable(reply_kind)
    titles = {s.key: s.title_in(language) for s in (definition.sections if definition else ())}
    return ", ".join(titles.get(key, readable(key)) for key in sections.split(",") if key)


def _basis(definition: FormDefinition | None, basis: str, language: str) -> str:
    if not basis:
        return ""
    choices = [*definition.legal_bases, *(c for reply in definition.reply_forms
                                          for c in reply.legal_bases)] if definition else []
    found = next((c for c in choices if c.value == basis), None)
    return found.label_in(language) if found else readable(basis)


def _consent_by(definition: FormDefinition | None, value: str | None, language: str) -> str:
    if not value:
        return ""
    try:
        field = definition.field(disclosures.CONSENT_BY_FIELD) if definition else None
    except KeyError:
        field = None
    shown = field.choice_label(value, language) if field else value
    return str(shown) if shown != value else readable(value)
