"""Test plugin: a valid form whose validate_form hook answers messages that are no texts."""

from handover.hookspecs import hookimpl


def _texts(word):
    return {"fi": word, "sv": word, "en": word}


@hookimpl
def register_forms(app):
    return [{
        "key": "odd_answer_form", "version": 1, "title": _texts("Odd"),
        "legal_bases": [{"key": "necessary", "label": _texts("Necessary")}],
        "sections": [{"key": "only", "title": _texts("Only"), "fields": [
            {"key": "note", "type": "text", "label": _texts("Note")}]}],
    }]


@hookimpl
def validate_form(form_key, content):
    return {"note": [None, ["a", "b"]]}
