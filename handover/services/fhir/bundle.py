"""A handover, as its reader may see it, as a FHIR R4 ``Bundle`` (type collection):

- ``QuestionnaireResponse``: the content shown to this reader (`shown.shown_content`: the
  sections for its kind of unit, a hidden location left out), answering the form's
  ``Questionnaire`` (`questionnaire.canonical`);
- ``Task``: the transfer itself, its status draft → requested (sent) → received (opened) →
  completed (acknowledged), cancelled when withdrawn, rejected when returned; the owner is the
  receiving unit, and ``businessStatus`` says "acknowledged"; ``reasonCode`` is the legal
  basis of the disclosure (code system `LEGAL_BASIS_SYSTEM`, the form's key for it, its label
  in the reader's language), as the JSON API's ``legal_basis`` shows it to every reader; the
  receiving unit's acknowledgement note is ``Task.note``, only to a reader the JSON API and
  the page show it to (`ReaderView.note`: never a copy unit);
- ``Patient``: the child, by the identity code (``urn:oid:1.2.246.21``) when this reader sees it;
- ``Organization``: the sending, receiving and (unless the location is hidden) copy units;
- ``Communication``: each reply in the thread.

Stored content is what the form's rules allowed, but the export never trusts that: a value the
form could not have produced (an older draft, a row that is not a row) is shown as text or left
out, so that a reader gets a valid Bundle rather than an error.
"""

import json
import math
import re
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from handover.formdefs import Field, FormDefinition
from handover.formdefs.content import unreadable_text
from handover.services.fhir.questionnaire import RESTRICTED, canonical, section_link, validated
from handover.services.fhir.shown import shown_content
from handover.services.reader_view import ReaderView

IDENTITY_CODE_SYSTEM = "urn:oid:1.2.246.21"
UNIT_SYSTEM = "urn:handover:unit"
HANDOVER_SYSTEM = "urn:handover:handover"
BUSINESS_STATUS = "urn:handover:fhir:CodeSystem/handover-status"
#: The legal bases of the forms (``[[legal_bases]]``), by their keys.
LEGAL_BASIS_SYSTEM = "urn:handover:fhir:CodeSystem/legal-basis"
#: FHIR's ``code`` type: no leading, trailing or double whitespace.
FHIR_CODE = re.compile(r"^[^\s]+(\s[^\s]+)*$")
TASK_STATUS = {"draft": "draft", "sent": "requested", "opened": "received",
               "acknowledged": "completed", "withdrawn": "cancelled", "returned": "rejected"}


def handover_bundle(view: ReaderView) -> dict[str, Any]:
    """The R4 JSON Bundle of ``view`` (an already audited `reader_view.open_for_reader`)."""
    handover, definition = view.handover, view.definition
    content, _redacted = shown_content(view)
    units = [view.units[i] for i in [handover.sender_unit_id, handover.receiver_unit_id,
                                     *([] if view.hide_location else
                                       [c.unit_id for c in handover.copies])]
             if i is not None and i in view.units]
    resources: list[dict[str, Any]] = [
        {"resourceType": "Organization", "id": f"unit-{unit.id}",
         "identifier": [{"system": UNIT_SYSTEM, "value": str(unit.id)}], "name": unit.name}
        for unit in units]
    code = (content or {}).get(definition.identity_code_field or "")
    patient = None
    if isinstance(code, str) and code.strip():
        patient = {"resourceType": "Patient", "id": "child",
                   "identifier": [{"system": IDENTITY_CODE_SYSTEM, "value": code}]}
        resources.append(patient)
    response = None
    if content is not None:
        response = questionnaire_response(definition, content)
        if handover.status == "draft":
            response["status"] = "in-progress"   # the sender's own draft, read back
        response["id"] = f"content-{handover.id}"
        if patient:
            response["subject"] = {"reference": "Patient/child"}
        if handover.sent_at:
            response["authored"] = _instant(handover.sent_at)
        response["author"] = {"reference": f"Organization/unit-{handover.sender_unit_id}"}
        resources.append(response)
    resources.append(_task(view, response is not None, patient is not None))
    for reply, body in view.thread:
        text = (body or {}).get("text")
        if text is None and body is not None:
            text = json.dumps(body.get("content"), ensure_ascii=False, sort_keys=True)
        communication: dict[str, Any] = {
            "resourceType": "Communication", "id": f"reply-{reply.id}", "status": "completed",
            "partOf": [{"reference": f"Task/handover-{handover.id}"}],
            "sent": _instant(reply.created_at),
            "sender": {"reference": f"Organization/unit-{reply.unit_id}"},
            "category": [{"text": reply.kind}]}
        if text is not None:
            communication["payload"] = [{"contentString": text}]
        resources.append(communication)
    bundle = {"resourceType": "Bundle", "type": "collection",
              "identifier": {"system": HANDOVER_SYSTEM, "value": str(handover.id)},
              "entry": [{"fullUrl": f"urn:handover:{r['resourceType']}/{r['id']}",
                         "resource": r} for r in resources]}
    return validated(Bundle, bundle)


