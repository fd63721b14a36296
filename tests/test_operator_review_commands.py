"""What an operator following README.md found in the commands, fixed: a command that found no
secret key names the folder it looked in and HANDOVER_INSTANCE_PATH; `handover check` leaves
the committed instance/README.md alone, says nothing meaningless about a SQLite database whose
folder is missing, and gives one command for every demo account; `units list` shows the ids the
API takes; `keys rotate` names the KEKs to retire and `keys list` lists them."""

import os
from pathlib import Path

import pytest

import handover
from handover import create_app
from handover.cli.check import find_problems
from handover.cli.demo import DEMO_PASSWORD
from handover.config import ConfigurationError
from handover.store.database import db
from handover.store.models import User
from tests.support import create_unit, create_user, invoke, run_all
from tests.test_check import production_config  # noqa: F401  (a fixture)
from tests.test_crypto import make_handover

# --- 3. no secret key: the folder looked in, and HANDOVER_INSTANCE_PATH -------------------


def _environment(**variables):
    """The operator's shell: none of the test run's HANDOVER_ settings."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("HANDOVER_")}
    environment.update(FLASK_SKIP_DOTENV="1",
                       PYTHONPATH=str(Path(handover.__file__).resolve().parents[1]),
                       **variables)
    return environment


def test_no_secret_key_names_the_folder_and_handover_instance_path(tmp_path):
    folder = tmp_path / "elsewhere"
    environment = _environment(HANDOVER_INSTANCE_PATH=str(folder))
    commands = (["backup", str(tmp_path / "backup")], ["audit", "verify"], ["db", "upgrade"],
                ["users", "list"])

    results = run_all([(command, environment) for command in commands])

    expected = (f"Error: No secret key is configured in the instance folder {folder} (looked "
                f"for SECRET_KEY in {folder / 'config.py'}) nor in HANDOVER_SECRET_KEY. If that "
                "is not the instance's folder, set HANDOVER_INSTANCE_PATH to it. Run "
                "`handover init` only to create a new instance there.")
    for command, (returncode, _stdout, stderr) in zip(commands, results, strict=True):
        assert returncode == 2, (command, stderr)
        assert stderr.strip() == expected, command
    assert not folder.exists()


def test_the_default_folder_is_named_too(monkeypatch):
    monkeypatch.delenv("HANDOVER_INSTANCE_PATH", raising=False)
    monkeypatch.delenv("HANDOVER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    default = create_app({"INITIALISING_INSTANCE": True}).instance_path
    assert f"in the instance folder {default} (looked" in str(refused.value)


# --- 5. the committed instance/README.md is not a finding --------------------------------


def test_check_leaves_the_committed_readme_alone(app, instance_path):
    for name in ("README.md", ".gitkeep", "notes.txt"):
        (instance_path / name).write_text("committed\n")
        os.chmod(instance_path / name, 0o644)

    findings = [finding.message for finding in find_problems(app) if "has mode" in finding.message]

    assert findings == [f"{instance_path / 'notes.txt'} has mode 0644: other accounts can read "
                        f"it. Run `chmod 600 {instance_path / 'notes.txt'}`."]


def test_the_checkout_readme_is_what_git_gives():
    readme = Path(handover.__file__).resolve().parents[1] / "instance" / "README.md"
    text = readme.read_text()
    assert "nothing else ever writes here" not in text
    assert "Nothing in this folder is committed" not in text


# --- 10. `handover check`: a missing SQLite folder, every demo account ---------------------


def test_a_missing_instance_folder_is_one_finding_on_sqlite(production_config,  # noqa: F811
                                                            tmp_path, database_backend,
                                                            monkeypatch):
    if database_backend != "sqlite":
        pytest.skip("the SQLite file's folder")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    missing = tmp_path / "nowhere"
    production_config.update(INSTANCE_PATH=str(missing),
                             SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing / 'handover.sqlite3'}")
    app = create_app(production_config)
    result = invoke(app, "check")

    assert f"error: The instance folder {missing} does not exist." in result.output
    assert "cannot be reached" not in result.output
    assert "OperationalError" not in result.output
    assert result.exit_code == 1


def test_check_gives_one_command_for_every_demo_account(app):
    emails = [f"demo{number}@demo.handover.example" for number in range(12)]
    with app.app_context():
        for email in emails:
            create_user(email, password=DEMO_PASSWORD, enrolled=False)

    [finding] = [finding for finding in find_problems(app) if "demo account" in finding.message]

    assert "12 demo account(s)" in finding.message
    assert "more" not in finding.message
    command = finding.message.split("`")[1]
    assert command.split() == ["handover", "users", "deactivate", *sorted(emails)]

    result = invoke(app, *command.split()[1:])
    assert result.exit_code == 0, result.output
    assert result.output.count("Deactivated ") == 12
    assert not [finding for finding in find_problems(app) if "demo account" in finding.message]


def test_deactivating_several_with_one_unknown_changes_nobody(app):
    with app.app_context():
        create_user("known@example.fi")
    result = invoke(app, "users", "deactivate", "known@example.fi", "nobody@example.fi")
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: No user with the e-mail address "
                                     "'nobody@example.fi'; nobody was deactivated.")
    with app.app_context():
        assert db.session.scalar(db.select(User.active).where(
            User.email == "known@example.fi"))


# --- 6. `units list` shows ids --------------------------------------------------------------


def test_units_list_shows_each_units_id(app):
    with app.app_context():
        first = create_unit("Päiväkoti Satakieli", "daycare").id
        second = create_unit("Koulu Kivikko", "school").id
    result = invoke(app, "units", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert f"id: {first}\tPäiväkoti Satakieli\tdaycare\t-\tactive\tmembers: 0" in lines
    assert f"id: {second}\tKoulu Kivikko\tschool\t-\tactive\tmembers: 0" in lines


# --- 7. `keys rotate` names the old KEKs; `keys list` lists every KEK ----------------------


def test_rotate_names_the_old_keks_and_list_shows_what_each_wraps(app):
    from handover.security import keys
    with app.app_context():
        old = keys.active_kek_id()
        make_handover()
        material = keys.load_keyring()["keks"][old]   # as the key file holds it (base64)

    listed = invoke(app, "keys", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0].startswith(f"{old}\tfile\tactive\t1 data key(s)")

    rotated = invoke(app, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert rotated.output.splitlines()[-1] == (
        f"Old KEKs can now be retired, each with `handover keys retire OLD_ID`: {old}. "
        "`handover keys list` shows what each still wraps.")

    listed = invoke(app, "keys", "list")
    with app.app_context():
        new = keys.active_kek_id()
    lines = listed.output.splitlines()
    assert lines[0].startswith(f"{old}\tfile\told, unused: `handover keys retire` can remove "
                               "it\t0 data key(s)")
    assert lines[1].startswith(f"{new}\tfile\tactive\t1 data key(s)")
    assert lines[-1] == f"2 KEK(s); active: {new}."
    assert material not in listed.output

    assert invoke(app, "keys", "retire", old).exit_code == 0
    lines = invoke(app, "keys", "list").output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{new}\tfile\tactive\t1 data key(s)")
    assert lines[1] == f"1 KEK(s); active: {new}."
