"""Test-only plugin: registers the small form the lifecycle tests send around."""

from pathlib import Path

from handover.hookspecs import hookimpl


@hookimpl
def register_forms(app):
    return [Path(__file__).with_suffix(".toml")]
