"""Drafts: a handover being written. Any sender of the sending unit may continue it.

A draft already has its routing (form, receiving unit, copy units, legal basis) so that the fill
page can show only what the receiver is meant to get; the routing is checked again on send.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import current_app

from handover.formdefs import FormDefinition, UnknownForm
from handover.formdefs import content as content_rules
from handover.formdefs.model import Field
from handover.formdefs.required import iso_date_format, unreadable_date
from handover.i18n import lazy_gettext as _l
from handover.plugins.manager import FormChecksUnavailable, call_hook
from handover.security import crypto
from handover.services import (
    LifecycleError,
    NotFound,
    commit_keeping_loaded,
    commit_with_audit,
    definition_of,
    earlier_handovers,
    hold_draft,
    late_drafts,
    open_json,
    retention,
    routing,
    seal_json,
)
from handover.services import attachments as attachment_service
from handover.services.policy import (
    DraftDiscarded,
    HandoverAccess,
    discarded_by_own_unit,
    may_start,
)
from handover.store import audit
from handover.store.database import db
from handover.store.models import Attachment, Handover, HandoverCopy, Unit, User
from handover.store.models.base import utcnow


class ValidationFailed(LifecycleError):
    """The content does not pass the form's rules; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("validation failed")
        self.errors = errors


class CheckedRoute(NamedTuple):
    """The sending and receiving unit of a route `check_routing` allowed: both exist."""

    sender: Unit
    receiver: Unit


#: What the routing page and the send say of a choice not made.
CHOOSE_RECEIVER = _l("Choose the receiving unit.")
CHOOSE_LEGAL_BASIS = _l("Choose the legal basis of the disclosure.")


class RoutingProblem(NamedTuple):
    """What the send would refuse in a draft's routing, and the routing page's choice it is
    about (``receiver`` for the route itself, ``legal_basis``)."""

    choice: str
    message: str


def legal_basis_keys(definition: FormDefinition) -> list[str]:
    return [getattr(choice, "value", None) or choice.key for choice in definition.legal_bases]


def check_routing(user: User, sender_unit: Unit | None, form_key: str,
                  receiver_unit: Unit | None, copy_units: Iterable[Unit | None],
                  legal_basis: str | None = None, version: int | None = None) -> CheckedRoute:
    """Refuse (RouteRefused / LifecycleError) anything the rules or the membership do not allow;
    the route's two units, once allowed. Whether ``user`` may send from ``sender_unit`` at all
    is the policy's answer (`policy.may_start`). The legal basis is checked against ``version``
    of the form: a draft's own (a later version may offer other bases), None for a new draft."""
    if sender_unit is None or not may_start(user, sender_unit.id):
        raise LifecycleError(_l("You cannot send handovers from this unit."))
    if form_key not in {definition.key for definition in routing.sendable_forms(sender_unit)}:
        raise LifecycleError(_l("Your unit cannot send this form."))
    if receiver_unit is None:
        raise LifecycleError(CHOOSE_RECEIVER)
    routing.check_route(form_key, sender_unit, receiver_unit, list(copy_units))
    offered = legal_basis_keys(definition_of(form_key, version))
    if legal_basis is not None and legal_basis not in offered:
        raise LifecycleError(CHOOSE_LEGAL_BASIS)
    return CheckedRoute(sender_unit, receiver_unit)


#: What `routing_problems` says of a copy unit, as `routing.check_route` says it.
COPY_REFUSED = _l("A copy of this form may not be sent to that unit.")
COPY_TWICE = _l("The same unit was chosen twice for a copy.")
#: What `routing_problems` says of a legal basis the form does not offer, listing those it does.
BASIS_CHOICES = _l("Choose one of: {labels}.")


