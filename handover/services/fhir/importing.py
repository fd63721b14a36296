"""A FHIR ``QuestionnaireResponse`` to a known ``Questionnaire`` back into a form's content, so
that a sending system may create a draft from it. The content is then checked by the form's
own rules (`checked`, `drafts.validate_content`): a ``completed`` response in full, as JSON
content is; an ``in-progress`` one, answered in part, only in what it answers (a draft may be
incomplete; sending it checks it in full). Each problem is said at its place in the resource.

Nothing in the resource is left out unsaid. The import reads `READ_ELEMENTS`; it takes
`SERVERS_OWN` as the server's to set on the draft it makes (its own id, labels, child, author and
time), and refuses every other element (``contained``, ``identifier``, an extension...) at its
path, as it refuses an item the form has no place for.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from handover.formdefs import Field, FormDefinition
from handover.formdefs import content as content_rules
from handover.i18n import lazy_gettext as _l
from handover.services import drafts
from handover.services.fhir.questionnaire import (
    SECTION_PREFIX,
    URL_PREFIX,
    section_link,
)

#: How a reference to one of this server's Questionnaires is written, for the messages.
REFERENCE_FORM = f"{URL_PREFIX}<form>|<version>"
#: The answer types read into a field's value (a code, text, a date or a number).
VALUE_KINDS = ("valueCoding", "valueString", "valueDate", "valueDecimal", "valueInteger",
               "valueBoolean", "valueDateTime")
#: The statuses a response may be made into a draft from: answered in full, or in part (a
#: draft may be incomplete). amended, entered-in-error and stopped say the answers are not
#: to be acted on as they stand, so they are refused rather than sent on as a handover.
IMPORTED_STATUSES = ("completed", "in-progress")
#: What pydantic adds to a path in the resource for a value that is not an object: not FHIR's.
VALIDATOR_ONLY_STEPS = frozenset({"root"})
#: The elements of the resource the draft is made of (the routing comes in the query).
READ_ELEMENTS = frozenset({"resourceType", "questionnaire", "status", "item"})
#: The elements the server sets itself on the draft it makes, read by no one: the resource's
#: id on its sender's server (the draft has its own), its meta (Handover labels the content by
#: the form's sensitive fields), its language and narrative (the answers are what is kept, and
#: Handover renders them), the child (named by the answers) and its author and time (the draft
#: is the client's unit's, made now). Handover's own export writes these, so it reads back.
SERVERS_OWN = frozenset({"id", "meta", "language", "text", "subject", "author", "authored"})
#: The status whose answers are given in full: checked as JSON content is, required ones too.
COMPLETED = "completed"


class NotImportable(ValueError):
    """The resource is not a valid QuestionnaireResponse to a form of this server; ``errors``
    maps paths to messages (lazy texts, in the language of the request that reads them)."""

    def __init__(self, errors: dict[str, list[Any]]) -> None:
        super().__init__("not importable")
        self.errors = errors


class FailsFormChecks(NotImportable):
    """The answers do not pass the form's own rules (`checked`); ``errors`` are at the paths in
    the resource of the items they are about."""


@dataclass
class Imported:
    """What a resource gives a draft: its ``content``, whether it is ``complete`` (its status
    is ``completed``), and where each field's answers are in the resource (``places``: a field
    key, a repeating group's key or ``group.row`` and ``group.row.sub``, to ``item.0.item.2``),
    so that the form's messages about them point there."""

    content: dict[str, Any]
    complete: bool
    places: dict[str, str]


def form_of(resource: dict[str, Any]) -> tuple[str, int | None]:
    """(form key, version or None) of the Questionnaire ``resource`` answers; a version that is
    not a number makes the reference malformed, not a reference to the newest version. Another
    kind of resource is refused as such first: its questionnaire means nothing."""
    _require_response(resource)
    reference = str(resource.get("questionnaire") or "")
    if not reference.startswith(URL_PREFIX):
        raise NotImportable({"questionnaire": [_l(
            "Expected a Questionnaire of this server (%(reference)s).",
            reference=REFERENCE_FORM)]})
    key, _bar, version = reference[len(URL_PREFIX):].partition("|")
    if not version:
        return key, None
    if not (version.isascii() and version.isdigit()):  # "²" is a digit to isdigit(), not to int()
        raise NotImportable({"questionnaire": [_l(
            "Expected a whole number as the version (%(reference)s).",
            reference=REFERENCE_FORM)]})
    return key, int(version)


def require_version(definition: FormDefinition, version: int | None) -> None:
    """Refuse a reference to a version of the form other than ``definition``'s (the one a new
    draft is made of): its answers were given to other questions, or to none of this server."""
    if version is not None and version != definition.version:
        raise NotImportable({"questionnaire": [_l(
            "This server makes drafts of version %(version)s of this form: give that version "
            "or none.", version=definition.version)]})


