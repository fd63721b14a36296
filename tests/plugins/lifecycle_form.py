"""Test-only plugin: registers the small form the lifecycle tests send around."""

from pathlib import Path

from handover.hookspecs import hookimpl


@hookimpl
def register_forms(app):
    return [Path(__file__).with_suffix(".toml")]


@hookimpl
def validate_form(form_key, content):
    """A cross-field rule the field checks cannot see: a non-disclosure marking hides the
    location too. The preview tests send content that breaks it."""
    if form_key == "lifecycle_test" and content.get("non_disclosure") == "yes" \
            and content.get("location_hidden") != "yes":
        return {"location_hidden": ["A non-disclosure marking hides the location: answer yes."]}
    return None
