"""What a request body must be before any view of the API reads it.

- A body is JSON, labelled so: ``application/json``, or ``application/fhir+json`` for FHIR.
  Any other label (text/plain, a form) is refused with 415: the schemas read JSON only, so such
  a body was silently taken as none at all (an acknowledgement's note lost, a draft's fields
  "required").
- JSON nests at most `DEEPEST_NESTING` arrays and objects deep. Python's parser gives up
  (RecursionError, a 500) somewhere near a thousand; no request of this API nests more than a
  dozen, so a deeper body is refused as not the JSON this API reads (the documented 400),
  before it is parsed.
"""

import re
from array import array
from itertools import accumulate

from flask import request

from handover.i18n import gettext as _
from handover.web.api import bp
from handover.web.api.errors import not_json, problem

JSON_TYPES = frozenset({"application/json", "application/fhir+json"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEEPEST_NESTING = 64

#: A JSON string, whose brackets are text; escapes (``\\"``) are skipped as a pair.
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
#: Each bracket as a signed byte: +1 opens, -1 closes.
DEPTH_CHANGES = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


@bp.before_request
def _refuse_bodies_not_read():
    if request.method not in BODY_METHODS or not _has_body():
        return None
    if request.mimetype not in JSON_TYPES:
        return problem(415, _("Send the request body as JSON, with the Content-Type "
                              "application/json (application/fhir+json for FHIR)."))
    if _nests_deeper_than(request.get_data(cache=True), DEEPEST_NESTING):
        return not_json()
    return None


def _has_body():
    """Whether the request carries a body: by its length, or (sent in chunks) by reading it.
    A form is parsed (`hardening`) before this asks, so its fields count as its body."""
    return bool(request.content_length or request.form or request.files
                or request.get_data(cache=True))


def _nests_deeper_than(body, deepest):
    """Whether ``body`` opens more than ``deepest`` arrays or objects inside each other. Few
    bodies have that many brackets at all, and those are measured by regular expressions and
    itertools, not a loop per character, so a large body costs little."""
    if body.count(b"[") + body.count(b"{") <= deepest:
        return False
    brackets = NOT_BRACKETS.sub(b"", JSON_STRING.sub(b"", body))
    return max(accumulate(array("b", brackets.translate(DEPTH_CHANGES))), default=0) > deepest
