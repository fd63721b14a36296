"""The inbox, one handover, acknowledging, replying, drafting and sending, for integration
clients. Every view asks the one access policy with the client as the user (its unit and the
roles its scopes imply) and calls the same service function as the page does."""

from flask_login import current_user
from marshmallow import RAISE
from sqlalchemy.exc import IntegrityError

from handover.i18n import current_locale
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.security import crypto
from handover.services import (
    disclosures,
    drafts,
    listing,
    listing_keyset,
    policy,
    reader_view,
    reading,
    sending,
)
from handover.services import idempotency_keys as keys
from handover.services import replies as reply_service
from handover.services.accounts import units_by_id
from handover.services.fhir import importing
from handover.services.fhir.shown import shown_content
from handover.store.database import db
from handover.web.api import bp, cursors
from handover.web.api.auth import auth
from handover.web.api.problems import field_errors, problem, several_errors
from handover.web.api.schemas import (
    AcknowledgeIn,
    DraftIn,
    HandoverOut,
    HandoverState,
    IdempotencyHeader,
    InboxPage,
    InboxQuery,
    ReplyCreated,
    ReplyFormIn,
    ReplyIn,
)

#: What each refusal means, for the document; every operation may answer 400 (a body that is
#: not JSON), 401, 429 and 503 too.
REFUSALS = {400: "The body is not JSON", 401: "No valid token", 403: "The token lacks the "
            "scope", 404: "Not found, or not this client's unit's", 409: "Not possible in the "
            "handover's present state (also when its content was erased)",
            410: "The content was erased under the retention rule while this request was "
            "being answered", 413: "The request body is over the size limit",
            415: "A body not labelled application/json (or application/fhir+json)",
            422: "Bad input; every error with its field path",
            429: "Too many requests from this client, or too many refused tokens from it "
            "(Retry-After)",
            503: "The database cannot be reached now (Retry-After), or the form of this "
            "handover is not in use on this server until its plugin is back; nothing is lost"}


#: What an operation that takes a body (or is a POST, which may carry one) may answer too.
BODY_REFUSALS = (413, 415)


def refusals(*codes, **described):
    """The error answers of an operation: the common ones, ``codes`` and ``described``."""
    found = {code: REFUSALS[code] for code in (400, 401, 429, 503, *codes)}
    found.update({int(code.lstrip("_")): text for code, text in described.items()})
    return found


def language():
    return str(current_locale())


def client():
    return current_user._get_current_object()


@bp.get("/inbox")
@bp.auth_required(auth, roles=["inbox:read"])
@bp.input(InboxQuery, location="query", unknown=RAISE)
@bp.output(InboxPage)
@bp.doc(summary="The unit's inbox", responses=refusals(403, 422))
def inbox(query_data):
    """Handovers that came to the client's unit (received or copied), newest first, 20 a
    page. Each summary shown is audited as a read under the client's name. Follow ``next``
    (as ``cursor``) to walk the list: a page number shifts when reading takes handovers out
    of the filter, a cursor does not."""
    filters = {"status": query_data["status"], "form_key": query_data["form"],
               "language": language(), "sent_from": query_data["sent_from"],
               "sent_until": query_data["sent_until"]}
    if query_data["cursor"] is not None:
        page = listing_keyset.inbox_after(client(), query_data["cursor"], **filters)
    else:
        page = listing.inbox(client(), page=query_data["page"] or 1, **filters)
    return {
        "items": [{
            "id": row.handover.id, "form_key": row.handover.form_key, "form_title": row.title,
            "status": row.handover.status, "sender_unit_id": row.handover.sender_unit_id,
            "receiver_unit_id": row.handover.receiver_unit_id,
            "sent_at": row.handover.sent_at, "due_at": row.handover.due_at,
            "overdue": row.overdue, "replied": row.replied, "summary": row.summary,
        } for row in page.rows],
        "page": page.page or None, "per_page": page.per_page, "total": page.total,
        "more": page.more, "has_next": page.has_next, "next": cursors.cursor_for(page.next_key),
    }


@bp.get("/handovers/<int:handover_id>")
@bp.auth_required(auth, roles=["handover:read"])
@bp.output(HandoverOut)
@bp.doc(summary="One handover as its reader sees it", responses=refusals(
    403, 404, _409="Failed its integrity check"))
def handover(handover_id):
    """What a member of the client's unit may see: the sections meant for its kind of unit,
    fields revealing a hidden location left out (listed in ``redacted``). The read is audited;
    the receiving unit's first read opens the handover. A sending client reading its own draft
    gets the draft as last saved (status ``draft``), audited as a draft read. A handover whose
    content the retention rule erased is still answered (200): ``erased`` true, ``erased_at``
    when, no content, thread, files or note; its record (units, times, status) stays, as on
    the page."""
    granted = policy.require(client(), handover_id, "view", with_units=True, with_counts=True)
    view = reader_view.open_for_reader(granted, client(), language=language())
    return handover_json(view)


