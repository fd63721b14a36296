"""Request filtering shared by every page: what reaches a view is text a person could have typed.

Decisions (README, "Backups and checks"):

- Control characters (C0 except tab, line feed and carriage return; DEL; C1) are *removed* from
  every form value and query-string value before a view sees them. They are invisible, nobody
  means them, and some break things far from the form: PostgreSQL refuses NUL in text columns,
  and escape sequences in a log line can rewrite an operator's terminal. Removing rather than
  refusing keeps everything else a person typed; tab and line breaks stay for text areas.
- Bytes that are not UTF-8 reach the view percent-quoted (``%FF``) in form bodies and as U+FFFD
  in query strings (Werkzeug's decoding): visible to validation and to the person, never a 500.
- A file is accepted only under the field name ``file`` (the attachment upload form's field). A
  file part under any other name is refused with 400: otherwise a text field would receive a
  file object, which validators and templates do not expect.
- Bodies over ``MAX_CONTENT_LENGTH`` are refused with 413 (which `errors` renders). Werkzeug
  applies ``MAX_FORM_MEMORY_SIZE`` and ``MAX_FORM_PARTS`` to multipart forms only; here the same
  limits hold for url-encoded forms, so that a 12 MB form of a million fields is refused too.
"""

import re

from flask import Blueprint, abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

bp = Blueprint("hardening", __name__)

#: Control characters nobody types on purpose (tab, LF and CR are kept).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: The only field name a file may arrive under (see `handover.web.handover_forms`).
FILE_FIELD_NAMES = frozenset({"file"})


def without_control_characters(value):
    return CONTROL_CHARACTERS.sub("", value)


def _cleaned(multidict):
    """The same keys and values in the same order, control characters removed; None when
    there was nothing to remove (the common case: no copy is made)."""
    items = list(multidict.items(multi=True))
    if not any(CONTROL_CHARACTERS.search(key + value) for key, value in items):
        return None
    return ImmutableMultiDict(
        [(without_control_characters(key), without_control_characters(value))
         for key, value in items]
    )


@bp.before_app_request
def filter_request():
    args = _cleaned(request.args)
    if args is not None:
        request.args = args
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    _limit_urlencoded_form()
    if any(name not in FILE_FIELD_NAMES for name in request.files):
        abort(400)
    form = _cleaned(request.form)
    if form is not None:
        request.form = form
        request.__dict__.pop("values", None)  # rebuilt from the cleaned form when asked


def _limit_urlencoded_form():
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    max_size = current_app.config["MAX_FORM_MEMORY_SIZE"]
    if max_size is not None and (request.content_length or 0) > max_size:
        abort(413)
    max_parts = current_app.config["MAX_FORM_PARTS"]
    parts = sum(len(values) for values in request.form.listvalues())
    if max_parts is not None and parts > max_parts:
        abort(413)
