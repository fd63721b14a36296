"""The plugin manager (filled by the form-plugins work)."""


def init_app(app):
    app.extensions["handover_plugins"] = None
