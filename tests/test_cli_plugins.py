"""`handover plugins ...`: list, switch off and on (audited), and check a definition or plugin
module, printing every problem with its location and failing on any."""

import tomllib
from pathlib import Path

import pytest
from formdef_samples import TEST_PLUGINS, install_plugins

from handover.cli.plugins import plugins_group
from handover.plugins.manager import registry
from handover.store.database import db
from handover.store.models import AuditEvent

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples/handover-health-check/src/handover_health_check"


def run(runner, *args):
    return runner.invoke(plugins_group, list(args))


def test_list_shows_each_plugin_with_source_version_state_and_forms(runner):
    result = run(runner, "list")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("health_check"))
    assert line.split("\t") == ["health_check", "1.0.0", "entry point", "enabled",
                                "placement_health_check v1; placement_health_check_results v1"]


def test_list_shows_a_failed_plugins_reason(instance_path, database_backend, request):
    install_plugins(instance_path, "wrong_answer")
    runner = request.getfixturevalue("runner")
    result = run(runner, "list")
    assert "wrong_answer\t-\tplugins folder\tfailed" in result.output
    assert "hook register_forms answered with str, expected list" in result.output


def test_disable_and_enable_switch_the_plugin_and_are_audited(app, runner):
    assert run(runner, "disable", "health_check").exit_code == 0
    with app.app_context():
        assert "placement_health_check" not in [d.key for d in registry().forms()]
    assert "\tdisabled\t" in run(runner, "list").output
    assert run(runner, "enable", "health_check").exit_code == 0
    with app.app_context():
        assert "placement_health_check" in [d.key for d in registry().forms()]
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions == ["plugins.disabled", "plugins.enabled"]


def test_switching_an_unknown_plugin_fails(runner):
    result = run(runner, "disable", "no_such_plugin")
    assert result.exit_code != 0
    assert "no plugin named 'no_such_plugin'" in result.output


def test_check_accepts_the_example_definition_and_module(runner):
    for path in (EXAMPLE / "health_check.toml", EXAMPLE / "__init__.py"):
        result = run(runner, "check", str(path))
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "OK"


def test_check_prints_every_problem_of_a_definition_with_its_location(runner, tmp_path):
    raw = (EXAMPLE / "health_check.toml").read_text()
    broken = raw.replace('type = "hetu"', 'type = "texx"')
    broken = broken.replace("version = 1\n", "version = 0\n", 1)
    broken = broken.replace('receivers = ["health_service"]', 'receivers = ["mars_base"]')
    path = tmp_path / "broken.toml"
    path.write_text(broken)
    tomllib.loads(broken)  # still valid TOML: the problems are in the definition
    result = run(runner, "check", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}: version: must be a whole number of at least 1, not 0" in lines
    assert any(line.startswith(f"{path}: sections[0].fields[2] (key 'child_identity_code'): "
                               "type 'texx' is not one of") for line in lines)
    assert any("routing.receivers: unknown unit kind 'mars_base'" in line for line in lines)
    assert "OK" not in lines


def test_check_reports_a_key_another_plugin_has(runner, tmp_path):
    """`OK` means the server accepts it: a higher version of a built-in form (and its reply
    form), named as another plugin's, is refused by the server and so by the check."""
    daycare = REPO / "forms" / "daycare.toml"
    newer = tmp_path / "daycare_v2.toml"
    newer.write_text(daycare.read_text().replace("\nversion = 1\n", "\nversion = 2\n", 1)
                     .replace('plugin = "daycare"', 'plugin = "kunta"', 1))
    result = run(runner, "check", str(newer))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{newer}: form '{key}' belongs to plugin 'daycare': a plugin cannot register another "
        "plugin's form or reply form, in any version"
        for key in ("daycare_placed_child", "daycare_receipt")]
    own = run(runner, "check", str(daycare))   # the built-in's own file is its own
    assert own.exit_code == 0 and own.output.strip() == "OK", own.output
    module = tmp_path / "kunta.py"
    module.write_text("from pathlib import Path\nfrom handover import hookimpl\n\n"
                      "@hookimpl\ndef register_forms(app):\n"
                      f"    return [Path({str(newer)!r})]\n")
    checked = run(runner, "check", str(module))
    assert checked.exit_code == 1, checked.output
    assert (f"{module}: form 'daycare_placed_child' belongs to plugin 'daycare'"
            in checked.output)


@pytest.mark.parametrize("plugin, problem", [
    ("broken_import.py", "could not be imported: RuntimeError"),
    ("invalid_definition.py", "sections[0].fields[0] (key 'foo'): type 'texx'"),
    ("wrong_answer.py", "answered with str, expected list"),
    ("unknown_hook.py", "implements unknown hooks: register_formz"),
])
def test_check_reports_a_broken_plugin_module(runner, plugin, problem):
    result = run(runner, "check", str(TEST_PLUGINS / plugin))
    assert result.exit_code == 1
    assert problem in result.output


def test_check_refuses_other_files(runner, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = run(runner, "check", str(path))
    assert result.exit_code == 1 and "not a .toml form definition" in result.output
