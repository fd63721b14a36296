"""The code bindings FHIR requires of the resources Handover emits, checked by Handover itself:
``fhir.resources`` validates structure and types but not which codes a required value set
allows. A resource that fails here is a bug in the export, never sent."""

from collections.abc import Iterator
from typing import Any

#: R4's required value sets for the elements Handover fills.
REQUIRED = {
    ("Task", "status"): {"draft", "requested", "received", "accepted", "rejected", "ready",
                         "cancelled", "in-progress", "on-hold", "failed", "completed",
                         "entered-in-error"},
    ("Task", "intent"): {"unknown", "proposal", "plan", "order", "original-order",
                         "reflex-order", "filler-order", "instance-order", "option"},
    ("Questionnaire", "status"): {"draft", "active", "retired", "unknown"},
    ("QuestionnaireResponse", "status"): {"in-progress", "completed", "amended",
                                          "entered-in-error", "stopped"},
    ("Communication", "status"): {"preparation", "in-progress", "not-done", "on-hold",
                                  "stopped", "completed", "entered-in-error", "unknown"},
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response",
                         "batch", "batch-response", "history", "searchset", "collection"},
}
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
              "string", "text", "url", "choice", "open-choice", "attachment", "reference",
              "quantity"}
ENABLE_WHEN_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}


class ValueSetError(ValueError):
    """A code outside its required value set; the message lists every one found."""


def check(resource: dict[str, Any]) -> None:
    """Raise `ValueSetError` naming every code of ``resource`` (and of the resources a Bundle
    holds) that its required value set does not allow."""
    problems = list(_problems(resource))
    if problems:
        raise ValueSetError("; ".join(problems))


def _problems(resource: dict[str, Any]) -> Iterator[str]:
    kind = resource.get("resourceType", "")
    for (resource_type, element), allowed in REQUIRED.items():
        if kind == resource_type and element in resource and resource[element] not in allowed:
            yield f"{kind}.{element} {resource[element]!r}"
    if kind == "Questionnaire":
        yield from _item_problems(resource.get("item", []))
    for entry in resource.get("entry", []) if kind == "Bundle" else []:
        yield from _problems(entry.get("resource", {}))


def _item_problems(items: list[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        if item.get("type") not in ITEM_TYPES:
            yield f"Questionnaire.item {item.get('linkId')!r} type {item.get('type')!r}"
        for condition in item.get("enableWhen", []):
            if condition.get("operator") not in ENABLE_WHEN_OPERATORS:
                yield f"enableWhen operator {condition.get('operator')!r}"
        yield from _item_problems(item.get("item", []))