def routing_problems(user: User, sender_unit: Unit | None, form_key: str,
                     receiver_unit: Unit | None, copy_units: Iterable[Unit | None],
                     legal_basis: str | None = None) -> dict[str, list[str]]:
    """{path: [message]} of everything `check_routing` refuses in a new draft's routing, each
    at the choice it is about, where `check_routing` stops at the first: ``form_key``,
    ``receiver_unit_id``, ``copy_unit_ids.N`` (the Nth copy unit) and ``legal_basis`` (listing
    the bases the form offers); ``routing`` for a refusal of the whole (the sending unit).
    Empty exactly when `check_routing` allows the route: it stays the one judge, and what it
    refuses that no single choice explains is said at ``routing``."""
    copy_units = list(copy_units)
    try:
        check_routing(user, sender_unit, form_key, receiver_unit, copy_units, legal_basis)
    except (routing.RouteRefused, LifecycleError) as refusal:
        whole = str(refusal)
    else:
        return {}
    if sender_unit is None or not sender_unit.is_active or not may_start(user, sender_unit.id):
        return {"routing": [whole]}
    if form_key not in {definition.key for definition in routing.sendable_forms(sender_unit)}:
        return {"form_key": [whole]}
    found: dict[str, list[str]] = {}
    if receiver_unit is None:
        found["receiver_unit_id"] = [str(CHOOSE_RECEIVER)]
    else:
        try:
            routing.check_route(form_key, sender_unit, receiver_unit, [])
        except routing.RouteRefused as refused:
            found["receiver_unit_id"] = [str(refused)]
    kinds = routing.copy_kinds(form_key, sender_unit.kind)
    seen: set[int] = set()
    for number, unit in enumerate(copy_units):
        if (unit is None or not unit.is_active or unit.kind not in kinds
                or unit.id == sender_unit.id
                or (receiver_unit is not None and unit.id == receiver_unit.id)):
            found[f"copy_unit_ids.{number}"] = [str(COPY_REFUSED)]
        elif unit.id in seen:
            found[f"copy_unit_ids.{number}"] = [str(COPY_TWICE)]
        else:
            seen.add(unit.id)
    offered = legal_basis_keys(definition_of(form_key))
    if legal_basis is not None and legal_basis not in offered:
        found["legal_basis"] = [str(BASIS_CHOICES).format(labels=", ".join(offered))]
    return found or {"routing": [whole]}


def routing_problem(user: User, handover: Handover,
                    units: Mapping[int, Unit]) -> RoutingProblem | None:
    """What the send's routing checks would refuse in ``handover``'s routing, or None: the
    check-answers page says it before Send is pressed, with a link to the routing page.
    ``units`` holds the handover's units by id (`policy.units_of`)."""
    receiver = units.get(handover.receiver_unit_id) if handover.receiver_unit_id else None
    copies = [units.get(copy.unit_id) for copy in handover.copies]
    try:
        check_routing(user, units.get(handover.sender_unit_id), handover.form_key, receiver,
                      copies, version=handover.form_version)
    except (routing.RouteRefused, LifecycleError) as refusal:
        return RoutingProblem("receiver", str(refusal))
    if handover.legal_basis not in legal_basis_keys(definition_of(handover)):
        return RoutingProblem("legal_basis", str(CHOOSE_LEGAL_BASIS))
    return None


def start(user: User, sender_unit: Unit | None, form_key: str, receiver_unit: Unit | None,
          copy_units: Collection[Unit] = (), legal_basis: str = "") -> Handover:
    """A new, empty draft with its routing."""
    route = check_routing(user, sender_unit, form_key, receiver_unit, copy_units,
                          legal_basis or None)
    definition = definition_of(form_key)
    handover = Handover(
        form_key=definition.key,
        form_version=definition.version,
        status="draft",
        sender_unit_id=route.sender.id,
        receiver_unit_id=route.receiver.id,
        created_by_id=user.id,
        legal_basis=legal_basis or "",
    )
    db.session.add(handover)
    db.session.flush()
    for unit in copy_units:
        handover.copies.append(HandoverCopy(unit_id=unit.id))
    handover.content = seal_json(handover, {}, crypto.Purpose.DRAFT)
    retention.keep_current(handover)
    commit_with_audit("handover.draft_created", actor=user, unit_id=route.sender.id,
                      handover_id=handover.id)
    return handover


