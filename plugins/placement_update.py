"""Built-in plugin: the placement update ("Sijoituksen muutos"), a short notice sent from a
handover to every unit that received a handover of the same child (`services.updates`).

The definition lives in ``forms/placement_update.toml``; it has no routing of its own."""

from importlib.resources import files

from handover import hookimpl

FORMS = files("handover.builtin_forms")


@hookimpl
def register_forms(app):
    return [FORMS / "placement_update.toml"]
