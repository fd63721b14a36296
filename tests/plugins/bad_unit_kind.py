"""Test plugin: registers a unit kind without a Swedish label."""

from handover.hookspecs import hookimpl


@hookimpl
def register_unit_kinds(app):
    return [{"key": "dentist", "labels": {"fi": "Hammaslääkäri", "en": "Dentist"}}]
