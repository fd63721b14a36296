"""The reader's view of one sent handover: what a receiver, a copy receiver and a sender see.

`open_for_reader` is the one way to read a handover's content for showing it: it decides what
this reader gets (a copy gets the minimum — the sections meant for its kind of unit, no thread,
no attachments, no acknowledgement note, no hidden location; a placement update carries the
protection of the child's handovers, `updates.Protection`), decrypts it, and writes the view's
audit event (opening the handover on the receiving unit's first view) before returning. The
web page, the print page, the JSON API and the FHIR export all call it. A draft, which only its
sending unit's senders may see, is read as the draft it is (`drafts.open_for_editing`).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from handover.formdefs import FormDefinition, Section, text_in
from handover.security import crypto
from handover.services import (
    ContentErased,
    definition_of,
    drafts,
    earlier_handovers,
    reading,
    replies,
    returning,
    thread_reads,
    updates,
)
from handover.services import attachments as attachment_service
from handover.services.accounts import units_by_id
from handover.services.earlier_handovers import EarlierHandover
from handover.services.key_facts import KeyFact, age_in_years, key_facts
from handover.services.notifications import is_overdue
from handover.services.policy import SENDING, HandoverAccess, evaluate, units_of
from handover.services.replies import ReplyBody
from handover.store.database import db
from handover.store.models import Attachment, AuditEvent, Handover, Reply, Unit, User


@dataclass(frozen=True)
class Closing:
    """When the receiving unit closed the handover's thread (`services.closing`), and who: the
    closing is recorded in the audit trail, not on the handover."""

    at: datetime
    unit: str
    #: The person who closed it; None for a copy unit (no thread, no authors) or when the
    #: audit trail names nobody.
    person: str | None = None


@dataclass
class ReaderView:
    """Everything a reader is shown of one handover, already decrypted for them."""

    handover: Handover
    granted: HandoverAccess
    definition: FormDefinition
    units: dict[int, Unit]
    overdue: bool
    legal_basis: str | None
    #: Ids of the sent handovers that correct this one.
    replaced_by: list[int]
    content: dict[str, Any] | None = None
    sections: tuple[Section, ...] | None = None
    hide_location: bool = False
    location_warning: bool = False
    thread: list[tuple[Reply, ReplyBody | None]] = field(default_factory=list)
    #: (attachment, its file name) of each attached file.
    attachments: list[tuple[Attachment, str | None]] = field(default_factory=list)
    note: str | None = None
    #: The reply form the receiving unit acknowledged with (the ward's receipt), when it did:
    #: the receipt above the facts names it and leads to it, rather than saying no note was
    #: written.
    receipt_reply: Reply | None = None
    #: The authors of the replies, by user id.
    authors: dict[int, User] = field(default_factory=dict)
    #: Whether the page has a thread at all: a copy unit gets neither thread nor replies.
    shows_thread: bool = False
    #: Who acknowledged receipt, and their note: for the sending and the receiving unit, never
    #: for a copy unit (no note passes between sender and copy).
    shows_receipt: bool = False
    #: Whether the sender withdrew it: the page says so (and a receiver gets no content).
    withdrawn: bool = False
    #: Whether an acknowledgement is still awaited by a date (the API's ``due_at``).
    shows_due: bool = False
    #: Whether the page shows that date, and the handover as overdue (`due_on_page`): not to
    #: a copy unit, which has nothing to acknowledge.
    due_on_page: bool = False
    overdue_on_page: bool = False
    #: Who closed the thread and when; None while it is open.
    closed: Closing | None = None
    #: The thread as the pages show it (`thread` is the whole of what this reader may read,
    #: as the API gives it): without the explanation of a return, which the sending unit's
    #: page shows with the return itself (who returned it, when and why,
    #: `returning.returns_shown`), never as a reply of nobody's with no text.
    replies_shown: list[tuple[Reply, ReplyBody | None]] = field(default_factory=list)
    #: The definition's summary, first on the page (see `services.key_facts`).
    facts: list[KeyFact] = field(default_factory=list)
    #: The child's name and age for the page's heading (None: not shown to this reader).
    child_name: str | None = None
    child_age: int | None = None
    #: The labels of the location flags that hold: which case hides where the child lives.
    location_cases: list[str] = field(default_factory=list)
    #: A placement update's flags, carried from the child's handovers (`updates.Protection`),
    #: under their own keys as a handover's content has them; empty for a handover.
    carried_flags: dict[str, str] = field(default_factory=dict)
    #: The child's earlier handovers from the reader's units (None: no identity code, or a
    #: page that does not show them).
    earlier: list[EarlierHandover] | None = None
    #: A correction's sections (of those shown) whose answers differ from the version it
    #: corrects; None when there is nothing to compare (not a correction, or the reader may
    #: not read the earlier version).
    changed_sections: list[Section] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def awaits_acknowledgement(handover: Handover) -> bool:
    """Whether an acknowledgement of ``handover`` is still awaited by a date."""
    return handover.due_at is not None and handover.status in ("sent", "opened")


def due_on_page(granted: HandoverAccess) -> bool:
    """Whether this reader's page or list shows the date to acknowledge by (and the handover
    as overdue once it has passed): while an acknowledgement is awaited, to the unit that can
    give it and to the sending unit waiting for it; never to a copy unit, which has nothing
    to acknowledge."""
    return awaits_acknowledgement(granted.handover) and (
        granted.allows("acknowledge") or granted.relation == SENDING)


def shows_content(granted: HandoverAccess) -> bool:
    """Whether this reader sees the handover's content (in a list, the child's name): not
    once erased; of a withdrawn handover only the sending unit, whose content is kept until
    the retention rule erases it (the receiver was never to read it)."""
    handover = granted.handover
    return handover.erased_at is None and (handover.status != "withdrawn"
                                           or granted.relation == SENDING)


def open_for_reader(granted: HandoverAccess, user: Any, *, language: str = "fi",
                    action: str = "handover.viewed", draft_page: str = "api",
                    shows_thread: bool = False) -> ReaderView:
    """Read what ``user`` may see of ``granted.handover`` and log that they saw it.

    Everything is read (and its integrity checked: `crypto.TamperedRecord` propagates) first,
    then the view is logged and committed, so the audit chain's lock is held only for the write
    at the end. ``action`` is ``handover.viewed`` or ``handover.printed``.

    ``shows_thread``: the caller shows the person the thread (the handover's page, its print),
    so its messages count as seen (`thread_reads`); a page that shows none, an API read or an
    integration's, leaves them unseen.

    A draft is sealed as a draft, not as sent content, and its read is the sender's look at
    their own work: it is opened and logged as the editor's is (``handover.draft_viewed``
    naming ``draft_page``), so that reading it through the API is neither a false integrity
    failure nor a "viewed" event of a handover that was never sent.
    """
    if granted.handover.status == "draft":
        return _open_draft(granted, user, language, draft_page)
    view = _read(granted, language)
    also = []
    if view.content is not None and granted.handover.replaces_id is not None:
        view.changed_sections, compared = _compare_with_earlier_version(user, view)
        also.extend(compared)
    if action == "handover.viewed" and granted.handover.identity_hash:
        view.earlier = earlier_handovers.find(user, granted.handover.identity_hash,
                                              language=language, current=granted.handover)
        also.extend(earlier_handovers.audit_events(view.earlier, granted.handover))
    if shows_thread:
        thread_reads.mark_shown(user, granted.handover, (reply for reply, _ in view.thread))
    reading.record_view(granted, user, action=logged_action(view, action), also=also)
    return view


def _compare_with_earlier_version(user: Any, view: ReaderView
                                  ) -> tuple[list[Section] | None, list[tuple[Any, ...]]]:
    """(the sections shown whose answers the correction changed, the audit event of reading
    the earlier version to tell): what the reader of a correction looks for first, rather
    than compare the two versions line by line. Only when the reader may read the earlier
    version as it is now; a tampered earlier version is reported where it is read, not here.
    """
    earlier = db.session.get(Handover, view.handover.replaces_id)
    if earlier is None:
        return None, []
    access = evaluate(user, earlier)
    if not access.allows("view") or not shows_content(access):
        return None, []
    try:
        before = reading.content_for_reader(access)
    except (ContentErased, crypto.TamperedRecord):
        return None, []
    after, hide = view.content or {}, view.hide_location
    changed = [section for section in view.sections or ()
               if any(_answer(before, f, hide) != _answer(after, f, hide)
                      for f in section.fields if not (hide and f.reveals_location))]
    return changed, [("handover.compared", earlier.id, {"correction": view.handover.id},
                      access.unit_id)]


def _answer(content: dict[str, Any], field: Any, hide_location: bool) -> Any:
    """An answer as compared, of what this reader is shown: not answered (missing, blank or an
    empty list) is one; a group's rows without the columns that would reveal where the child
    lives when that is hidden from the reader (a change there is not theirs to learn of)."""
    value = content.get(field.key)
    if value in (None, "", [], {}):
        return None
    if hide_location and isinstance(value, list) and field.fields:
        hidden = {sub.key for sub in field.fields if sub.reveals_location}
        return [{key: cell for key, cell in row.items() if key not in hidden}
                if isinstance(row, dict) else row for row in value]
    return value


#: What a view or print of a handover whose content this reader is not shown (withdrawn, for
#: its receivers; erased, for everyone) is logged as: only its details were on the page.
WITHOUT_CONTENT = {"handover.viewed": "handover.viewed_without_content",
                   "handover.printed": "handover.printed_without_content"}


def logged_action(view: ReaderView, action: str) -> str:
    """The action a view is logged as: ``action`` when the reader was shown the content,
    else its `WITHOUT_CONTENT` counterpart, so that the child's access report does not say
    the handover was read or printed when only its details were shown."""
    return action if view.content is not None else WITHOUT_CONTENT.get(action, action)


def _open_draft(granted: HandoverAccess, user: Any, language: str, page: str) -> ReaderView:
    """The sender's own draft as last saved: every section, its files, no thread."""
    view = _frame(granted, language)
    reading.skip_empty_lists(granted.handover)
    view.attachments = [(a, attachment_service.name_of(granted.handover, a))
                        for a in granted.handover.attachments]
    draft = drafts.open_for_editing(granted, user, page=page)
    _show_content(view, draft.content, view.definition.sections, language)
    return view