def change_routing(user: User, handover: Handover, receiver_unit: Unit | None,
                   copy_units: Collection[Unit] = (), legal_basis: str = "") -> Handover:
    """Change receiver, copies or legal basis of a draft."""
    _hold(user, handover)
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    route = check_routing(user, sender_unit, handover.form_key, receiver_unit, copy_units,
                          legal_basis or None, version=handover.form_version)
    handover.receiver_unit_id = route.receiver.id
    handover.legal_basis = legal_basis or ""
    wanted = {unit.id for unit in copy_units}
    for copy in list(handover.copies):
        if copy.unit_id not in wanted:
            handover.copies.remove(copy)
    present = {copy.unit_id for copy in handover.copies}
    for unit_id in sorted(wanted - present):
        handover.copies.append(HandoverCopy(unit_id=unit_id))
    handover.updated_at = utcnow()
    retention.keep_current(handover)
    commit_with_audit("handover.draft_routed", actor=user, unit_id=route.sender.id,
                      handover_id=handover.id)
    return handover


def save(user: User, handover: Handover, content: Mapping[str, Any]) -> Handover:
    """Keep whatever was typed, valid or not: a draft is allowed to be incomplete. A date or
    number that could not be read is in ``content`` as typed (`content_rules.unreadable`),
    which the send's checks refuse. The send-by time follows the content (an arrival date,
    whether it was an emergency) on every save."""
    _hold(user, handover)
    handover.content = seal_json(handover, content, crypto.Purpose.DRAFT)
    handover.send_by_at = late_drafts.send_by_for(handover, content)
    child = child_hash_of(handover, content)
    detail = _naming_new_child(handover.identity_hash, child) or ""
    handover.identity_hash = child
    handover.updated_at = utcnow()
    retention.keep_current(handover)
    commit_with_audit("handover.draft_saved", actor=user, unit_id=handover.sender_unit_id,
                      handover_id=handover.id, detail=detail)
    return handover


def child_hash_of(handover: Handover, content: Mapping[str, Any]) -> str | None:
    """The keyed hash of the child's identity code in a draft's ``content`` (None without
    one), as the send stores it: the child's access report finds the draft's events (who
    opened it, its attachments, its preview) by it from the first save, not only once it is
    sent. The code itself is stored nowhere but in the sealed content."""
    field = definition_of(handover).identity_code_field
    code = content.get(field) if field else None
    return earlier_handovers.hash_of_code(code) if isinstance(code, str) else None


def _naming_new_child(before: str | None, after: str | None) -> dict[str, str] | None:
    """The detail of a save that names a child the draft did not name before (the code typed
    for the first time, or changed): the keyed hash, never the code. The draft's row keeps
    only the current child; this event keeps the draft in the report of every child it ever
    named, even after its code changes or the draft is discarded
    (`audit_search.about_child`)."""
    if after is None or after == before:
        return None
    return earlier_handovers.naming_child(after)


def content_of(handover: Handover) -> dict[str, Any]:
    """The draft's content as last saved (raises `crypto.TamperedRecord` on a damaged blob)."""
    purpose = crypto.Purpose.DRAFT if handover.status == "draft" else crypto.Purpose.CONTENT
    return open_json(handover, handover.content, purpose) or {}


@dataclass
class DraftView:
    """What the sender's editor or preview shows of a draft, already decrypted."""

    content: dict[str, Any]
    #: (attachment, its file name) of each attached file; only the editor lists them.
    attachments: list[tuple[Attachment, str | None]] = field(default_factory=list)


def open_for_editing(granted: HandoverAccess, user: Any, *, page: str = "edit") -> DraftView:
    """Read a draft for the editor (``page`` "edit") or the preview ("preview") and log that
    ``user`` saw it: the one way to read a draft's content for showing it, as
    `reader_view.open_for_reader` is for a sent handover.

    Everything is read (and checked: `crypto.TamperedRecord` propagates) first, then the event
    (``handover.draft_viewed``, naming the page, never the content) is logged and committed.
    """
    handover = granted.handover
    _require_draft(handover)
    view = DraftView(content_of(handover))
    if page == "edit":
        view.attachments = [(a, attachment_service.name_of(handover, a))
                            for a in handover.attachments]
    audit.record("handover.draft_viewed", actor=user, unit_id=granted.unit_id,
                 handover_id=handover.id, detail={"page": page})
    commit_keeping_loaded()
    return view


def discard(user: User, handover: Handover) -> None:
    """Throw a draft away entirely (it was never sent, so there is nothing to keep)."""
    _hold(user, handover)
    handover_id, unit_id = handover.id, handover.sender_unit_id
    child = _child_of_discarded(handover)
    db.session.delete(handover)
    commit_with_audit("handover.draft_discarded", actor=user, unit_id=unit_id,
                      handover_id=handover_id,
                      detail=earlier_handovers.naming_child(child) if child else "")


