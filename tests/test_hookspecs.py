"""Every hook is documented (in its spec and in docs/plugins.md's table) and has a
`test_hook_<name>` here that calls it through `call_hook`, the one way the core calls hooks."""

import dataclasses
import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from formdef_samples import install_plugins

from handover import hookspecs
from handover.plugins.manager import call_hook, registry

PLUGIN_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"

HOOK_NAMES = sorted(
    name for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, "handover_spec")
)


def test_there_are_hooks():
    assert "register_forms" in HOOK_NAMES and len(HOOK_NAMES) >= 7


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_says_when_it_is_called_and_what_it_returns(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Called" in doc, f"{name}: say when the hook is called"
    assert "eturn" in doc, f"{name}: say what it returns (or that the return is ignored)"


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_has_type_hints(name):
    signature = inspect.signature(getattr(hookspecs, name))
    assert signature.return_annotation is not inspect.Signature.empty, name
    for parameter in signature.parameters.values():
        assert parameter.annotation is not inspect.Parameter.empty, (name, parameter.name)


def _documented_hooks():
    """{name: arguments} of each row of the hook table in docs/plugins.md."""
    rows = re.findall(r"^\| `(\w+)\(([^)]*)\)` \|", PLUGIN_GUIDE.read_text(), re.MULTILINE)
    return {name: [arg.strip() for arg in args.split(",") if arg.strip()] for name, args in rows}


def test_the_plugin_guides_hook_table_lists_exactly_the_hookspecs():
    documented = _documented_hooks()
    assert sorted(documented) == HOOK_NAMES
    for name, arguments in documented.items():
        spec = list(inspect.signature(getattr(hookspecs, name)).parameters)
        assert sorted(arguments) == sorted(spec), f"docs/plugins.md: arguments of {name}"


def test_event_summaries_are_read_only_and_carry_no_content():
    fields = {field.name for field in dataclasses.fields(hookspecs.HandoverSummary)}
    assert not fields & {"content", "summary", "acknowledgement_note", "identity_hash",
                         "wrapped_key"}
    summary = hookspecs.UnitSummary(id=1, kind="school", name="Koulu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.name = "other"


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_has_a_test(name):
    assert f"test_hook_{name}" in globals(), f"write test_hook_{name} in {__file__}"


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_body_is_only_a_docstring(name):
    source = inspect.getsource(getattr(hookspecs, name)).rstrip()
    assert source.endswith('"""'), f"{name}: a hookspec's body is only its docstring"


@pytest.fixture
def plugin_app(instance_path, database_backend, request):
    """An app with the `versioned` and `second_answer` test plugins in its plugins folder."""
    install_plugins(instance_path, "versioned", "second_answer")
    return request.getfixturevalue("app")


def _module(app, name):
    return app.extensions["handover_plugins"].records[name].module


def test_hook_register_forms(plugin_app):
    with plugin_app.app_context():
        sources = call_hook("register_forms", app=plugin_app)
        keys = {getattr(s, "name", None) or s["key"] for s in sources}
        assert {"versioned_form", "health_check.toml"} <= keys
        assert registry().versions("versioned_form") == [1, 2]


def test_hook_register_routing_rules(plugin_app):
    with plugin_app.app_context():
        rules = call_hook("register_routing_rules", app=plugin_app)
        # The built-in daycare and school-transfer plugins register their other senders' rules.
        assert sorted(rule["form"] for rule in rules) == [
            "daycare_placed_child", "school_transfer", "versioned_form"]
        assert [rule for rule in rules if rule["form"] == "versioned_form"] == [
            {"form": "versioned_form", "senders": ["child_welfare_social_work"],
             "receivers": ["school"], "copies": ["family_care"]}]
        merged = registry().routing_rules("versioned_form")
        assert {rule.senders for rule in merged} == {("school",), ("child_welfare_social_work",)}


def test_hook_register_unit_kinds(plugin_app):
    with plugin_app.app_context():
        kinds = {kind["key"] for kind in call_hook("register_unit_kinds", app=plugin_app)}
        assert kinds == {"health_service", "youth_centre"}


def test_hook_validate_form(plugin_app):
    with plugin_app.app_context():
        answers = call_hook("validate_form", form_key="versioned_form", form_version=1,
                            content={"pupil": "nobody"}, language="sv")
        # second_answer objects too, but it does not own the form and is not asked
        assert answers == [{"pupil": ["not a pupil (sv)"], "nowhere": ["form-level problem"]}]


def test_hook_handover_sent(plugin_app):
    handover = SimpleNamespace(id=1)
    with plugin_app.app_context():
        assert call_hook("handover_sent", handover=handover, app=plugin_app) == []
    assert _module(plugin_app, "versioned").EVENTS == [("sent", handover)]


def test_hook_handover_opened(plugin_app):
    handover, unit = SimpleNamespace(id=1), SimpleNamespace(id=2)
    with plugin_app.app_context():
        call_hook("handover_opened", handover=handover, unit=unit, app=plugin_app)
    assert _module(plugin_app, "versioned").EVENTS == [("opened", handover, unit)]


def test_hook_handover_acknowledged(plugin_app):
    handover = SimpleNamespace(id=1)
    with plugin_app.app_context():
        call_hook("handover_acknowledged", handover=handover, app=plugin_app)
    assert _module(plugin_app, "versioned").EVENTS == [("acknowledged", handover)]


def test_implemented_names_the_hooks_a_loaded_plugin_implements(plugin_app):
    from handover.plugins.manager import implemented

    with plugin_app.app_context():
        assert implemented("handover_opened") and implemented("register_forms")


def test_no_built_in_plugin_listens_to_handover_opened(app):
    from handover.plugins.manager import implemented

    with app.app_context():
        assert not implemented("handover_opened") and implemented("register_forms")


def test_a_disabled_plugin_hears_no_events(plugin_app):
    from handover.plugins.manager import set_enabled

    with plugin_app.test_request_context("/"):
        set_enabled("versioned", False)
        call_hook("handover_sent", handover=SimpleNamespace(id=1), app=plugin_app)
    assert _module(plugin_app, "versioned").EVENTS == []


def test_a_hook_nobody_implements_asks_the_database_nothing(app):
    """The receiver's first view fires `handover_opened`; with no plugin listening, finding
    out which plugins are switched off would be a query for nothing."""
    from sqlalchemy import event

    from handover.store.database import db

    statements = []
    with app.test_request_context("/"):
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert call_hook("handover_opened", handover=SimpleNamespace(id=1), unit=None) == []
        assert statements == []
        call_hook("validate_form", form_key="daycare_placed_child", form_version=1,
                  content={}, language="fi")   # the built-in forms listen
        assert any("plugin_settings" in statement for statement in statements)