def _frame(granted: HandoverAccess, language: str) -> ReaderView:
    """What every reader is shown of the handover itself, before its content."""
    handover = granted.handover
    definition = definition_of(handover)
    units = units_of(handover)
    overdue, due = is_overdue(handover), due_on_page(granted)
    return ReaderView(
        handover=handover, granted=granted, definition=definition, units=units,
        shows_thread=not granted.as_copy,
        shows_receipt=handover.acknowledged_at is not None and not granted.as_copy,
        withdrawn=handover.status == "withdrawn",
        shows_due=awaits_acknowledgement(handover),
        due_on_page=due, overdue_on_page=due and overdue,
        closed=_closing(granted, units, handover.closed_at)
        if handover.closed_at is not None else None,
        overdue=overdue,
        legal_basis=_legal_basis_label(definition, handover.legal_basis, language),
        replaced_by=list(db.session.execute(
            select(Handover.id).where(Handover.replaces_id == handover.id,
                                      Handover.status != "draft")).scalars())
        if handover.correction_count else [],
    )


def _read(granted: HandoverAccess, language: str) -> ReaderView:
    handover = granted.handover
    view = _frame(granted, language)
    definition, units = view.definition, view.units
    reading.skip_empty_lists(handover)
    sender = granted.relation == SENDING
    if not shows_content(granted):
        return view
    content = reading.content_for_reader(granted)
    if sender:
        sections = definition.sections
    else:
        # Without a unit (which `policy.require` never grants) the kind is one that no
        # [visibility] table lists, as before.
        reader_kind = units[granted.unit_id].kind if granted.unit_id is not None else ""
        sections = definition.visible_sections(reader_kind, granted.as_copy)
    _show_content(view, content, sections, language)
    if granted.as_copy:
        return view  # the minimum: no thread, no files, no note between sender and receiver
    view.thread = returning.visible_replies(replies.thread(handover), handover,
                                            granted.relation, SENDING)
    view.replies_shown = [entry for entry in view.thread
                          if entry[0].kind != returning.RETURN_KIND]
    # A unit that wrote in the thread may no longer be one of the handover's (a receiver that
    # replied, then returned it): its name still heads what it wrote.
    missing = {reply.unit_id for reply, _ in view.thread} - units.keys()
    if missing:
        view.units = {**units, **units_by_id(missing)}
    view.attachments = [(a, attachment_service.name_of(handover, a))
                        for a in handover.attachments]
    view.note = reading.acknowledgement_note(handover)
    acknowledging = {form.key for form in definition.reply_forms if form.acknowledges}
    view.receipt_reply = next((reply for reply, _ in view.replies_shown
                               if reply.kind in acknowledging
                               and reply.unit_id == handover.receiver_unit_id
                               and handover.acknowledged_at is not None
                               and reply.created_at <= handover.acknowledged_at), None)
    if handover.replies:
        view.authors = {user.id: user for user in db.session.execute(
            select(User).where(User.id.in_([r.author_id for r in handover.replies]))
        ).scalars()}
    return view


