"""What a request body must be before any view of the API reads it.

- A body is JSON, labelled so: ``application/json``, or ``application/fhir+json`` for FHIR.
  Any other label (text/plain, a form) is refused with 415: the schemas read JSON only, so such
  a body was silently taken as none at all (an acknowledgement's note lost, a draft's fields
  "required").
- JSON nests at most `DEEPEST_NESTING` arrays and objects deep. Python's parser gives up
  (RecursionError, a 500) somewhere near a thousand; no request of this API nests more than a
  dozen, so a deeper body is refused (400, saying it is nested too deeply), before it is
  parsed.
- An object gives each key once. JSON parsers differ on ``{"message": "a", "message": "b"}``
  (Python's keeps the last), so the sender and this server could read different requests:
  such a body is refused (422 at the repeated key's path), never read as one of its values.
"""

import json
import re
from array import array
from itertools import accumulate

from flask import request

from handover.i18n import gettext as _
from handover.web.api import bp
from handover.web.api.problems import problem

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
    body = request.get_data(cache=True)
    if _nests_deeper_than(body, DEEPEST_NESTING):
        return problem(400, _("The request body is nested too deeply: JSON here holds at most "
                              "%(deepest)s arrays and objects inside each other.",
                              deepest=DEEPEST_NESTING))
    repeated = _repeated_keys(body)
    if repeated:
        message = _("An object of the request body gives a key more than once: %(keys)s. "
                    "Give each key once.", keys=", ".join(
                        sorted({f'"{path[-1]}"' for path in repeated})))
        return problem(422, message, [
            {"path": ".".join(str(part) for part in path),
             "message": _("This key is given more than once in its object: give it once.")}
            for path in repeated])
    return None


class _Repeating(dict):
    """An object of the body that gave some of its keys more than once (``repeated``)."""

    repeated: list


def _repeated_keys(body):
    """The paths (tuples of keys and indexes) of the keys an object of the JSON ``body`` gives
    more than once; none for a body that is not JSON at all (webargs refuses that with 400).
    Only a body with such an object is walked for their paths."""
    seen = []

    def pairs(items):
        found, repeated = {}, []
        for key, value in items:
            if key in found and key not in repeated:
                repeated.append(key)
            found[key] = value
        if not repeated:
            return found
        seen.append(True)
        marked = _Repeating(found)
        marked.repeated = repeated
        return marked

    try:
        parsed = json.loads(body, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return []
    found = []
    if seen:
        _collect_repeated(parsed, (), found)
    return found


def _collect_repeated(value, path, found):
    if isinstance(value, dict):
        found += [(*path, key) for key in getattr(value, "repeated", ())]
        for key, item in value.items():
            _collect_repeated(item, (*path, key), found)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _collect_repeated(item, (*path, number), found)


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
