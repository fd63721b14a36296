"""The admin's uploaded forms: upload a form package, see every problem before anything is
stored, preview a stored version as its senders, receivers and copy receivers will see it in
fi, sv and en, then approve (four-eyes), enable or disable it. Admins only; anyone else 404.

The preview renders with the same macros and form builder as the fill page and the reading
view (``macros/formdef.html``, `formbuilder.build_form`), so what the admin approves is what
staff will get. The work is `services.form_uploads`'.

The uploaded forms reach staff through the internal plugin ``uploaded``: while an admin has
switched it off on the Plugins page, these pages say so, not that a form is in use.
"""

import os

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup

from handover.formdefs import DefinitionError
from handover.formdefs import content as content_rules
from handover.i18n import LANGUAGE_NAMES
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.plugins import manager as plugin_manager
from handover.plugins import uploaded
from handover.services import form_uploads, policy
from handover.services.form_packages import PackageRefused
from handover.services.sections import section_states, task_groups
from handover.web.form_base import HandoverForm
from handover.web.formbuilder import build_form

bp = Blueprint("admin_form_uploads", __name__, url_prefix="/admin/uploaded-forms")

LANGUAGES = ("fi", "sv", "en")
VIEWS = {
    "sender": _l("As the sender fills it"),
    "receiver": _l("As the receiver reads it"),
    "copy": _l("As a copy receiver reads it"),
}


class UploadForm(HandoverForm):
    file = FileField(_l("Form package (.toml, .zip or .tar)"), validators=[FileRequired()])


class StepForm(HandoverForm):
    """Only the CSRF token: the button says what to do."""


@bp.before_request
@login_required
def only_admins():
    policy.require_admin(current_user)


def _language():
    locale = get_locale()
    return locale.language if locale else "fi"


def _plugin_off():
    """True while the internal plugin that serves the uploaded forms is off: switched off by
    an admin or after a failure. Enabled versions are then chosen by nobody."""
    try:
        return not plugin_manager.plugin(uploaded.PLUGIN_NAME).active
    except plugin_manager.UnknownPlugin:   # not loaded at all: nothing serves them either
        return True


def _index(form, problems=None, status=200):
    return render_template("admin_form_uploads/index.html", form=form, step_form=StepForm(),
                           uploads=form_uploads.uploads(), problems=problems or [],
                           four_eyes=form_uploads.four_eyes(), language=_language(),
                           max_kb=form_uploads.max_bytes() // 1024,
                           plugin_off=_plugin_off()), status


@bp.route("/", methods=["GET", "POST"])
def index():
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, status=400 if request.method == "POST" else 200)
    stream = form.file.data.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    data = stream.read(form_uploads.max_bytes() + 1)   # never more than the bound allows
    try:
        outcome = form_uploads.upload(form.file.data.filename or "", data, current_user,
                                      size=size)
    except PackageRefused as refusal:
        problems = [_problem(problem) for problem in refusal.problems]
        return _index(form, problems, 400)
    if outcome.created:
        flash(_("Version %(version)s of %(key)s passed every check and is stored, not yet "
                "enabled. Preview it below.", version=outcome.version, key=outcome.key),
              "success")
    else:
        flash(_("Version %(version)s of %(key)s is already stored with exactly this content; "
                "nothing changed.", version=outcome.version, key=outcome.key), "success")
    return redirect(url_for(".preview", key=outcome.key, version=outcome.version))


def _problem(problem):
    """(where, message) in the admin's language; the loader's own texts stay as `handover
    plugins check` prints them."""
    if not problem.translatable:
        return {"where": "", "message": str(problem)}
    return {"where": problem.where, "message": _(problem.message, **problem.params)}


