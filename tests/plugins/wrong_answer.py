"""Test plugin: answers register_forms with a string instead of a list."""

from handover.hookspecs import hookimpl


@hookimpl
def register_forms(app):
    return "forms/everything.toml"
