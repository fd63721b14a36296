"""Test plugin: a hook implementation asks for an argument the spec does not have."""

from handover.hookspecs import hookimpl


@hookimpl
def register_forms(app, colour):
    return []
