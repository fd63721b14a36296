"""A form definition as a FHIR R4 ``Questionnaire``.

Finnish is the resource's language; Swedish and English ride along in FHIR's translation
extension on every title and text. Each section is a group item, each field an item whose
linkId is the field's key (``group.sub`` inside a repeating group); ``show_if`` becomes
``enableWhen``, a repeating group ``repeats``, and a ``sensitive`` field carries the
confidentiality label R ("restricted") of HL7's v3 Confidentiality code system.
"""

from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from handover.formdefs import Field, FormDefinition
from handover.services.fhir import valuesets

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
SECURITY_LABEL = "urn:handover:fhir:StructureDefinition/item-security-label"
RESTRICTED = {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}
URL_PREFIX = "urn:handover:questionnaire:"
SECTION_PREFIX = "section:"
#: Handover's field types as Questionnaire item types (``yesno`` is a choice of yes/no).
ITEM_TYPES = {"text": "string", "textarea": "text", "date": "date", "yesno": "choice",
              "choice": "choice", "multichoice": "choice", "hetu": "string", "phone": "string",
              "email": "string", "number": "decimal", "group": "group"}
YESNO = ({"value": "yes", "label": {"fi": "Kyllä", "sv": "Ja", "en": "Yes"}},
         {"value": "no", "label": {"fi": "Ei", "sv": "Nej", "en": "No"}})


def canonical(definition: FormDefinition) -> str:
    """The Questionnaire's canonical reference, ``url|version``."""
    return f"{URL_PREFIX}{definition.key}|{definition.version}"


def questionnaire(definition: FormDefinition) -> dict[str, Any]:
    """The R4 JSON of ``definition``, validated by fhir.resources and Handover's value sets."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"{definition.key}-{definition.version}".replace("_", "-"),
        "url": URL_PREFIX + definition.key,
        "version": str(definition.version),
        "name": "".join(part.title() for part in definition.key.split("_")),
        "status": "active",
        "language": "fi",
        **_texts("title", definition.title),
        "item": [{"linkId": section_link(section.key), "type": "group",
                  **_texts("text", section.title),
                  "item": [_item(field, field.key) for field in section.fields]}
                 for section in definition.sections],
    }
    if definition.description:
        resource.update(_texts("description", definition.description))
    if any(f.sensitive for f in _all_fields(definition)):
        resource["meta"] = {"security": [RESTRICTED]}
    return validated(Questionnaire, resource)


def section_link(key: str) -> str:
    """A section's linkId: sections and fields share one namespace of keys in a form."""
    return SECTION_PREFIX + key


def validated(model: Any, resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` parsed by its fhir.resources model, checked against the value sets, and
    emitted again as JSON (so whatever the model normalises is what is sent)."""
    emitted: dict[str, Any] = model.model_validate(resource).model_dump(
        mode="json", by_alias=True, exclude_none=True)
    valuesets.check(emitted)
    return emitted


def _item(field: Field, link_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link_id, "type": ITEM_TYPES[field.type],
                            **_texts("text", field.label)}
    if field.required:
        item["required"] = True
    if field.type in ("multichoice", "group"):
        item["repeats"] = True
    if field.max_length and field.type in ("text", "textarea"):
        item["maxLength"] = field.max_length
    choices: list[dict[str, Any]] = list(YESNO) if field.type == "yesno" else [
        {"value": c.value, "label": c.label} for c in field.choices]
    if field.type in ("yesno", "choice", "multichoice"):
        item["answerOption"] = [{"valueCoding": {"code": c["value"],
                                                 "display": c["label"].get("fi", c["value"])}}
                                for c in choices]
    if field.show_if:
        wanted = field.show_if.get("in") or [field.show_if.get("equals")]
        question = (link_id.rsplit(".", 1)[0] + "." if "." in link_id else "") + \
            field.show_if["field"]
        item["enableWhen"] = [{"question": question, "operator": "=",
                               "answerCoding": {"code": str(value)}} for value in wanted]
        if len(wanted) > 1:
            item["enableBehavior"] = "any"
    if field.sensitive:
        item["extension"] = [{"url": SECURITY_LABEL, "valueCoding": RESTRICTED}]
    if field.type == "group":
        item["item"] = [_item(sub, f"{link_id}.{sub.key}") for sub in field.fields]
    return item


def _texts(element: str, texts: dict[str, str]) -> dict[str, Any]:
    """``element`` in Finnish, with Swedish and English as translation extensions."""
    found: dict[str, Any] = {element: texts.get("fi") or next(iter(texts.values()), "")}
    translations = [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": language}, {"url": "content", "valueString": texts[language]}]}
        for language in ("sv", "en") if texts.get(language)]
    if translations:
        found["_" + element] = {"extension": translations}
    return found


def _all_fields(definition: FormDefinition) -> list[Field]:
    fields = []
    for field in definition.fields():
        fields.append(field)
        fields.extend(field.fields)
    return fields
