"""Issue 20 on the command line: `handover forms upload FILE`, `forms list`, `forms enable KEY
VERSION` and `forms disable KEY` do what the admin's page does, audited, and a refused package
prints every problem with its location and exits 1."""

from form_upload_support import KEY, audit_actions, package, stored_count

from handover.cli.forms import forms_group
from handover.plugins import manager as plugin_manager
from handover.services import form_uploads


def run(runner, *args):
    return runner.invoke(forms_group, [str(arg) for arg in args])


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_upload_list_enable_and_disable_from_the_command_line(app, runner, tmp_path):
    result = run(runner, "upload", write(tmp_path, "special_diet.zip", package()))
    assert result.exit_code == 0, result.output
    assert result.output == ("Stored special_diet version 1 (not enabled). Enable it with: "
                             "handover forms enable special_diet 1\n")
    result = run(runner, "list")
    fields = result.output.strip().split("\t")
    assert fields[:4] == [KEY, "v1", "stored", "Special diet at school"]
    assert fields[4].endswith("by the command line") and fields[5] == "not approved"

    result = run(runner, "enable", KEY, 1)
    assert result.exit_code == 0, result.output
    assert result.output == "special_diet version 1 enabled.\n"
    with app.app_context():
        assert plugin_manager.registry().get(KEY).version == 1
    assert run(runner, "list").output.split("\t")[2] == "enabled"

    result = run(runner, "disable", KEY)
    assert result.exit_code == 0 and "disabled" in result.output
    assert run(runner, "list").output.split("\t")[2] == "disabled"
    result = run(runner, "disable", KEY)
    assert result.exit_code == 1 and "Form special_diet is not enabled." in result.output
    with app.app_context():
        assert [action for action, _d, _a in audit_actions()] == [
            "forms.uploaded", "forms.enabled", "forms.disabled"]


def test_the_same_file_again_changes_nothing(app, runner, tmp_path):
    path = write(tmp_path, "special_diet.zip", package())
    run(runner, "upload", path)
    result = run(runner, "upload", path)
    assert result.exit_code == 0
    assert "already stored with exactly this content; nothing changed" in result.output


def test_a_refused_package_prints_each_problem_with_its_location(app, runner, tmp_path):
    broken = package(replace=[('receivers = ["school"]', 'receivers = ["mars_base"]'),
                              ("unopened_days = 90", "unopened_days = 0")])
    result = run(runner, "upload", write(tmp_path, "broken.zip", broken))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("broken.zip/special_diet.toml: retention.unopened_days")
    assert lines[1].startswith(
        "broken.zip/special_diet.toml: routing.receivers: unknown unit kind 'mars_base'")
    with app.app_context():
        assert stored_count() == 0


def test_a_ten_megabyte_file_is_refused_without_being_stored(app, runner, tmp_path):
    path = write(tmp_path, "huge.toml", b"#" * (10 * 1024 * 1024))
    result = run(runner, "upload", path)
    assert result.exit_code == 1
    assert result.output == ("huge.toml: The file is 10240 kB; a form package may be at most "
                             "512 kB.\n")
    with app.app_context():
        assert stored_count() == 0


def test_under_the_four_eyes_rule_the_command_line_cannot_enable_an_unapproved_version(
        app, runner, tmp_path):
    app.config["FORM_UPLOAD_FOUR_EYES"] = True
    run(runner, "upload", write(tmp_path, "special_diet.zip", package()))
    assert run(runner, "list").output.split("\t")[2] == "awaiting approval"
    result = run(runner, "enable", KEY, 1)
    assert result.exit_code == 1
    assert ("A second administrator must approve version 1 of special_diet before it is "
            "enabled.") in result.output
    with app.app_context():
        assert form_uploads.uploads()[0]["enabled"] is False


def test_enabling_an_unknown_version_names_it(app, runner):
    result = run(runner, "enable", KEY, 3)
    assert result.exit_code == 1
    assert "no uploaded form special_diet version 3" in result.output


def test_a_version_replaced_by_a_newer_one_is_listed_as_replaced_not_disabled(
        app, runner, tmp_path):
    """Enabling v2 leaves v1 loaded for its handovers: it was not switched off, and the list
    (as the admin's page) says what happened to it."""
    for version in (1, 2):
        assert run(runner, "upload", write(tmp_path, f"v{version}.zip", package(
            version=version))).exit_code == 0
        assert run(runner, "enable", KEY, version).exit_code == 0
    states = {line.split("\t")[1]: line.split("\t")[2]
              for line in run(runner, "list").output.splitlines()}
    assert states == {"v2": "enabled", "v1": "replaced by version 2"}
    assert run(runner, "disable", KEY).exit_code == 0
    states = {line.split("\t")[1]: line.split("\t")[2]
              for line in run(runner, "list").output.splitlines()}
    assert states == {"v2": "disabled", "v1": "disabled"}
