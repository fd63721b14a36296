"""Loading plugins: built-ins, entry points and the instance plugins folder through the same
hooks; a broken plugin is switched off with its reason while the server and every other plugin
keep working; an admin's switch removes forms from what may be chosen, never from what renders."""

import dataclasses
import logging

import pytest
from flask import render_template_string
from flask_babel import force_locale
from formdef_samples import install_plugins

from handover import create_app
from handover.formdefs import UnknownForm
from handover.plugins import loading
from handover.plugins import manager as plugin_manager
from handover.plugins.manager import call_hook, plugins, registry, set_enabled, unit_kinds
from handover.services import LifecycleError, drafts
from handover.store.database import db
from handover.store.models import AuditEvent


@pytest.fixture
def app_with(instance_path, database_backend, request):
    """Install test plugins into the instance plugins folder, then create the app (the
    `app` fixture, so it runs on every configured database)."""
    def make(*names):
        install_plugins(instance_path, *names)
        return request.getfixturevalue("app")
    return make


def record(app, name):
    with app.app_context():
        return plugin_manager.plugin(name)


def test_the_example_package_is_found_through_its_entry_point(app):
    example = record(app, "health_check")
    assert example.source == "entry point"
    assert example.version == "1.0.0"
    assert example.error is None
    assert example.unit_kinds == ["health_service"]
    with app.app_context():
        assert "placement_health_check" in [d.key for d in registry().forms()]


def test_a_module_dropped_into_the_plugins_folder_is_loaded(app_with):
    app = app_with("versioned")
    versioned = record(app, "versioned")
    assert versioned.source == "plugins folder"
    assert versioned.version == "2.5"
    assert versioned.module.__name__ == "handover_instance_plugins.versioned"
    with app.app_context():
        assert registry().get("versioned_form").version == 2


