"""Test plugin: implements a hook that does not exist (a typo)."""

from handover.hookspecs import hookimpl


@hookimpl
def register_formz(app):
    return []
