"""The Plugins page: what every plugin provides, its load error, and the switch to turn it on
or off for this instance. Admins only; anyone else gets 404."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.plugins import manager as plugin_manager
from handover.services import policy
from handover.web.form_base import HandoverForm

bp = Blueprint("plugins_admin", __name__, url_prefix="/admin/plugins")

SOURCE_LABELS = {
    "internal": _l("Part of Handover (uploaded forms)"),
    "built-in": _l("Built-in"),
    "entry point": _l("Installed package (entry point)"),
    "plugins folder": _l("Instance plugins folder"),
}


class SwitchForm(HandoverForm):
    """Only the CSRF token: the button says what to do."""


@bp.before_request
@login_required
def only_admins():
    policy.require_admin(current_user)


def plugin_view(record, language):
    """What the page shows about one plugin, with form titles in the reader's language."""
    registry = plugin_manager.registry()
    forms = {}
    for definition in registry.definitions_of(record.name):
        forms.setdefault(definition.key, {"title": definition.title_in(language), "versions": []})
        forms[definition.key]["versions"].append(definition.version)
    rules = []
    for rule in registry.rules_registered_by(record.name):
        versions = registry.versions(rule.form)
        title = registry.get(rule.form, versions[-1]).title_in(language) if versions else rule.form
        rules.append({"form": title, "rule": rule})
    return {"record": record, "forms": forms, "rules": rules,
            "source": SOURCE_LABELS.get(record.source, record.source)}


@bp.route("/")
def index():
    language = get_locale().language if get_locale() else "fi"
    views = [plugin_view(record, language) for record in plugin_manager.plugins()]
    return render_template("plugins_admin/index.html", plugins=views, form=SwitchForm())


@bp.route("/<path:name>/<any(enable, disable):action>", methods=["POST"])
def switch(name, action):
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        plugin_manager.set_enabled(name, action == "enable")
    except plugin_manager.UnknownPlugin:
        abort(404)
    if action == "enable":
        flash(_("Plugin %(name)s enabled.", name=name), "success")
    else:
        flash(_("Plugin %(name)s disabled. Its forms can no longer be chosen; handovers "
                "already made with them still open.", name=name), "success")
    return redirect(url_for(".index"))
