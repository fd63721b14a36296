"""One blueprint per user-facing area; this is the only list of them. (Request hardening and
security headers apply to every request: `handover.security.hardening`, set up in `create_app`.)"""

from importlib import import_module

from werkzeug.routing import IntegerConverter

from handover.web import formbuilder

#: The largest id there can be: every id column is an INTEGER (32 bits, signed).
LARGEST_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: no larger than an id column (INTEGER, 32 bits) holds, so
    that an id too large for the database is a route that does not match (404) rather than a
    query that fails (PostgreSQL: "integer out of range", a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def posted_id(value: object) -> int | None:
    """The id a form's field names (a unit chosen, a file to remove), or None: ASCII digits
    only, within what an id column holds. ``int()`` alone read "²" as an error and "٨" as 8,
    and passed an id of twenty digits to the database, which answered with a 500."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(LARGEST_ID)):
        return None
    number = int(text)
    return number if 0 < number <= LARGEST_ID else None


BLUEPRINT_MODULES = (
    "handover.web.health",
    "handover.web.pages",
    "handover.web.auth",
    "handover.web.sso",
    "handover.web.account",
    "handover.web.home",
    "handover.web.admin",
    "handover.web.unit_lead",
    "handover.web.plugins_admin",
    "handover.web.admin_form_uploads",
    "handover.web.admin_deliveries",
    "handover.web.handovers",
    "handover.web.audit_log",
    "handover.web.admin_clients",
    "handover.web.api",
    "handover.web.key_backend",
    "handover.web.unavailable",
    "handover.web.errors",
)


def register_blueprints(app):
    app.url_map.converters["int"] = DatabaseIdConverter   # before any route is added
    formbuilder.init_app(app)   # the Jinja globals with which form macros show stored values
    for name in BLUEPRINT_MODULES:
        blueprint = import_module(name).bp
        # APIFlask reads ``enable_openapi`` of every blueprint with a before_request function
        # when it builds the OpenAPI document; only web/api's is an API (an APIBlueprint).
        if not hasattr(blueprint, "enable_openapi"):
            blueprint.enable_openapi = False
        app.register_blueprint(blueprint)