def handover_json(view):
    handover = view.handover
    content, redacted = shown_content(view)

    def unit(unit_id):
        found = view.units.get(unit_id)
        return {"id": found.id, "name": found.name, "kind": found.kind} if found else None

    return {
        "id": handover.id, "form_key": handover.form_key, "form_version": handover.form_version,
        "status": handover.status, "relation": view.granted.relation,
        "sender_unit": unit(handover.sender_unit_id),
        "receiver_unit": unit(handover.receiver_unit_id),
        "copy_units": [] if view.hide_location else [unit(c.unit_id) for c in handover.copies],
        "legal_basis": handover.legal_basis or None, "sent_at": handover.sent_at,
        "opened_at": handover.opened_at, "acknowledged_at": handover.acknowledged_at,
        "due_at": handover.due_at if view.shows_due else None, "overdue": view.overdue,
        "withdrawn": view.withdrawn, "erased": handover.erased_at is not None,
        "erased_at": handover.erased_at,
        "replaced_by": view.replaced_by, "content": content, "redacted": redacted,
        "thread": [{
            "id": reply.id, "kind": reply.kind, "unit_id": reply.unit_id,
            "author": getattr(view.authors.get(reply.author_id), "name", None),
            "created_at": reply.created_at,
            "text": (body or {}).get("text"), "content": (body or {}).get("content"),
            "legal_basis": reply.legal_basis or None,
        } for reply, body in view.thread],
        "attachments": [{"id": a.id, "name": name, "media_type": a.media_type, "size": a.size}
                        for a, name in view.attachments],
        "acknowledgement_note": view.note,
        "actions": sorted(view.granted.actions),
    }


def state_json(handover):
    return {"id": handover.id, "status": handover.status, "form_key": handover.form_key,
            "sent_at": handover.sent_at, "due_at": handover.due_at,
            "acknowledged_at": handover.acknowledged_at}


@bp.post("/handovers/<int:handover_id>/acknowledge")
@bp.auth_required(auth, roles=["handover:acknowledge"])
@bp.input(AcknowledgeIn, location="json")
@bp.output(HandoverState)
@bp.doc(summary="Acknowledge receipt", responses=refusals(*BODY_REFUSALS, 403, 404, 409, 410,
                                                           422))
def acknowledge(handover_id, json_data):
    """Acknowledge on behalf of the receiving unit, with an optional short note."""
    granted = policy.require(client(), handover_id, "acknowledge")
    return state_json(reading.acknowledge(granted, client(), json_data.get("note")))


@bp.post("/handovers/<int:handover_id>/replies")
@bp.auth_required(auth, roles=["reply:send"])
@bp.input(ReplyIn, location="json")
@bp.output(ReplyCreated, status_code=201)
@bp.doc(summary="Reply with a message", responses=refusals(*BODY_REFUSALS, 403, 404, 409,
                                                            410, 422))
def reply(handover_id, json_data):
    """A free-text message in the handover's thread, from the sending or the receiving unit."""
    granted = policy.require(client(), handover_id, "reply")
    refused = basis_refused(granted, json_data.get("legal_basis"))
    if refused:
        return problem(422, several_errors(), refused)
    made = reply_service.add_message(granted, client(), json_data["message"],
                                     json_data.get("legal_basis"))
    return reply_created(made, handover_id)


def reply_created(made, handover_id):
    return {"id": made.id, "kind": made.kind, "handover_id": handover_id,
            "legal_basis": made.legal_basis or None}


def basis_refused(granted, basis):
    """The error (at ``legal_basis``, naming the bases allowed) of a reply's basis that is not
    among those its unit's reply may rest on (`disclosures.reply_bases`); none when it is, or
    when none is chosen (the first of the list is recorded, as for older clients)."""
    if basis is None:
        return []
    allowed = [choice.value for choice in disclosures.reply_bases(granted.handover,
                                                                  granted.unit_id)]
    if basis in allowed:
        return []
    return [{"path": "legal_basis",
             "message": str(drafts.BASIS_CHOICES).format(labels=", ".join(allowed))}]


@bp.post("/handovers/<int:handover_id>/reply-forms/<form_key>")
@bp.auth_required(auth, roles=["reply:send"])
@bp.input(ReplyFormIn, location="json")
@bp.output(ReplyCreated, status_code=201)
@bp.doc(summary="Reply with one of the handover's reply forms",
        responses=refusals(*BODY_REFUSALS, 403, 404, 409, 410, 422))
