"""The shapes of the JSON API's requests and answers (marshmallow, through APIFlask), which the
OpenAPI document is generated from. Content is a form's own JSON (keys are the form's field
keys), so it is an object of any values here; the form's rules check it (422 with paths).

Every input is checked here, before a service or the database sees it: an id the database
could not hold or a time without its offset is bad input (422 with its path), not a failure of
the server.

An id in a JSON body is a JSON integer: 5.9 is refused, not routed to unit 5 (the query's
text "5.9" is refused as not a whole number already).

Every input schema is an `InputSchema` and every Length, OneOf and Range check is made with
`schema_messages`, so that each refusal is in the language the request asks for."""

from datetime import UTC

from apiflask import Schema
from apiflask.fields import (
    AwareDateTime,
    Boolean,
    DateTime,
    Dict,
    Integer,
    List,
    Nested,
    Raw,
    String,
)
from marshmallow import INCLUDE, ValidationError, validates_schema

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.services.listing import LIST_STATUSES
from handover.web import LARGEST_ID
from handover.web.api.cursors import Cursor
from handover.web.api.schema_messages import InputSchema, length, one_of, within


def id_range(smallest=1):
    """What an id may be: a number the database can hold, from ``smallest``. A larger one is
    the client's mistake (422 with its path), not a database error (500) further on."""
    return within(smallest, LARGEST_ID)


def json_id(**options):
    """An id in a JSON body: a JSON integer in `id_range`, never a fraction cut to a whole."""
    return Integer(strict=True, validate=id_range(), **options)


class TimeInUtcRange(AwareDateTime):
    """A time with its offset whose UTC value is a time too: 0001-01-01T00:00:00+14:00 is
    before year 1 in UTC, which no database column (nor Python) can hold, so it is the
    client's mistake (422 at its path), not an overflow further on (500)."""

    default_error_messages = {"out_of_range": [_l(
        "Give a time that is between the years 1 and 9999 in UTC too.")]}

    def _deserialize(self, value, attr, data, **kwargs):
        found = super()._deserialize(value, attr, data, **kwargs)
        try:
            found.astimezone(UTC)
        except OverflowError:
            raise self.make_error("out_of_range") from None
        return found


def time_with_offset(description):
    """A time filter. A time without an offset could be any of some 26 hours; guessing which
    would silently move the filter's edge, so the client is asked to say (`InputSchema`
    gives the message)."""
    return TimeInUtcRange(load_default=None, metadata={"description": description})


def not_blank(text):
    """Only spaces is no message: refused here with its path, as the service would refuse it."""
    if not text.strip():
        raise ValidationError(_("Write a message."))


class Problem(Schema):
    """Every error answer."""

    status = Integer(required=True)
    message = String(required=True)
    errors = List(Nested({"path": String(required=True), "message": String(required=True)}),
                  required=True)


