"""The Plugins page: what every plugin provides, its load error, and the switch to turn it on
or off for this instance. Admins only; anyone else gets 404."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.plugins import manager as plugin_manager
from handover.services import audit_labels, policy
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


def _form_title(registry, key, language):
    """The form's title in its newest version, whatever its plugin's state; its key in words
    if nothing registered it."""
    versions = registry.versions(key)
    return (registry.get(key, versions[-1]).title_in(language) if versions
            else audit_labels.readable(key))


def plugin_view(record, language):
    """What the page shows about one plugin, with form titles in the reader's language."""
    forms = {}
    for definition in plugin_manager.registry().definitions_of(record.name):
        forms.setdefault(definition.key, {"title": definition.title_in(language), "versions": []})
        forms[definition.key]["versions"].append(definition.version)
    return {"record": record, "forms": list(forms.values()),
            "source": SOURCE_LABELS.get(record.source, record.source)}


def routing_table(records, language):
    """Every plugin's routing rules in one table, by form title: which unit kinds may send the
    form, to which kinds, with copies to which; rules of a plugin switched off are marked."""
    registry = plugin_manager.registry()
    rows = [{"form": _form_title(registry, rule.form, language), "rule": rule,
             "plugin": record.name, "in_use": record.enabled and not record.error}
            for record in records for rule in registry.rules_registered_by(record.name)]
    return sorted(rows, key=lambda row: (row["form"].lower(), row["plugin"]))


@bp.route("/")
def index():
    language = get_locale().language if get_locale() else "fi"
    records = plugin_manager.plugins()
    return render_template("plugins_admin/index.html", form=SwitchForm(),
                           plugins=[plugin_view(record, language) for record in records],
                           routing=routing_table(records, language))


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
