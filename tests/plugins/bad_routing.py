"""Test plugin: a routing rule naming a unit kind nobody registered."""

from handover.hookspecs import hookimpl


@hookimpl
def register_routing_rules(app):
    return [{"form": "placement_health_check", "senders": ["mars_base"],
             "receivers": ["health_service"]}]
