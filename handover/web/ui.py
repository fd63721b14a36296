"""Template helpers shared by every page: navigation, the page's language, labels of unit
kinds, roles and handover statuses, errors."""

from datetime import date

from flask import before_render_template, current_app, request, url_for
from flask_login import current_user
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException
from wtforms import FieldList, Form, FormField

from handover.formdefs import display
from handover.i18n import current_locale
from handover.i18n import lazy_gettext as _l
from handover.plugins.manager import unit_kind_label
from handover.services import policy, withdrawal

ROLE_LABELS = {
    "sender": _l("Sender"),
    "receiver": _l("Receiver"),
    "lead": _l("Unit lead"),
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    "opened": _l("Opened"),
    "acknowledged": _l("Received"),
    "withdrawn": _l("Withdrawn"),
    "returned": _l("Returned to sender"),
}

#: (endpoint, label, who sees it). Endpoints not registered (yet) are skipped.
NAVIGATION = (
    # A receiver sees no Outbox and a sender no Inbox: no entry for what one cannot do.
    ("handovers.inbox", _l("Inbox"), lambda user: bool(policy.inbox_unit_ids(user))),
    ("handovers.outbox", _l("Outbox"), lambda user: bool(policy.outbox_unit_ids(user))),
    ("unit_lead.units", _l("My units' members"), policy.leads_a_unit),
    ("admin.awaiting", _l("Awaiting confirmation"), policy.is_admin),
    ("admin.units", _l("Units"), policy.is_admin),
    ("admin.users", _l("Users"), policy.is_admin),
    ("plugins_admin.index", _l("Plugins"), policy.is_admin),
    ("admin.statistics", _l("Statistics"), policy.is_admin),
    ("admin_clients.index", _l("Integration clients"), policy.is_admin),
    ("admin_deliveries.deliveries_page", _l("Deliveries"), policy.is_admin),
    ("audit.index", _l("Audit log"), policy.is_auditor),
)


def language():
    """The page's language as a plain string ("fi", "sv" or "en"), for the services."""
    return str(current_locale() or "fi")


def status_label(status):
    return STATUS_LABELS.get(status, status)


def _visible_entries():
    """(endpoint, label) of the menu entries the logged-in user may see, in menu order."""
    user = current_user._get_current_object()  # once: each touch of the proxy looks it up
    if not user.is_authenticated:
        return ()
    view_functions = current_app.view_functions
    return tuple((endpoint, label) for endpoint, label, visible in NAVIGATION
                 if endpoint in view_functions and visible(user))


#: How many renderings of the page chrome (`chrome`) an app keeps at most: a few per language
#: and combination of roles, unless a proxy sends ever new path prefixes.
CHROME_KEPT = 500


def chrome(part):
    """The menu entries ("nav") or the footer ("footer") of every page, from the macros of
    ``_chrome.html``, rendered once per language, path prefix and set of menu entries the
    user may see, and kept with the app (``app.extensions["handover_chrome"]``). They hold no
    one's data, only links and interface texts, and rendering them on every page repeated the
    same template calls for nothing."""
    entries = _visible_entries() if part == "nav" else ()
    key = (part, str(current_locale()), request.script_root,
           tuple(endpoint for endpoint, _label in entries))
    app = current_app._get_current_object()
    rendered_chrome = app.extensions["handover_chrome"]
    rendered = rendered_chrome.get(key)
    if rendered is None:
        macros = app.jinja_env.get_template("_chrome.html").module
        rendered = macros.footer() if part == "footer" else macros.nav(
            [{"url": url_for(endpoint), "label": label} for endpoint, label in entries])
        if len(rendered_chrome) >= CHROME_KEPT:
            rendered_chrome.clear()
        rendered_chrome[key] = rendered
    return rendered


def field_attributes(field, help_text=None, autocomplete=None, input_type=None):
    """What the ``field`` macro (macros/forms.html) needs of one input, in one call instead of
    a dozen template statements per field (a long form has fifty fields): its help text, the
    ids of the help and error texts that describe it, and the attributes for the input."""
    help_text = help_text or field.description
    described = " ".join(name for name, present in (
        (f"{field.id}-help", help_text), (f"{field.id}-error", field.errors)) if present)
    attributes = {}
    if described:
        attributes["aria-describedby"] = described
    if field.errors:
        attributes["aria-invalid"] = "true"
    if field.flags.required:
        attributes["required"] = True
    if autocomplete:
        attributes["autocomplete"] = autocomplete
    if input_type:
        attributes["type"] = input_type
    return help_text, described, attributes


def form_errors(form):
    """(field id, label, first message) for every field with errors, in form order."""
    found = []
    for field in form:
        if field.errors:
            message = field.errors[0]
            if isinstance(message, dict | list):
                message = str(message)
            found.append((field.id, field.label.text, message))
    return found


def _mark_pages_with_errors(sender, template, context, **extra):
    """Sets ``page_has_errors`` when a form of the page holds errors, so that base.html can
    start the page's title with "Error:" (read first by a screen reader) before the form that
    shows them is rendered."""
    context["page_has_errors"] = context.get("page_has_errors") or any(
        isinstance(value, Form) and _form_holds_errors(value) for value in context.values())


def _form_holds_errors(form):
    """Whether the form, or any input in it, rows of repeating groups included, holds an error.
    ``form.errors`` is not enough: a section page (section_checks) and a plugin's check leave
    a row's messages on the row's inputs only, not in the group's list of row errors."""
    return bool(form.form_errors or getattr(form, "extra_errors", None)
                or any(_field_holds_errors(field) for field in form))


def _field_holds_errors(field):
    if isinstance(field, FieldList):
        own = any(isinstance(message, str) for message in field.errors)
        return own or any(_field_holds_errors(row) for row in field)
    if isinstance(field, FormField):
        return any(_field_holds_errors(sub) for sub in field.form)
    return bool(field.errors)


def summary_line(summary):
    """A list's line about the child: the name first, then the birth date as d.m.yyyy (the
    summary holds the definition's ``summary_fields``, dates in ISO form)."""
    names, dates = [], []
    for value in (summary or {}).values():
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            names.append(str(value))
        else:
            dates.append(display.date_text(day))
    return ", ".join(names + dates)


def form_extra_errors(form):
    """The form's problems that belong to no one field, for the error summary."""
    return [(None, None, message) for message in getattr(form, "extra_errors", ())]


def page_to_return_to():
    """Where the language switch and "Stay signed in" bring the user back to: this page. A
    page that answers a POST (a form shown again with its errors) is the same address's GET
    page when it has one (the section the user was on), else the front page. Under the path
    prefix the server is mounted at, if any."""
    if request.method == "GET":
        return request.script_root + request.full_path
    try:
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")
    except HTTPException:   # no GET page here (405), or one elsewhere (a redirect)
        return url_for("home.index")
    return request.script_root + request.path


def init_app(app):
    app.extensions["handover_chrome"] = {}
    # GOV.UK Frontend's component macros, as "govuk_frontend_jinja/components/<name>/macro.html".
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    before_render_template.connect(_mark_pages_with_errors, app)
    app.jinja_env.globals.update(
        chrome=chrome,
        unit_kind_label=unit_kind_label,
        form_errors=form_errors,
        form_extra_errors=form_extra_errors,
        summary_line=summary_line,
        field_attributes=field_attributes,
        page_to_return_to=page_to_return_to,
    )
    app.jinja_env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    app.jinja_env.filters["withdrawal_reason"] = withdrawal.reason_label
