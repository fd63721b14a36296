"""Request hardening and security headers, for every request and every response.

What reaches a view is text a person could have typed (README, "Backups and checks"):

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
- Bodies over ``MAX_CONTENT_LENGTH`` are refused with 413 (which `handover.web.errors`
  renders). Werkzeug applies ``MAX_FORM_MEMORY_SIZE`` and ``MAX_FORM_PARTS`` to multipart forms
  only; here the same limits hold for url-encoded forms, so that a 12 MB form of a million
  fields is refused too.

What a browser may do with an answer:

- The CSP allows scripts and styles only from our own origin (no 'unsafe-inline': templates
  carry no inline script or style attribute), forbids framing, and sends no referrer so that no
  URL of ours leaks to another site. Every page except static files is `no-store`: pages may
  carry client data, and no browser cache or proxy may keep a copy.
- Because of ``no-referrer`` a browser sends no Referer (and ``Origin: null``) even on our own
  form posts, so Flask-WTF's HTTPS referrer check would refuse every login; it is switched off
  here. Cross-site forgery is still stopped by the session-bound CSRF token and SameSite=Lax
  cookies, and in addition a POST that the browser itself labels cross-site
  (``Sec-Fetch-Site``, sent whatever the referrer policy) is refused before any view runs.
"""

import re

from flask import abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

#: Control characters nobody types on purpose (tab, LF and CR are kept).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: The only field name a file may arrive under (see `handover.web.handovers.forms`).
FILE_FIELD_NAMES = frozenset({"file"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HSTS = "max-age=31536000; includeSubDomains"

#: Sent with every response unless the view set its own value.
DEFAULT_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app):
    app.config["WTF_CSRF_SSL_STRICT"] = False
    app.before_request(refuse_cross_site_writes)
    app.before_request(filter_request)
    app.after_request(add_security_headers)


def refuse_cross_site_writes():
    if request.method in UNSAFE_METHODS and request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)


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


def add_security_headers(response):
    headers = response.headers
    # One pass over the headers the view set, instead of one per default (setdefault).
    present = {name.lower() for name, _value in headers.items()}
    headers.extend([(name, value) for name, value in DEFAULT_HEADERS
                    if name.lower() not in present])
    if (current_app.config.get("HTTPS") or request.is_secure) \
            and "strict-transport-security" not in present:
        headers["Strict-Transport-Security"] = HSTS
    if not request.path.startswith(current_app.static_url_path + "/"):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response