def _show_content(view: ReaderView, content: dict[str, Any], sections: tuple[Section, ...],
                  language: str) -> None:
    """Put ``content`` on ``view`` with what the page derives from it (summary, heading)."""
    definition, granted = view.definition, view.granted
    cases = [flag.label_in(language) for flag in definition.location_cases(content)]
    hide = bool(cases) and granted.as_copy
    if view.handover.update_of_id is not None:
        # An update warns as the child's handovers did and hides what they hid from its
        # receiver (`updates.Protection`); its sender, like a handover's, sees everything.
        labels, hidden = updates.carried(content)
        cases += [text for text in (text_in(label, language) for label in labels)
                  if text not in cases]
        hide = hide or (hidden and granted.relation != SENDING)
        view.carried_flags = updates.carried_flags(content)
    view.content, view.sections = content, sections
    view.location_warning, view.hide_location = bool(cases), hide
    view.facts = key_facts(definition, content, sections, view.hide_location, language)
    view.location_cases = cases
    if definition.summary_fields and content.get(definition.summary_fields[0]):
        view.child_name = str(content[definition.summary_fields[0]])
        view.child_age = age_in_years(definition, content)


def _closing(granted: HandoverAccess, units: dict[int, Unit], at: datetime) -> Closing:
    """Who closed ``granted.handover``: the newest ``handover.closed`` event of its audit
    trail (one indexed read), the unit by name, the person's name unless the reader is a copy
    unit."""
    handover = granted.handover
    event = db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.unit_id)
        .where(AuditEvent.handover_id == handover.id, AuditEvent.action == "handover.closed")
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    unit_id = (event.unit_id if event is not None else None) or handover.receiver_unit_id
    unit = units.get(unit_id) if unit_id is not None else None
    if unit is None and unit_id is not None:
        unit = units_by_id([unit_id]).get(unit_id)
    person = None
    if event is not None and event.actor_id is not None and not granted.as_copy:
        found = db.session.get(User, event.actor_id)
        person = found.name if found is not None else None
    return Closing(at, unit.name if unit is not None else "", person)


def _legal_basis_label(definition: FormDefinition, key: str | None,
                       language: str) -> str | None:
    for choice in definition.legal_bases:
        if choice.value == key:
            return choice.label_in(language)
    return key
