"""A FHIR ``QuestionnaireResponse`` to a known ``Questionnaire`` back into a form's content, so
that a sending system may create a draft from it. The content is then checked by the form's
own rules, exactly as JSON content is (`drafts.validate_content`)."""

from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from handover.formdefs import Field, FormDefinition
from handover.i18n import lazy_gettext as _l
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


class NotImportable(ValueError):
    """The resource is not a valid QuestionnaireResponse to a form of this server; ``errors``
    maps paths to messages (lazy texts, in the language of the request that reads them)."""

    def __init__(self, errors: dict[str, list[Any]]) -> None:
        super().__init__("not importable")
        self.errors = errors


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


def content_from(definition: FormDefinition, resource: dict[str, Any]) -> dict[str, Any]:
    """The content ``resource`` (validated by fhir.resources first) gives ``definition``.
    Nothing in it is left out unsaid: an item the form has no place for, a second item for
    one field, or a second answer to a field that takes one is refused at its path in the
    resource (``item.0.item.2``), as the rules refuse an unknown field of JSON content. Its
    status is one a draft is made from (`IMPORTED_STATUSES`), after FHIR's own codes."""
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
    errors: dict[str, list[Any]] = {}
    for path, item in _field_items(resource.get("item") or [], "item", sections, errors):
        field = fields.get(item.get("linkId", ""))
        if field is None:
            errors[path] = [_unknown(item)]
        elif field.type == "group":
            content.setdefault(field.key, []).append(_row(field, item, path, errors))
        elif field.key in content:
            errors[path] = [_once(item)]
        else:
            content[field.key] = _values(field, item, path, errors)
    if errors:
        raise NotImportable(errors)
    return content


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


def _row(field: Field, group: dict[str, Any], path: str,
         errors: dict[str, list[Any]]) -> dict[str, Any]:
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
