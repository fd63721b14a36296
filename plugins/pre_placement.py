"""Built-in plugin: the advance notice of a placement to the education department and school.

Sisukas has child-welfare social work tell the municipality's education department (and the
receiving school) already while a placement is being planned, so that the school knows before
day one. The definition, routing and reply live in ``forms/pre_placement.toml``; the rule that
spans fields is the one every form about a placed child shares (``restrictions``).
"""

from importlib.resources import files

from handover.builtin_plugins import restrictions

from handover import hookimpl

FORMS = files("handover.builtin_forms")


@hookimpl
def register_forms(app):
    return [FORMS / "pre_placement.toml"]


@hookimpl
def validate_form(content, language):
    """Asked only about this plugin's form, with content that passed every field's checks."""
    return restrictions.problems(content, language)