def _require_response(resource: dict[str, Any]) -> None:
    if resource.get("resourceType") != "QuestionnaireResponse":
        raise NotImportable({"resourceType": [_l("Expected a QuestionnaireResponse.")]})


def _require_imported_status(resource: dict[str, Any]) -> None:
    if resource.get("status") not in IMPORTED_STATUSES:
        raise NotImportable({"status": [_l(
            "Give the status as one of: %(statuses)s.",
            statuses=", ".join(IMPORTED_STATUSES))]})


def _resource_path(location: tuple[Any, ...]) -> str:
    """The validator's location of a problem as a path in the resource (``item.0``)."""
    steps = [str(step) for step in location if step not in VALIDATOR_ONLY_STEPS]
    return ".".join(steps) or "resource"


def imported(definition: FormDefinition, resource: dict[str, Any]) -> Imported:
    """What ``resource`` (validated by fhir.resources first) gives ``definition``.
    Nothing in it is left out unsaid: an item the form has no place for, a second item for
    one field, a second answer to a field that takes one, a coding of a system the
    Questionnaire's answer options do not have, and an element the import neither reads nor
    sets itself (`SERVERS_OWN`) are refused at their path in the resource
    (``item.0.item.2``), as the rules refuse an unknown field of JSON content. Its status is
    one a draft is made from (`IMPORTED_STATUSES`), after FHIR's own codes."""
    _require_response(resource)
    try:
        QuestionnaireResponse.model_validate(resource)
    except ValidationError as error:
        # The validator's own words are English only; they follow ours as the detail.
        raise NotImportable({_resource_path(problem["loc"]): [_l(
            "Not valid in FHIR R4: %(problem)s", problem=problem["msg"])]
            for problem in error.errors()}) from None
    _require_imported_status(resource)
    fields = {field.key: field for field in definition.fields()}
    sections = {section_link(section.key) for section in definition.sections}
    content: dict[str, Any] = {}
    places: dict[str, str] = {}
    errors: dict[str, list[Any]] = _unread_elements(resource)
    for path, item in _field_items(resource.get("item") or [], "item", sections, errors):
        field = fields.get(item.get("linkId", ""))
        if field is None:
            errors[path] = [_unknown(item)]
        elif field.type == "group":
            rows = content.setdefault(field.key, [])
            places.setdefault(field.key, path)
            places[f"{field.key}.{len(rows)}"] = path
            rows.append(_row(field, item, path, errors, places, f"{field.key}.{len(rows)}"))
        elif field.key in content:
            errors[path] = [_once(item)]
        else:
            places[field.key] = path
            content[field.key] = _values(field, item, path, errors)
    if errors:
        raise NotImportable(errors)
    return Imported(content, resource.get("status") == COMPLETED, places)


def _unread_elements(resource: dict[str, Any]) -> dict[str, list[Any]]:
    """Each element of ``resource`` that the import neither reads nor sets itself, at its
    path (a primitive's extension, ``_status``, too: it may say what the value does not)."""
    known = READ_ELEMENTS | SERVERS_OWN
    return {name: [_l("A draft has no place for %(element)s: leave it out. A draft is made of "
                      "the answers (item) alone.", element=name)]
            for name in resource
            if name not in known and not (name.startswith("_") and name[1:] in SERVERS_OWN)}


def checked(definition: FormDefinition, found: Imported, sender_kind: str | None,
            language: str) -> dict[str, Any]:
    """``found.content`` as the draft stores it, once it passes the form's rules
    (`drafts.validate_content`), or `FailsFormChecks` with every problem at its place in the
    resource. A completed response is checked in full, as JSON content is; an in-progress one
    is a draft answered in part, so what it leaves unanswered (a required field, a required
    answer in a row, too few rows) is no problem yet: sending the draft checks it in full.
    Every answer it does give must fit the form."""
    errors = drafts.validate_content(definition, found.content, sender_kind, language)
    if not found.complete:
        errors = {path: messages for path, messages in errors.items()
                  if not _unanswered(definition, found.content, path)}
    if errors:
        raise FailsFormChecks({_place(found, path): messages
                               for path, messages in errors.items()})
    return content_rules.cleaned(definition, found.content, sender_kind)


def _unanswered(definition: FormDefinition, content: Mapping[str, Any], path: str) -> bool:
    """Whether the problem at ``path`` is that something is not answered (yet)."""
    key, _dot, rest = path.partition(".")
    fields = {field.key: field for field in definition.fields()}
    field = fields.get(key)
    if field is None:   # the form's own (a plugin's message of no field)
        return False
    value = content.get(key)
    if field.type != "group":
        return not rest and content_rules.is_empty(value)
    if not isinstance(value, list) and value is not None:
        return False
    rows = [row for row in value or [] if isinstance(row, dict)]
    if not rest:   # the group's own: too few rows used is not yet answered
        used = sum(1 for row in rows if not content_rules.row_is_empty(field, row))
        return used < field.min_rows
    number, _dot, sub = rest.partition(".")
    if not number.isdigit() or int(number) >= len(rows) or not sub:
        return False
    return content_rules.is_empty(rows[int(number)].get(sub))