def _task(view: ReaderView, with_content: bool, with_patient: bool) -> dict[str, Any]:
    handover = view.handover
    task: dict[str, Any] = {
        "resourceType": "Task", "id": f"handover-{handover.id}",
        "identifier": [{"system": HANDOVER_SYSTEM, "value": str(handover.id)}],
        "status": TASK_STATUS.get(handover.status, "requested"), "intent": "order",
        "code": {"text": handover.form_key},
        "requester": {"reference": f"Organization/unit-{handover.sender_unit_id}"},
    }
    if handover.receiver_unit_id is not None:
        task["owner"] = {"reference": f"Organization/unit-{handover.receiver_unit_id}"}
    if with_content:
        task["focus"] = {"reference": f"QuestionnaireResponse/content-{handover.id}"}
    if with_patient:
        task["for"] = {"reference": "Patient/child"}
    if handover.sent_at:
        task["authoredOn"] = _instant(handover.sent_at)
    if handover.acknowledged_at:
        task["businessStatus"] = {"coding": [{"system": BUSINESS_STATUS,
                                              "code": "acknowledged"}], "text": "acknowledged"}
        task["lastModified"] = _instant(handover.acknowledged_at)
    if handover.due_at and view.shows_due:
        task["restriction"] = {"period": {"end": _instant(handover.due_at)}}
    reason = _legal_basis(handover.legal_basis, view.legal_basis)
    if reason:
        task["reasonCode"] = reason
    if view.note:   # None to a copy unit, as on its page and in the JSON API
        note: dict[str, Any] = {"text": view.note}
        if handover.receiver_unit_id in view.units:
            note["authorReference"] = {
                "reference": f"Organization/unit-{handover.receiver_unit_id}"}
        if handover.acknowledged_at:
            note["time"] = _instant(handover.acknowledged_at)
        task["note"] = [note]
    return task


def _legal_basis(key: str | None, label: str | None) -> dict[str, Any] | None:
    """The legal basis as a CodeableConcept: the form's key as the code (when it is a code
    FHIR allows), its label (the reader's language) as the display and the text."""
    if _is_blank(key):
        return None
    text = label if isinstance(label, str) and label.strip() else str(key)
    concept: dict[str, Any] = {"text": text}
    if _is_code(key):
        concept["coding"] = [{"system": LEGAL_BASIS_SYSTEM, "code": key, "display": text}]
    return concept


def questionnaire_response(definition: FormDefinition,
                           content: dict[str, Any]) -> dict[str, Any]:
    """``content`` (field key → value) as a completed QuestionnaireResponse to the form."""
    items = []
    sensitive = False
    for section in definition.sections:
        answered = []
        for field in section.fields:
            found = _answer_items(field, field.key, content.get(field.key))
            answered += found
            sensitive = sensitive or bool(found) and field.sensitive
        if answered:
            items.append({"linkId": section_link(section.key), "item": answered})
    response: dict[str, Any] = {"resourceType": "QuestionnaireResponse",
                                "questionnaire": canonical(definition), "status": "completed",
                                "item": items}
    if sensitive:
        response["meta"] = {"security": [RESTRICTED]}
    return response


def _answer_items(field: Field, link_id: str, value: Any) -> list[dict[str, Any]]:
    """The items answering ``field``: one per row of a repeating group (FHIR repeats the
    group item), else one with an answer per value; none when it is empty. A group's value
    that is not rows, and a row that is not a mapping, are left out."""
    if _is_blank(value):
        return []
    if field.type == "group":
        rows = []
        for row in value if isinstance(value, list) else []:
            if not isinstance(row, dict):
                continue
            inner = [item for sub in field.fields
                     for item in _answer_items(sub, f"{link_id}.{sub.key}", row.get(sub.key))]
            if inner:
                rows.append({"linkId": link_id, "item": inner})
        return rows
    values = value if isinstance(value, list) else [value]
    answers = [_answer(field, one) for one in values if not _is_blank(one)]
    return [{"linkId": link_id, "answer": answers}] if answers else []


def _answer(field: Field, value: Any) -> dict[str, Any]:
    """The answer of one value, typed as the field is when the value fits the type, else
    as text: a value the form could not have produced never makes the Bundle invalid. A
    draft's date or number kept as typed because it could not be read is that text."""
    typed = unreadable_text(value)
    if typed is not None:
        return {"valueString": typed}
    if field.type in ("yesno", "choice", "multichoice") and _is_code(value):
        return {"valueCoding": {"code": value}}
    if field.type == "date" and _is_iso_date(value):
        return {"valueDate": value}
    if field.type == "number" and _is_finite_number(value):
        return {"valueDecimal": value}
    return {"valueString": _as_text(value)}


def _is_blank(value: Any) -> bool:
    return value is None or value == [] or value == {} or (
        isinstance(value, str) and not value.strip())


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and FHIR_CODE.match(value) is not None


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        return date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _is_finite_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _instant(moment: Any) -> str:
    return moment.isoformat(timespec="seconds")
