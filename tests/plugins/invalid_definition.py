"""Test plugin: registers a definition with an unknown field type."""

from pathlib import Path

from handover.hookspecs import hookimpl


@hookimpl
def register_forms(app):
    return [Path(__file__).with_name("invalid_definition.toml")]