def _child_of_discarded(handover: Handover) -> str | None:
    """The keyed hash of the child a draft being discarded names: once its row is gone, the
    discard event is what ties the draft's events to the child's access report. A draft last
    saved before drafts kept the hash has it only in its content; a content that no longer
    opens, or whose form is gone, names nobody (the discard must still go ahead)."""
    if handover.identity_hash:
        return handover.identity_hash
    try:
        return child_hash_of(handover, content_of(handover))
    except (crypto.TamperedRecord, crypto.KeyMissing, UnknownForm):
        return None


#: Shown when the plugin that owns a form cannot check it (switched off, or failing).
FORM_CHECKS_UNAVAILABLE = _l("This form's own checks cannot run right now, so it cannot be "
                             "checked or sent. Your draft is saved. An administrator sees the "
                             "reason on the Plugins page.")


def validate_content(definition: FormDefinition, content: Mapping[str, Any],
                     sender_kind: str | None, language: str) -> dict[str, list[str]]:
    """{path: [messages]} for stored ``content``: the definition's field rules and the plugins'
    cross-field rules, all at once (as on the fill page), so that the check-answers page lists
    every problem rather than one more after each correction. The plugins see the content
    without the answers the field rules refused (`_without_refused`): in a repeating group's
    row only the refused answers are left out, so that a row's missing answer and a plugin's
    rule on another of its answers (a decision no longer in force) are listed together. The
    send path runs this on the server, so a forged or stale draft cannot be sent with what
    the form forbids."""
    errors = content_rules.problems(definition, content, sender_kind, language)
    for path, messages in plugin_problems(definition, content, sender_kind, language,
                                          refused=errors).items():
        if path not in errors:
            errors[path] = messages
    return errors


def plugin_problems(definition: FormDefinition, content: Mapping[str, Any],
                    sender_kind: str | None, language: str,
                    refused: Mapping[str, list[str]] | None = None) -> dict[str, list[str]]:
    """The plugins' cross-field messages (`validate_form`) on ``content``, by path; a path
    naming no field of the form goes to the form as a whole. The one way they are asked, by
    the fill page as by the send: the plugins see the content without what the field rules
    refused (``refused``; worked out here when not given), cleaned as it would be stored.
    `LifecycleError` (`FORM_CHECKS_UNAVAILABLE`) when the form's own plugin is switched off
    or fails."""
    if refused is None:
        refused = content_rules.problems(definition, content, sender_kind, language)
    cleaned = content_rules.cleaned(definition, _without_refused(content or {}, refused),
                                    sender_kind)
    try:
        answers = call_hook("validate_form", definition=definition, content=cleaned,
                            language=language, sender_kind=sender_kind)
    except FormChecksUnavailable:
        raise LifecycleError(FORM_CHECKS_UNAVAILABLE) from None
    return content_rules.place_answers(definition, answers, sender_kind, cleaned)


def _without_refused(content: Mapping[str, Any],
                     errors: Mapping[str, list[str]]) -> dict[str, Any]:
    """``content`` without what the field rules refused, for the plugins, whose hooks are
    promised answers that passed their field's checks, a field not filled being absent or
    empty: a field refused as a whole (a group's row count too) is left out; in a group's row,
    only the refused answer is emptied, so that the plugins still check the rest of the row.
    A row left with no answer takes its group out, as the rows must keep their numbers."""
    checked = dict(content)
    for path in errors:
        key, *rest = str(path).split(".")
        rows = checked.get(key)
        if key not in checked:
            continue
        if (len(rest) == 2 and rest[0].isdigit() and isinstance(rows, list)
                and int(rest[0]) < len(rows) and isinstance(rows[int(rest[0])], Mapping)):
            number = int(rest[0])
            row = {**rows[number], rest[1]: None}
            if any(value not in (None, "", []) for value in row.values()):
                checked[key] = [*rows[:number], row, *rows[number + 1:]]
                continue
        del checked[key]
    return checked


