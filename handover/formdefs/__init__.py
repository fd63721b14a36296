"""Declarative form definitions: TOML files validated strictly into frozen dataclasses.

``load_definition(source)`` is the one way in; it raises ``DefinitionError`` naming every
problem with its location.
"""

from handover.formdefs.loader import (
    DefinitionError,
    load_definition,
    load_routing_rule,
    read_source,
)
from handover.formdefs.model import (
    FIELD_TYPES,
    LANGUAGES,
    Choice,
    Field,
    FormDefinition,
    RoutingRule,
    Section,
    text_in,
)
from handover.formdefs.registry import FormRegistry, UnknownForm
from handover.formdefs.validation import check_definition

__all__ = [
    "FIELD_TYPES", "LANGUAGES", "Choice", "DefinitionError", "Field", "FormDefinition",
    "FormRegistry", "RoutingRule", "Section", "UnknownForm", "check_definition",
    "load_definition", "load_routing_rule", "read_source", "text_in",
]
