"""A FHIR ``QuestionnaireResponse`` to a known ``Questionnaire`` back into a form's content, so
that a sending system may create a draft from it. The content is then checked by the form's
own rules, exactly as JSON content is (`drafts.validate_content`)."""

from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from handover.formdefs import Field, FormDefinition
from handover.i18n import lazy_gettext as _l
from handover.services.fhir.questionnaire import SECTION_PREFIX, URL_PREFIX

#: How a reference to one of this server's Questionnaires is written, for the messages.
REFERENCE_FORM = f"{URL_PREFIX}<form>|<version>"


class NotImportable(ValueError):
    """The resource is not a valid QuestionnaireResponse to a form of this server; ``errors``
    maps paths to messages (lazy texts, in the language of the request that reads them)."""

    def __init__(self, errors: dict[str, list[Any]]) -> None:
        super().__init__("not importable")
        self.errors = errors


def form_of(resource: dict[str, Any]) -> tuple[str, int | None]:
    """(form key, version or None) of the Questionnaire ``resource`` answers; a version that is
    not a number makes the reference malformed, not a reference to the newest version."""
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


def content_from(definition: FormDefinition, resource: dict[str, Any]) -> dict[str, Any]:
    """The content ``resource`` (validated by fhir.resources first) gives ``definition``."""
    if resource.get("resourceType") != "QuestionnaireResponse":
        raise NotImportable({"resourceType": [_l("Expected a QuestionnaireResponse.")]})
    try:
        QuestionnaireResponse.model_validate(resource)
    except ValidationError as error:
        # The validator's own words are English only; they follow ours as the detail.
        raise NotImportable({".".join(str(p) for p in problem["loc"]) or "resource": [_l(
            "Not valid in FHIR R4: %(problem)s", problem=problem["msg"])]
            for problem in error.errors()}) from None
    fields = {field.key: field for field in definition.fields()}
    content: dict[str, Any] = {}
    for item in _flatten(resource.get("item") or []):
        field = fields.get(item.get("linkId", ""))
        if field is None:
            continue
        if field.type == "group":
            content.setdefault(field.key, []).append(_row(field, item.get("item") or []))
        else:
            content[field.key] = _values(field, item.get("answer") or [])
    return content


def _flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The field items, out of their section groups (whose linkIds are section keys)."""
    found = []
    for item in items:
        if str(item.get("linkId", "")).startswith(SECTION_PREFIX):
            found.extend(_flatten(item.get("item") or []))
        else:
            found.append(item)
    return found


def _row(field: Field, items: list[dict[str, Any]]) -> dict[str, Any]:
    subs = {f"{field.key}.{sub.key}": sub for sub in field.fields}
    return {subs[item["linkId"]].key: _values(subs[item["linkId"]], item.get("answer") or [])
            for item in items if item.get("linkId") in subs}


def _values(field: Field, answers: list[dict[str, Any]]) -> Any:
    values = [_value(answer) for answer in answers]
    if field.type == "multichoice":
        return values
    return values[0] if values else None


def _value(answer: dict[str, Any]) -> Any:
    for kind in ("valueCoding", "valueString", "valueDate", "valueDecimal", "valueInteger",
                 "valueBoolean", "valueDateTime"):
        if kind in answer:
            value = answer[kind]
            return value.get("code") if kind == "valueCoding" else value
    return None
