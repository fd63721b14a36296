"""The forms a client may read (and which its unit may send), and each as a FHIR
``Questionnaire``."""

from flask import current_app
from flask_login import current_user

from handover.plugins import manager as plugin_manager
from handover.services import routing
from handover.web.api import bp
from handover.web.api.auth import auth
from handover.web.api.handovers import language, refusals
from handover.web.api.schemas import FormList


@bp.get("/forms")
@bp.auth_required(auth, roles=["forms:read"])
@bp.output(FormList)
@bp.doc(summary="The forms, and which the client's unit may send",
        responses=refusals(403))
def forms():
    actor = current_user._get_current_object()
    sendable = ({d.key for d in routing.sendable_forms(actor.unit)}
                if actor.unit is not None else set())
    return {"forms": [
        {"key": d.key, "version": d.version, "title": d.title_in(language()),
         "sendable": d.key in sendable}
        for d in plugin_manager.registry(current_app).forms()]}