def checked_content(definition: FormDefinition, content: Mapping[str, Any],
                    sender_kind: str | None, language: str) -> dict[str, Any]:
    """``content`` as the fill page would have stored it, once it passes the form's rules
    (raises `ValidationFailed` with every problem). Content that comes as JSON (the API, a
    FHIR import, a reply form) is stored this way, so that a receiver never gets what the page
    could not have produced: the rules skip a field whose condition is false and take a blank
    answer as none, so such values are left out or stored as None, never passed on unchecked."""
    errors = validate_content(definition, content, sender_kind, language)
    if errors:
        raise ValidationFailed(errors)
    return content_rules.cleaned(definition, content, sender_kind)


#: Said of a content key naming no field, as the API says of an unknown field of a request.
UNKNOWN_FIELD = _l("Leave out this unknown field.")


def checked_json_content(definition: FormDefinition, content: Mapping[str, Any],
                          sender_kind: str | None, language: str) -> dict[str, Any]:
    """`checked_content` for content sent as JSON (a draft, a reply form), which also refuses
    every key naming no
    field of the form (`unknown_fields`), beside the rules' problems: left out silently, an
    integrator's typo (``allergy`` for ``allergies``) would lose what it carried."""
    unknown = content_rules.rendered(unknown_fields(definition, content), language)
    try:
        stored = checked_content(definition, content, sender_kind, language)
    except ValidationFailed as failed:
        raise ValidationFailed({**unknown, **dates_as_json_says_them(
            definition, failed.errors, language)}) from None
    if unknown:
        raise ValidationFailed(unknown)
    return stored


def dates_as_json_says_them(definition: FormDefinition, errors: Mapping[str, list[str]],
                            language: str) -> dict[str, list[str]]:
    """``errors`` with the web form's "Enter … as day.month.year" of each date that could not
    be read said as JSON writes a date, "as year-month-day" (ISO 8601): JSON content takes a
    date only as ISO text, so the web form's format would ask for what it refuses."""
    fields = {field.key: field for field in definition.fields()}
    said: dict[str, list[str]] = {}
    for path, messages in errors.items():
        field = _field_at(fields, path)
        if field is not None and field.type == "date":
            web, iso = content_rules.rendered(
                {path: [unreadable_date(field), iso_date_format(field)]}, language)[path]
            messages = [iso if message == web else message for message in messages]
        said[path] = list(messages)
    return said


def _field_at(fields: Mapping[str, Field], path: str) -> Field | None:
    """The field at ``path`` (``key``, or ``group.row.key`` in a repeating group's row)."""
    parts = str(path).split(".")
    field = fields.get(parts[0])
    if len(parts) == 1 or field is None:
        return field
    if len(parts) != 3 or field.type != "group":
        return None
    return next((sub for sub in field.fields if sub.key == parts[2]), None)


def unknown_fields(definition: FormDefinition,
                   content: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{path: [message]} of each key of ``content``, or of a repeating group's row
    (``group.row.key``), that no field of the form has. A field of the form is never unknown,
    even one this sender does not fill or whose condition is false: those are left out, as
    the page leaves them out."""
    fields = {field.key: field for field in definition.fields()}
    found: dict[str, list[Any]] = {}
    for key, value in content.items():
        field = fields.get(key)
        if field is None:
            found[key] = [UNKNOWN_FIELD]
        elif field.type == "group" and isinstance(value, list):
            subs = {sub.key for sub in field.fields}
            for number, row in enumerate(value):
                for inner in row if isinstance(row, Mapping) else ():
                    if inner not in subs:
                        found[f"{key}.{number}.{inner}"] = [UNKNOWN_FIELD]
    return found


#: What a change of a handover that is no longer a draft is told.
ALREADY_SENT = _l("This handover has already been sent.")


def _hold(user: User, handover: Handover) -> None:
    """`hold_draft` for a sender's change: refused when the draft was sent meanwhile, and
    `DraftDiscarded` (a page that says so) when a colleague of their unit deleted it."""
    handover_id = handover.id   # gone with the row once refused
    try:
        hold_draft(handover, LifecycleError(ALREADY_SENT))
    except NotFound:
        if discarded_by_own_unit(user, handover_id):
            raise DraftDiscarded(handover_id) from None
        raise


def _require_draft(handover: Handover) -> None:
    """For reading a draft: the status as loaded is enough (a change holds it: `hold_draft`)."""
    if handover.status != "draft":
        raise LifecycleError(ALREADY_SENT)


def default_language() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "fi")
