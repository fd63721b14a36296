"""Test plugin: objects to a form it does not own, to show that only the owner is asked."""

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
