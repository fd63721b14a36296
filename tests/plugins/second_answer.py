"""Test plugin: a second validate_form answer, to show answers from several plugins merge."""

from handover.hookspecs import hookimpl


@hookimpl
def validate_form(form_key, content):
    if form_key == "versioned_form" and content.get("pupil") == "nobody":
        return {"pupil": ["also refused by a second plugin"]}
    return None


@hookimpl
def register_unit_kinds(app):
    return [{"key": "youth_centre", "labels": {"fi": "Nuorisotalo", "sv": "Ungdomsgård",
                                               "en": "Youth centre"}}]