#: `Problem` as an OpenAPI schema, for APIFlask's error responses.
PROBLEM_SCHEMA = {
    "type": "object", "required": ["status", "message", "errors"],
    "properties": {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["path", "message"],
            "properties": {"path": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


class InboxQuery(InputSchema):
    page = Integer(load_default=None, validate=within(1, 1000), metadata={
        "description": "Page number (offset paging; 1 when neither this nor `cursor` is "
                       "given). Reading a handover can move it out of a filter and the "
                       "following ones up a page: to walk a list that changes, use `cursor`."})
    cursor = Cursor(load_default=None, metadata={
        "description": "The `next` of the previous answer, with the same filters: the page "
                       "after it. Every handover that matches is listed once, even when "
                       "reading takes earlier ones out of the filter."})
    status = String(load_default="", validate=one_of(["", *LIST_STATUSES]))
    form = String(load_default="", validate=length(100))
    sent_from = time_with_offset("Only handovers sent at or after this time (ISO 8601 with "
                                 "offset).")
    sent_until = time_with_offset("Only handovers sent before this time (ISO 8601 with offset).")

    @validates_schema
    def _one_way_of_paging(self, data, **kwargs):
        """A page number counts from the first match, a cursor from its place: both at once
        name two different pages."""
        if data.get("cursor") is not None and data.get("page") is not None:
            raise ValidationError(_("Give either page or cursor, not both."), "cursor")


class UnitOut(Schema):
    id = Integer(required=True)
    name = String(required=True)
    kind = String(required=True)


class InboxItem(Schema):
    id = Integer(required=True)
    form_key = String(required=True)
    form_title = String(required=True)
    status = String(required=True)
    sender_unit_id = Integer(required=True)
    receiver_unit_id = Integer(allow_none=True)
    sent_at = DateTime(allow_none=True)
    due_at = DateTime(allow_none=True)
    overdue = Boolean(required=True)
    replied = Boolean(required=True)
    summary = Dict(keys=String(), values=Raw(allow_none=True), allow_none=True)


class InboxPage(Schema):
    items = List(Nested(InboxItem), required=True)
    page = Integer(required=True, allow_none=True, metadata={
        "description": "The page number; null on a page asked for by `cursor`."})
    per_page = Integer(required=True)
    total = Integer(required=True, metadata={"description": "Matches now, on every page."})
    more = Boolean(required=True, metadata={"description": "More matches than `total` counts."})
    has_next = Boolean(required=True)
    next = String(required=True, allow_none=True, metadata={
        "description": "Opaque: pass it back as `cursor` (with the same filters) for the "
                       "following page; null on the last page."})


class ReplyOut(Schema):
    id = Integer(required=True)
    kind = String(required=True)
    unit_id = Integer(required=True)
    author = String(allow_none=True)
    created_at = DateTime(required=True)
    text = String(allow_none=True)
    content = Dict(keys=String(), values=Raw(allow_none=True), allow_none=True)
    legal_basis = String(allow_none=True, metadata={
        "description": "The legal basis of disclosure the reply was recorded with."})


class AttachmentOut(Schema):
    id = Integer(required=True)
    name = String(allow_none=True)
    media_type = String(required=True)
    size = Integer(required=True)


class HandoverOut(Schema):
    id = Integer(required=True)
    form_key = String(required=True)
    form_version = Integer(required=True)
    status = String(required=True)
    relation = String(required=True, metadata={"description": "sending, receiving or copy"})
    sender_unit = Nested(UnitOut, required=True)
    receiver_unit = Nested(UnitOut, allow_none=True)
    copy_units = List(Nested(UnitOut), required=True)
    legal_basis = String(allow_none=True)
    sent_at = DateTime(allow_none=True)
    opened_at = DateTime(allow_none=True)
    acknowledged_at = DateTime(allow_none=True)
    due_at = DateTime(allow_none=True)
    overdue = Boolean(required=True)
    withdrawn = Boolean(required=True)
    erased = Boolean(required=True, metadata={
        "description": "The retention rule erased the content: `content` is null and the "
                       "thread, attachments and note are empty; the record stays."})
    erased_at = DateTime(allow_none=True)
    replaced_by = List(Integer(), required=True)
    content = Dict(keys=String(), values=Raw(allow_none=True), allow_none=True)
    redacted = List(String(), required=True, metadata={
        "description": "Paths of fields left out to protect where the child lives."})
    thread = List(Nested(ReplyOut), required=True)
    attachments = List(Nested(AttachmentOut), required=True)
    acknowledgement_note = String(allow_none=True)
    actions = List(String(), required=True, metadata={
        "description": "What this client's unit may do with the handover now. `view`, "
        "`acknowledge`, `reply`, `reply_form` and `send` are operations of this API; the "
        "others (such as `withdraw`, `correct`, `close`, `print`) are done by the unit's "
        "staff on the web pages."})


class HandoverState(Schema):
    id = Integer(required=True)
    status = String(required=True)
    form_key = String(required=True)
    sent_at = DateTime(allow_none=True)
    due_at = DateTime(allow_none=True)
    acknowledged_at = DateTime(allow_none=True)


class AcknowledgeIn(InputSchema):
    note = String(load_default="", validate=length(2000))


def reply_basis():
    """A reply's own legal basis of disclosure (optional: the first allowed when left out)."""
    return String(load_default=None, validate=length(100, smallest=1), metadata={
        "description": "The reply's legal basis of disclosure: one of those its unit's reply "
                       "may rest on (a reply form's own list for the receiving unit, else the "
                       "handover form's). Left out: the first of them is recorded. Another "
                       "value is 422 at `legal_basis`, naming those allowed."})


class ReplyIn(InputSchema):
    message = String(required=True, validate=[not_blank, length(5000)])
    legal_basis = reply_basis()


class ReplyFormIn(InputSchema):
    content = Dict(keys=String(), values=Raw(allow_none=True), required=True)
    legal_basis = reply_basis()


class ReplyCreated(Schema):
    id = Integer(required=True)
    kind = String(required=True)
    handover_id = Integer(required=True)
    legal_basis = String(allow_none=True, metadata={
        "description": "The legal basis of disclosure the reply was recorded with."})


class DraftIn(InputSchema):
    form_key = String(required=True, validate=length(100, smallest=1))
    receiver_unit_id = json_id(required=True)
    copy_unit_ids = List(json_id(), load_default=list)
    legal_basis = String(required=True, validate=length(100, smallest=1))
    content = Dict(keys=String(), values=Raw(allow_none=True), required=True)


class IdempotencyHeader(InputSchema):
    idempotency_key = String(data_key="Idempotency-Key", validate=length(200, smallest=1),
                             metadata={"description": "The same key again makes nothing new."})


class FormOut(Schema):
    key = String(required=True)
    version = Integer(required=True)
    title = String(required=True)
    sendable = Boolean(required=True, metadata={
        "description": "Whether this client's unit may send it."})


class FormList(Schema):
    forms = List(Nested(FormOut), required=True)


class FhirResource(InputSchema):
    """Any FHIR resource: fhir.resources checks it; only its type is required here."""

    class Meta:
        unknown = INCLUDE

    resourceType = String(required=True)  # noqa: N815 (FHIR's own name)


class FhirImportQuery(InputSchema):
    receiver_unit_id = Integer(required=True, validate=id_range())
    copy_unit_ids = List(Integer(validate=id_range()), load_default=list)
    legal_basis = String(required=True, validate=length(100, smallest=1))


class AuditQuery(InputSchema):
    after_id = Integer(load_default=0, validate=id_range(smallest=0))
    limit = Integer(load_default=500, validate=within(1, 1000))
    since = time_with_offset("Only events at or after this time (ISO 8601 with offset).")
    until = time_with_offset("Only events before this time (ISO 8601 with offset).")
    action = String(load_default="", validate=length(64))
    unit_id = Integer(load_default=None, validate=id_range())
    child_hash = String(load_default="", validate=length(64), metadata={
        "description": "The keyed hash of a child's identity code, as on their handovers."})


class AuditEventOut(Schema):
    id = Integer(required=True)
    occurred_at = String(required=True, metadata={
        "description": "UTC, ISO 8601 with microseconds: exactly as hashed."})
    actor_id = Integer(allow_none=True)
    actor_label = String(required=True)
    unit_id = Integer(allow_none=True)
    action = String(required=True)
    handover_id = Integer(allow_none=True)
    outcome = String(required=True)
    client_address = String(required=True)
    detail = String(required=True)
    previous_hash = String(required=True)
    row_hash = String(required=True)


class ChainHead(Schema):
    id = Integer(allow_none=True)
    row_hash = String(required=True)


class AuditPage(Schema):
    events = List(Nested(AuditEventOut), required=True)
    next_after_id = Integer(allow_none=True)
    chain_head = Nested(ChainHead, required=True)