@bp.route("/<key>/<int:version>")
def preview(key, version):
    language = request.args.get("language")
    language = language if language in LANGUAGES else _language()
    view = request.args.get("view")
    view = view if view in VIEWS else "sender"
    try:
        definition = form_uploads.stored_definition(key, version)
    except form_uploads.UnknownUpload:
        abort(404)
    except DefinitionError as error:
        flash(_("This version no longer passes the checks: %(problems)s",
                problems="; ".join(error.problems)), "error")
        return redirect(url_for(".index"))
    item = next(i for i in form_uploads.uploads(key) if i["version"] == version)
    routing = definition.routing
    with force_locale(language):
        body = Markup(render_template(   # noqa: S704  # nosec B704 (our own template, escaped by Jinja)
            "admin_form_uploads/_preview_body.html", view=view, definition=definition,
            language=language, **_preview_parts(definition, view, language)))
    return render_template(
        "admin_form_uploads/preview.html", definition=definition, item=item, body=body,
        views=VIEWS, view=view, preview_languages=LANGUAGE_NAMES, language=language,
        routing=routing,
        step_form=StepForm(), four_eyes=form_uploads.four_eyes(),
        page_language=_language(), plugin_off=_plugin_off())


def _preview_parts(definition, view, language):
    routing = definition.routing
    senders = routing.senders if routing else ()
    if view == "sender":
        kind = senders[0] if senders else None
        # The task list of a new draft, then each section as its page shows it.
        return {"form": build_form(definition, language, kind),
                "groups": task_groups(definition, section_states(definition, {}, kind))}
    content = sample_content(definition, language)
    kinds = (routing.copies if view == "copy" else routing.receivers) if routing else ()
    kind = kinds[0] if kinds else None
    sections = (definition.visible_sections(kind, as_copy=view == "copy") if kind
                else definition.sections)
    return {"content": content, "sections": sections, "kind": kind,
            "summary": [(definition.field(key), content.get(key))
                        for key in definition.summary_fields
                        if key in {f.key for f in definition.fields()}]}


def sample_content(definition, language):
    """An example answer to every field, so the reading view shows each label and section."""
    with force_locale(language):
        example = _("Example answer")

    def value(field):
        samples = {
            "text": example, "textarea": example, "date": content_rules.today().isoformat(),
            "yesno": "no", "hetu": "010594Y9032", "phone": "+358 40 123 4567",
            "email": "example@example.invalid", "number": field.min if field.min is not None
            else 1,
            "choice": field.choices[0].value if field.choices else "",
            "multichoice": [field.choices[0].value] if field.choices else [],
        }
        if field.type == "group":
            return [{sub.key: value(sub) for sub in field.fields}]
        return samples.get(field.type, example)

    return {field.key: value(field) for field in definition.fields()}


def _step(action, key, version=None, *, done):
    """Run one step; a refusal is shown, not an error page. Back to where the step was asked:
    the version's preview, or the list."""
    if not StepForm().validate_on_submit():
        abort(400)
    try:
        action()
    except form_uploads.UnknownUpload:
        abort(404)
    except form_uploads.StepRefused as refusal:
        flash(_(refusal.message, **refusal.params), "error")
    else:
        flash(done, "success")
    if version is None or request.form.get("back") == "list":
        return redirect(url_for(".index"))
    return redirect(url_for(".preview", key=key, version=version))


@bp.route("/<key>/<int:version>/approve", methods=["POST"])
def approve(key, version):
    return _step(lambda: form_uploads.approve(key, version, current_user), key, version,
                 done=_("Version %(version)s of %(key)s approved.", version=version, key=key))


@bp.route("/<key>/<int:version>/enable", methods=["POST"])
def enable(key, version):
    return _step(lambda: form_uploads.enable(key, version, current_user), key, version,
                 done=_("Version %(version)s of %(key)s enabled. Its senders can choose it on "
                        "every server within a minute.", version=version, key=key))


@bp.route("/<key>/disable", methods=["POST"])
def disable(key):
    return _step(lambda: form_uploads.disable(key, current_user), key,
                 done=_("%(key)s disabled: no new drafts. Handovers already made with it "
                        "still open.", key=key))