def reply_form(handover_id, form_key, json_data):
    """The receiving unit's answer with a reply form its definition offers (e.g. the ward's
    "received, primary nurse, care meeting"), checked by the same rules as the page's form; a
    key naming no field of the reply form is refused at its path, as in a draft."""
    granted = policy.require(client(), handover_id, "reply_form")
    definition = reply_service.reply_form(granted.handover, form_key)
    if definition is None:
        return no_such_reply_form(granted.handover)
    if definition.acknowledges and not client().has_scope("handover:acknowledge"):
        # A receipt acknowledges the handover too: not through a token that may not.
        return problem(403, _("This reply form also acknowledges the handover: the token "
                              "needs the handover:acknowledge scope."))
    refused = basis_refused(granted, json_data.get("legal_basis"))
    try:
        content = drafts.checked_json_content(definition, json_data["content"], None,
                                              language())
    except drafts.ValidationFailed as failed:
        if not refused:
            raise
        return problem(422, several_errors(), refused + field_errors(failed.errors, "content."))
    if refused:
        return problem(422, several_errors(), refused)
    made = reply_service.add_form_reply(granted, client(), definition.key, content,
                                        json_data.get("legal_basis"))
    return reply_created(made, handover_id)


def no_such_reply_form(handover):
    """404 for a reply-form key the handover's form does not offer, naming those it does: the
    handover is the client's (the policy let it through), so its reply forms are no secret."""
    keys = [definition.key for definition in reply_service.reply_forms(handover)]
    if keys:
        message = _("This reply form does not exist for this handover. Its reply forms: "
                    "%(keys)s.", keys=", ".join(keys))
    else:
        message = _("This reply form does not exist for this handover: it has no reply "
                    "forms.")
    return problem(404, message, [{"path": "form_key", "message": message}])


@bp.post("/drafts")
@bp.auth_required(auth, roles=["handover:send"])
@bp.input(DraftIn, location="json")
@bp.input(IdempotencyHeader, location="headers")
@bp.output(HandoverState, status_code=201)
@bp.doc(summary="Create a draft from JSON", responses=refusals(
    *BODY_REFUSALS, 403, 409, _404="The unit may not start handovers",
    _422="Routing or content refused; every error with its field path"))
def create_draft(json_data, headers_data):
    """Route and fill a draft in one call. The content is checked with the form's own rules
    (the web form's messages; every error with its path, e.g. ``content.child_name``) and
    nothing is stored unless it passes; what is stored is what the web form would store. A
    key that names no field of the form is refused at its path, as an unknown field is. With
    ``Idempotency-Key``, a retry answers with the draft the first request made; the key
    reused for a different request is refused (422)."""
    return make_draft(json_data["form_key"], json_data["receiver_unit_id"],
                      json_data["copy_unit_ids"], json_data["legal_basis"],
                      json_data["content"], headers_data.get("idempotency_key"))


def make_draft(form_key, receiver_unit_id, copy_unit_ids, legal_basis, content, key, *,
               check=None, routing_at="", form_at="form_key", content_at="content."):
    """A checked draft made for the client. With an Idempotency-Key, only the request that
    claims the key makes a draft (checked first, so a refused request claims nothing); a
    concurrent one with the key answers as its repeat. Every problem of the routing (each at
    its field: `routing_refusals`) and of the content is refused at once, in one 422.

    ``content`` is what tells a key's requests apart. ``check(definition, sender_kind)`` gives
    what the draft stores, or raises `ContentRefused` with errors at paths below
    ``content_at`` (by default JSON content, `drafts.checked_json_content`). A FHIR import
    gives its own check and paths: its routing comes in the query (``routing_at``), its form
    in the resource (``form_at``), its content's errors at their places in the resource."""
    if check is None:
        def check(definition, sender_kind):
            return drafts.checked_json_content(definition, content, sender_kind, language())
    actor = client()
    operation = (draft_operation(form_key, receiver_unit_id, copy_unit_ids, legal_basis, content)
                 if key else None)
    if key:
        earlier = keys.remembered(actor, key, operation)
        if earlier is not None:
            return _made_before(actor, earlier)
    unit = policy.require_start(actor, actor.unit.id if actor.unit else None)
    found = units_by_id([receiver_unit_id, *copy_unit_ids])
    receiver = found.get(receiver_unit_id)
    copies = [found.get(unit_id) for unit_id in copy_unit_ids]
    refused = [{**error, "path": form_at} if error["path"] == f"{routing_at}form_key" else error
               for error in routing_refusals(actor, unit, form_key, receiver, copies,
                                             legal_basis, routing_at)]
    stored = None
    if not any(error["path"] in (form_at, "routing") for error in refused):
        definition = drafts.definition_of(form_key)
        try:
            stored = check(definition, unit.kind)
        except ContentRefused as failed:
            if not refused:
                return problem(422, _("The content does not pass the form's checks."),
                               field_errors(failed.errors, content_at))
            refused += field_errors(failed.errors, content_at)
    if refused:
        message = refused[0]["message"] if len(refused) == 1 else several_errors()
        return problem(422, message, refused)
    if key:
        earlier = keys.claim_or_wait(actor, key, operation)
        if earlier is not None:
            return _made_before(actor, earlier)
    draft = None
    try:
        draft = drafts.start(actor, unit, definition.key, receiver, [c for c in copies if c],
                             legal_basis)
        drafts.save(actor, draft, stored)
    except BaseException:   # a worker stopped midway too: its retry must not wait on it
        if key:
            keys.release(actor, key)
        if draft is not None:
            _discard_unsaved(actor, draft)
        raise
    if key and (named := keys.fulfil(actor, key, draft.id)) != draft.id:
        drafts.discard(actor, draft)   # a request that took over the key made its draft first
        return _made_before(actor, named)
    return state_json(draft), 201


