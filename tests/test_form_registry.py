"""`FormRegistry` remembers what is active between questions, and never past a change: a
plugin switched off or on, or a form or rule registered, shows in the very next answer. A form
key is one plugin's, in every version."""

import pytest
from formdef_samples import every_type

from handover.formdefs.loader import build_definition
from handover.formdefs.model import RoutingRule
from handover.formdefs.registry import FormRegistry


def _registry(inactive):
    registry = FormRegistry(lambda: set(inactive))
    registry.add(build_definition(every_type(), "first"), "first")
    registry.add(build_definition(every_type(key="second_form"), "second"), "second")
    return registry


def test_switching_a_plugin_off_and_on_shows_in_the_next_answer():
    inactive = set()
    registry = _registry(inactive)
    assert [d.key for d in registry.forms()] == ["every_type", "second_form"]
    inactive.add("second")
    assert [d.key for d in registry.forms()] == ["every_type"]
    assert [rule.plugin_name for rule in registry.routing_rules()] == ["first"]
    inactive.add("first")
    assert registry.forms() == [] and registry.routing_rules() == []
    inactive.clear()
    assert [d.key for d in registry.forms()] == ["every_type", "second_form"]


def test_a_newer_version_of_another_plugins_form_is_refused():
    registry = _registry(set())
    with pytest.raises(ValueError, match="'every_type' belongs to plugin 'first'"):
        registry.add(build_definition(every_type(version=2), "second"), "second")
    registry.add(build_definition(every_type(version=2), "first"), "first")
    assert [(d.key, d.version) for d in registry.forms()] == [("every_type", 2),
                                                              ("second_form", 1)]


def test_a_rule_or_form_registered_later_is_included():
    registry = _registry(set())
    assert len(registry.routing_rules("every_type")) == 1
    registry.add_rule(RoutingRule("every_type", ("school",), ("daycare",), (), "first"))
    assert len(registry.routing_rules("every_type")) == 2
    registry.add(build_definition(every_type(key="later"), "third"), "third")
    assert [d.key for d in registry.forms()] == ["every_type", "later", "second_form"]
    registry.remove_plugin("third")
    assert [d.key for d in registry.forms()] == ["every_type", "second_form"]


def test_an_answer_changed_by_the_caller_does_not_change_the_next():
    registry = _registry(set())
    registry.forms().clear()
    registry.routing_rules().clear()
    assert registry.forms() and registry.routing_rules()
