"""FHIR R4 over the API: each form as a ``Questionnaire``, each handover as a ``Bundle`` (what
this client's unit may see, audited as a read), and a draft made from a
``QuestionnaireResponse`` (checked by the form's own rules, like JSON content)."""

from flask import current_app, jsonify, request
from flask_login import current_user

from handover.formdefs.registry import UnknownForm
from handover.i18n import gettext as _
from handover.plugins import manager as plugin_manager
from handover.services import policy, reader_view
from handover.services.fhir import bundle as fhir_bundle
from handover.services.fhir import importing
from handover.services.fhir.questionnaire import questionnaire
from handover.web.api import FHIR_JSON, bp
from handover.web.api.auth import auth
from handover.web.api.handovers import BODY_REFUSALS, language, make_draft, refusals
from handover.web.api.problems import field_errors, problem, several_errors
from handover.web.api.schema_messages import InputSchema
from handover.web.api.schemas import (
    FhirImportQuery,
    FhirResource,
    HandoverState,
    IdempotencyHeader,
)


def fhir_response(resource, status=200):
    response = jsonify(resource)
    response.status_code = status
    response.mimetype = FHIR_JSON
    return response


def _resource_doc(description):
    return {"description": description,
            "content": {FHIR_JSON: {"schema": {"type": "object"}}}}


@bp.get("/forms/<form_key>/questionnaire")
@bp.auth_required(auth, roles=["forms:read"])
@bp.doc(summary="A form as a FHIR R4 Questionnaire", responses={
    200: _resource_doc("The Questionnaire (fi, with sv and en as translations)"),
    **refusals(403, 404)})
def form_questionnaire(form_key):
    try:
        definition = plugin_manager.registry(current_app).get(form_key)
    except UnknownForm:
        raise policy.NotFound(form_key) from None
    return fhir_response(questionnaire(definition))


@bp.get("/handovers/<int:handover_id>/fhir")
@bp.auth_required(auth, roles=["handover:read"])
@bp.doc(summary="A handover as a FHIR R4 Bundle", responses={
    200: _resource_doc("QuestionnaireResponse, Task, Patient, Organizations, Communications "
                       "(after the retention rule erased the content, without its answers)"),
    **refusals(403, 404, _409="Failed its integrity check")})
def handover_bundle(handover_id):
    actor = current_user._get_current_object()
    granted = policy.require(actor, handover_id, "view", with_units=True, with_counts=True)
    view = reader_view.open_for_reader(granted, actor, language=language(), draft_page="fhir")
    return fhir_response(fhir_bundle.handover_bundle(view))


@bp.post("/fhir/QuestionnaireResponse")
@bp.auth_required(auth, roles=["handover:send"])
@bp.input(FhirResource, location="json")
@bp.input(FhirImportQuery, location="query")
@bp.input(IdempotencyHeader, location="headers")
@bp.output(HandoverState, status_code=201, description="The draft made (as /drafts answers)")
@bp.doc(summary="Create a draft from a FHIR QuestionnaireResponse", responses=refusals(
    *BODY_REFUSALS, 403, 409, _404="The unit may not start handovers, or the form is unknown",
    _422="Not a QuestionnaireResponse of a known form, an item, answer, coding or element the "
    "form has no place for (at its path in the resource), an unknown query parameter, or its "
    "answers fail the form's checks (at their items; an in-progress response may leave "
    "answers out, a completed one may not)"))
def import_response(json_data, query_data, headers_data):
    """The routing comes in the query (receiving unit, copies, legal basis); the content from
    the resource's answers, keyed by linkId as the Questionnaire names them. A ``completed``
    response is checked in full, as JSON content is (`POST /drafts`); an ``in-progress`` one
    makes a draft however incomplete, its answers checked as far as they go."""
    unknown = _unknown_query_parameters()
    if unknown:
        said = str(InputSchema.error_messages["unknown"])
        return problem(422, several_errors(),
                       [{"path": f"query.{name}", "message": said} for name in unknown])
    try:
        form_key, version = importing.form_of(json_data)
        definition = plugin_manager.registry(current_app).get(form_key)
        importing.require_version(definition, version)
        found = importing.imported(definition, json_data)
    except importing.NotImportable as error:
        return problem(422, _("The resource cannot be made into a draft."),
                       field_errors(error.errors))
    except UnknownForm:
        return problem(422, _("The resource cannot be made into a draft."), [{
            "path": "questionnaire", "message": _("This server has no such form.")}])
    # The status is part of the request: the same answers completed and in progress are
    # checked differently, so one Idempotency-Key may not name both.
    told_apart = found.content if found.complete else {"in-progress": found.content}
    return make_draft(
        form_key, query_data["receiver_unit_id"], query_data["copy_unit_ids"],
        query_data["legal_basis"], told_apart, headers_data.get("idempotency_key"),
        check=lambda definition, sender_kind: importing.checked(definition, found,
                                                                 sender_kind, language()),
        routing_at="query.", form_at="questionnaire", content_at="")


def _unknown_query_parameters():
    """The query's parameters that `FhirImportQuery` does not read: refused as an unknown
    field of the body is, rather than ignored (a misspelt ``copy_unit_id`` would lose a copy)."""
    known = {field.data_key or name for name, field in FhirImportQuery().fields.items()}
    return sorted(set(request.args) - known)
