"""Security headers on every response.

The CSP allows scripts and styles only from our own origin (no 'unsafe-inline': templates
carry no inline script or style attribute), forbids framing, and sends no referrer so that no
URL of ours leaks to another site. Every page except static files is `no-store`: pages may
carry client data, and no browser cache or proxy may keep a copy.

Because of ``no-referrer`` a browser sends no Referer (and ``Origin: null``) even on our own form
posts, so Flask-WTF's HTTPS referrer check would refuse every login; it is switched off here.
Cross-site forgery is still stopped by the session-bound CSRF token and SameSite=Lax cookies,
and in addition a POST that the browser itself labels cross-site (``Sec-Fetch-Site``, sent
whatever the referrer policy) is refused before any view runs.
"""

from flask import abort, request

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

    @app.before_request
    def refuse_cross_site_writes():
        if (request.method in UNSAFE_METHODS
                and request.headers.get("Sec-Fetch-Site") == "cross-site"):
            abort(403)

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        # One pass over the headers the view set, instead of one per default (setdefault).
        present = {name.lower() for name, _value in headers.items()}
        headers.extend([(name, value) for name, value in DEFAULT_HEADERS
                        if name.lower() not in present])
        if (app.config.get("HTTPS") or request.is_secure) \
                and "strict-transport-security" not in present:
            headers["Strict-Transport-Security"] = HSTS
        if not request.path.startswith(app.static_url_path + "/"):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response