#: What a draft's content check raises: its ``errors`` map paths to messages.
ContentRefused = (drafts.ValidationFailed, importing.FailsFormChecks)


#: Said of a unit id in a draft's routing that names no unit.
NO_SUCH_UNIT = _l("No unit has this id.")


def routing_refusals(actor, unit, form_key, receiver, copies, legal_basis, routing_at=""):
    """Every problem of a new draft's routing (`drafts.routing_problems`) as the API's errors,
    at the paths of the request's own fields (``routing_at`` before them: "query." for a
    routing given in the query), an id that names no unit said so."""
    found = drafts.routing_problems(actor, unit, form_key, receiver, copies, legal_basis)
    if "receiver_unit_id" in found and receiver is None:
        found["receiver_unit_id"] = [str(NO_SUCH_UNIT)]
    for number, copy in enumerate(copies):
        if f"copy_unit_ids.{number}" in found and copy is None:
            found[f"copy_unit_ids.{number}"] = [str(NO_SUCH_UNIT)]
    whole = found.pop("routing", [])
    return ([{"path": "routing", "message": str(message)} for message in whole]
            + field_errors(found, routing_at))


def _discard_unsaved(actor, draft):
    """A draft started but not saved is empty: the client was refused (or the server failed),
    so it must not find an empty draft of its request in the unit's drafts."""
    db.session.rollback()
    drafts.discard(actor, draft)


def _made_before(actor, handover_id):
    """The answer to a repeat: the draft the key's first request made, as it is now."""
    return state_json(policy.require(actor, handover_id, "view").handover), 201


def draft_operation(form_key, receiver_unit_id, copy_unit_ids, legal_basis, content):
    """What an Idempotency-Key remembers a draft request as: ``draft:`` and the request's
    keyed fingerprint, so that the key reused for another draft (another child) is refused
    rather than answered with the first one. It fits the key's 64-character column."""
    return "draft:" + crypto.request_fingerprint(
        [form_key, receiver_unit_id, list(copy_unit_ids), legal_basis, content])


@bp.post("/handovers/<int:handover_id>/send")
@bp.auth_required(auth, roles=["handover:send"])
@bp.input(IdempotencyHeader, location="headers")
@bp.output(HandoverState)
@bp.doc(summary="Send a draft", responses=refusals(
    *BODY_REFUSALS, 403, 404, 409, 410,
    _422="Routing or content refused; every error with its field path"))
def send(handover_id, headers_data):
    """Send a draft: routing and content are checked again, as on the page. With
    ``Idempotency-Key``, sending again answers with the handover the first send made."""
    actor = client()
    key = headers_data.get("idempotency_key")
    operation = f"send:{handover_id}"
    if key and keys.remembered(actor, key, operation) is not None:
        return state_json(policy.require(actor, handover_id, "view").handover)
    granted = policy.require(actor, handover_id, "send")
    if key:   # written by the send's own commit, or rolled back with it
        keys.remember(actor, key, operation, handover_id, commit=False)
    try:
        sent = sending.send(actor, granted.handover,
                            keys.submission_token(actor, key) if key else None,
                            language=language())
    except IntegrityError:   # a concurrent retry with the same key remembered it first
        db.session.rollback()
        return state_json(policy.require(actor, handover_id, "view").handover)
    return state_json(sent)
