"""Test plugin: register_forms raises."""

from handover.hookspecs import hookimpl


@hookimpl
def register_forms(app):
    raise KeyError("missing setting")