def test_default_plugins_load_first_by_module_name(app_config, tmp_path, monkeypatch):
    (tmp_path / "tiny_default_plugin.py").write_text(
        "from handover import hookimpl\n"
        "@hookimpl\ndef register_forms(app):\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(loading, "DEFAULT_PLUGINS", ("tiny_default_plugin",))
    app = create_app(app_config)
    records = app.extensions["handover_plugins"].records
    tiny = records["tiny_default_plugin"]
    assert tiny.source == "built-in" and tiny.error is None
    assert tiny.module.__name__ == "tiny_default_plugin"
    assert "daycare" not in records   # the tuple is the whole list of built-ins
    sources = [r.source for r in records.values()]
    assert sources == sorted(
        sources, key=["internal", "built-in", "entry point", "plugins folder"].index)


def test_the_built_in_forms_are_default_plugins_inside_the_package(app):
    builtins = {name: r for name, r in app.extensions["handover_plugins"].records.items()
                if r.source == "built-in"}
    assert set(builtins) == {"daycare", "placement_update", "pre_placement", "psychiatric_ward",
                             "school_transfer"}
    for name, builtin in builtins.items():
        assert builtin.error is None, builtin.error
        assert builtin.module.__name__ == f"handover.builtin_plugins.{name}"
    assert loading.DEFAULT_PLUGINS == tuple(
        f"handover.builtin_plugins.{name}" for name in sorted(builtins))


BROKEN = [
    ("broken_import", "could not be imported: RuntimeError: this plugin is broken at import"),
    ("invalid_definition", "invalid form definition: "),
    ("wrong_answer", "hook register_forms answered with str, expected list"),
    ("raising_register", "hook register_forms raised KeyError"),
    ("unknown_hook", "implements unknown hooks: register_formz"),
    ("bad_signature", "could not be registered"),
    ("bad_unit_kind", "register_unit_kinds()[0]: 'labels' needs non-empty fi, sv and en texts"),
    ("bad_routing", "unknown unit kind 'mars_base'"),
]


@pytest.mark.parametrize("name, reason", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_broken_plugin_is_disabled_with_its_reason_and_the_rest_work(
        app_with, caplog, name, reason):
    caplog.set_level(logging.ERROR, logger="handover.plugins")
    app = app_with(name, "versioned")
    broken = record(app, name)
    assert reason in broken.error
    assert not broken.active
    assert any(name in message and reason in message for message in caplog.messages)
    with app.app_context():
        keys = [d.key for d in registry().forms()]
    assert "versioned_form" in keys and "placement_health_check" in keys
    assert app.test_client().get("/login").status_code == 200


def test_an_invalid_definition_names_the_file_and_the_location(app_with):
    error = record(app_with("invalid_definition"), "invalid_definition").error
    assert "invalid_definition.toml: sections[0].fields[0] (key 'foo'): type 'texx'" in error
    with app_with("invalid_definition").app_context():
        with pytest.raises(UnknownForm):
            registry().get("invalid_form")


def test_a_raising_validate_form_switches_its_plugin_off_in_every_worker(
        app_with, app_config, caplog):
    app = app_with("raising_validate", "versioned")
    with app.test_request_context("/"):
        with pytest.raises(plugin_manager.FormChecksUnavailable):
            call_hook("validate_form", form_key="fragile_form", form_version=1,
                      content={"note": "x"}, language="fi")
        fragile = plugin_manager.plugin("raising_validate")
        assert not fragile.enabled and fragile.error is None
        assert fragile.failure == "hook validate_form raised ValueError"
        assert "fragile_form" not in [d.key for d in registry().forms()]
        assert "versioned_form" in [d.key for d in registry().forms()]
    # another worker: an app of its own on the same database
    other = create_app(app_config)
    with other.test_request_context("/"):
        fragile = plugin_manager.plugin("raising_validate")
        assert not fragile.enabled
        assert fragile.failure == "hook validate_form raised ValueError"
        assert "fragile_form" not in [d.key for d in registry().forms()]
        event = db.session.query(AuditEvent).filter_by(action="plugins.failed").one()
        assert "raising_validate" in event.detail and event.outcome == "failed"
        set_enabled("raising_validate", True)   # the admin says it is fixed
        assert plugin_manager.plugin("raising_validate").failure is None
        assert "fragile_form" in [d.key for d in registry().forms()]
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    assert "secret child data" not in caplog.text  # the exception text may hold client data


def test_a_validate_form_answer_that_is_no_messages_switches_its_plugin_off(app_with):
    """Its answers would have been shown to the sender as they are ("None", "['a', 'b']")."""
    app = app_with("odd_validate_answer", "versioned")
    with app.test_request_context("/"):
        with pytest.raises(plugin_manager.FormChecksUnavailable):
            call_hook("validate_form", form_key="odd_answer_form", form_version=1,
                      content={"note": "x"}, language="fi")
        odd = plugin_manager.plugin("odd_validate_answer")
        assert not odd.enabled
        assert odd.failure == ("hook validate_form answered with something other than "
                               "messages (text, or a list of texts) by field")
        # Plain and lazily translated texts are messages.
        assert call_hook("validate_form", form_key="versioned_form", form_version=2,
                         content={"pupil": "nobody"}, language="en")


def test_a_form_whose_checks_fail_cannot_be_sent_unchecked(app_with):
    """A crashing validate_form is no "no objection": the send is refused with a message the
    sender can act on, now and after the plugin has been switched off."""
    app = app_with("raising_validate")
    with app.test_request_context("/"):
        definition = registry().get("fragile_form", 1)
        for _attempt in range(2):
            with pytest.raises(LifecycleError) as refusal:
                drafts.validate_content(definition, {"note": "x"}, None, "en")
            with force_locale("en"):
                message = str(refusal.value)
            assert "cannot be checked or sent" in message
            assert "secret child data" not in message
        assert plugin_manager.plugin("raising_validate").failure is not None


def test_validate_form_asks_only_the_plugin_that_owns_the_form(app_with):
    app = app_with("versioned", "second_answer")
    with app.app_context():
        answers = call_hook("validate_form", form_key="versioned_form", form_version=2,
                            content={"pupil": "nobody"}, language="en")
        assert answers == [{"pupil": ["not a pupil (en)"], "nowhere": ["form-level problem"]}]
        assert call_hook("validate_form", form_key="versioned_form", form_version=2,
                         content={"pupil": "Ville"}, language="en") == []
        assert call_hook("validate_form", form_key="no_such_form", form_version=1,
                         content={}, language="en") == []
        stranger = dataclasses.replace(registry().get("versioned_form", 2), key="stranger")
        assert call_hook("validate_form", definition=stranger, content={"pupil": "nobody"},
                         language="en") == []


def test_validate_form_receives_the_definition_it_was_filled_with(app_with):
    app = app_with("versioned")
    module = app.extensions["handover_plugins"].records["versioned"].module
    with app.app_context():
        call_hook("validate_form", form_key="versioned_form", form_version=1,
                  content={"pupil": "Ville"}, language="fi")
        assert module.DEFINITIONS_SEEN[-1] is registry().get("versioned_form", 1)


def test_a_second_plugin_of_the_same_name_is_refused(app_with, tmp_path, instance_path):
    (instance_path / "plugins" / "health_check.py").write_text("")
    app = app_with()
    duplicate = record(app, "health_check (plugins folder)")
    assert "another plugin named 'health_check' was loaded first" in duplicate.error
    assert record(app, "health_check").error is None


def test_disabling_hides_forms_but_old_versions_still_render(app_with):
    app = app_with("versioned")
    with app.test_request_context("/"):
        set_enabled("versioned", False)
        assert "versioned_form" not in [d.key for d in registry().forms()]
        with pytest.raises(UnknownForm):
            registry().get("versioned_form")
        old = registry().get("versioned_form", 1)
        html = render_template_string(
            '{% from "macros/formdef.html" import render_content %}'
            "{{ render_content(d, {'pupil': 'Ville'}, 'en') }}", d=old)
        assert "Ville" in html
        assert not plugin_manager.plugin("versioned").enabled
        set_enabled("versioned", True)
        assert registry().get("versioned_form").version == 2
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
        assert actions == ["plugins.disabled", "plugins.enabled"]


def test_an_old_version_renders_after_a_newer_one_is_registered(app_with):
    app = app_with("versioned")
    with app.test_request_context("/"):
        assert registry().versions("versioned_form") == [1, 2]
        assert registry().get("versioned_form").version == 2
        first = registry().get("versioned_form", 1)
        assert [f.key for f in first.fields()] == ["pupil"]
        html = render_template_string(
            '{% from "macros/formdef.html" import render_content %}'
            "{{ render_content(d, {'pupil': 'Old pupil'}, 'en') }}", d=first)
        assert "Old pupil" in html and "Grade" not in html


def test_an_unknown_version_is_an_unknown_form(app):
    with app.app_context():
        with pytest.raises(UnknownForm):
            registry().get("placement_health_check", 99)


def test_switching_an_unknown_plugin_is_refused(app):
    with app.app_context():
        with pytest.raises(plugin_manager.UnknownPlugin):
            set_enabled("no_such_plugin", False)


def test_each_app_has_its_own_plugin_manager(app_with, app_config):
    first = app_with("versioned")
    second = create_app(dict(app_config, PLUGINS_DIR=str(app_config["INSTANCE_PATH"]) + "/none"))
    assert first.extensions["handover_plugins"] is not second.extensions["handover_plugins"]
    assert "versioned" not in second.extensions["handover_plugins"].records


def test_plugin_unit_kinds_have_labels_in_the_readers_language(app):
    with app.test_request_context("/"):
        kinds = unit_kinds()
        assert "daycare" in kinds and "health_service" in kinds
        from flask_babel import force_locale

        from handover.web.ui import unit_kind_label
        with force_locale("sv"):
            assert str(unit_kind_label("health_service")) == "Hälsotjänst (hälsokontroller)"
        with force_locale("fi"):
            assert str(kinds["health_service"]) == "Terveyspalvelu (terveystarkastukset)"


def test_plugins_lists_the_instance_setting(app):
    with app.test_request_context("/"):
        set_enabled("health_check", False)
        assert [p.enabled for p in plugins() if p.name == "health_check"] == [False]