def _place(found: Imported, path: str) -> str:
    """Where in the resource the problem at content ``path`` is: the item of the field (of
    the row, of its sub-field), else the row it would be in, else the linkId of the item the
    resource lacks (``child_name``); a message of the whole form is at ``item``."""
    if path == content_rules.FORM_PATH:
        return "item"
    if path in found.places:
        return found.places[path]
    parts = path.split(".")
    if len(parts) == 3 and f"{parts[0]}.{parts[1]}" in found.places:
        return found.places[f"{parts[0]}.{parts[1]}"]
    return path if len(parts) == 1 else f"{parts[0]}.{parts[2]}"


def _field_items(items: list[dict[str, Any]], path: str, sections: set[str],
                 errors: dict[str, list[Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, item) of the field items, out of their section groups (whose linkIds are the
    form's section keys, prefixed); a section the form does not have is refused."""
    for number, item in enumerate(items):
        here = f"{path}.{number}"
        if not str(item.get("linkId", "")).startswith(SECTION_PREFIX):
            yield here, item
        elif item.get("linkId") in sections:
            yield from _field_items(item.get("item") or [], f"{here}.item", sections, errors)
        else:
            errors[here] = [_unknown(item)]


def _row(field: Field, group: dict[str, Any], path: str, errors: dict[str, list[Any]],
         places: dict[str, str], row_path: str) -> dict[str, Any]:
    subs = {f"{field.key}.{sub.key}": sub for sub in field.fields}
    row: dict[str, Any] = {}
    for number, item in enumerate(group.get("item") or []):
        here = f"{path}.item.{number}"
        sub = subs.get(item.get("linkId", ""))
        if sub is None:
            errors[here] = [_unknown(item)]
        elif sub.key in row:
            errors[here] = [_once(item)]
        else:
            places[f"{row_path}.{sub.key}"] = here
            row[sub.key] = _values(sub, item, here, errors)
    return row


def _values(field: Field, item: dict[str, Any], path: str,
            errors: dict[str, list[Any]]) -> Any:
    answers = item.get("answer") or []
    _refuse_unread(item, path, errors)
    values = [_value(answer) for answer in answers]
    if field.type == "multichoice":
        return values
    if len(values) > 1:
        errors[f"{path}.answer.1"] = [_l("The item %(link_id)s takes only one answer.",
                                         link_id=_link_id(item))]
    return values[0] if values else None


def _refuse_unread(item: dict[str, Any], path: str, errors: dict[str, list[Any]]) -> None:
    """What a field's item holds that no field could take: items nested in it or in its
    answers (the form has none there), and values of a type no field has."""
    answers = item.get("answer") or []
    nested = [(f"{path}.item.{n}", inner) for n, inner in enumerate(item.get("item") or [])]
    nested += [(f"{path}.answer.{a}.item.{n}", inner) for a, answer in enumerate(answers)
               for n, inner in enumerate(answer.get("item") or [])]
    for here, inner in nested:
        errors[here] = [_unknown(inner)]
    for number, answer in enumerate(answers):
        for kind in answer:
            if kind.startswith("value") and kind not in VALUE_KINDS:
                errors[f"{path}.answer.{number}.{kind}"] = [_l(
                    "Give the answer as one of: %(kinds)s.", kinds=", ".join(VALUE_KINDS))]
        coding = answer.get("valueCoding")
        if isinstance(coding, dict):
            # The Questionnaire's answer options are codes of no system: a code of another
            # system may mean something else by the same letters ("fi": Finnish, Finland).
            for element, wrong in (("system", "system" in coding),
                                   ("code", not coding.get("code"))):
                if wrong:
                    errors[f"{path}.answer.{number}.valueCoding.{element}"] = [_l(
                        "Give the code of one of the Questionnaire's answer options of "
                        "%(link_id)s, without a system: their codes have none.",
                        link_id=_link_id(item))]


def _link_id(item: dict[str, Any]) -> str:
    return str(item.get("linkId", ""))


def _unknown(item: dict[str, Any]) -> Any:
    return _l("The form has no item with linkId %(link_id)s here.", link_id=_link_id(item))


def _once(item: dict[str, Any]) -> Any:
    return _l("The item %(link_id)s may appear only once.", link_id=_link_id(item))


def _value(answer: dict[str, Any]) -> Any:
    for kind in VALUE_KINDS:
        if kind in answer:
            value = answer[kind]
            return value.get("code") if kind == "valueCoding" else value
    return None
