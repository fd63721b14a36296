"""Test plugin: a valid form whose validate_form hook raises."""

from handover.hookspecs import hookimpl


def _texts(word):
    return {"fi": word, "sv": word, "en": word}


@hookimpl
def register_forms(app):
    return [{
        "key": "fragile_form", "version": 1, "title": _texts("Fragile"),
        "legal_bases": [{"key": "necessary", "label": _texts("Necessary")}],
        "sections": [{"key": "only", "title": _texts("Only"), "fields": [
            {"key": "note", "type": "text", "label": _texts("Note")}]}],
    }]


@hookimpl
def validate_form(form_key, content):
    raise ValueError("secret child data must not reach the log")
