"""An operator names a unit on the command line as they remember it: `handover users create
--unit` finds "Äänekosken päiväkoti" typed in capitals, in lower case or with its ä decomposed
(unit names are unique regardless of these, `Unit.name_key`), and a name that matches no unit
is one line naming the closest units there are, never a traceback."""

import pytest
from support import create_unit

from handover.cli import cli
from handover.store.database import db
from handover.store.models import User

PASSWORD = "kolme vihreää omenaa pöydällä"


@pytest.fixture
def app_config(app_config):
    """The CLI answers in English."""
    return {**app_config, "CLI_LANGUAGE": "en"}


@pytest.fixture
def units(app):
    """Three units, one of them with ä in its name."""
    with app.app_context():
        for name in ("Äänekosken päiväkoti", "Majakka", "Osasto 3"):
            create_unit(name, "daycare")


def create_with_unit(runner, unit_name):
    return runner.invoke(cli, args=[
        "users", "create", "--email", "kaisa@example.fi", "--name", "Kaisa Koskinen",
        "--unit", unit_name, "--role", "sender", "--password-stdin"], input=PASSWORD + "\n")


def memberships(app):
    with app.app_context():
        return [(m.unit.name, m.role) for user in db.session.query(User)
                for m in user.memberships]


@pytest.mark.parametrize("typed", [
    "ÄÄNEKOSKEN PÄIVÄKOTI",
    "äänekosken päiväkoti",
    " Äänekosken Päiväkoti ",
    "A\u0308a\u0308nekosken pa\u0308iva\u0308koti",   # each ä as a and a combining diaeresis
])
def test_the_unit_is_found_whatever_its_capitals_or_encoding(app, runner, units, typed):
    result = create_with_unit(runner, typed)
    assert result.exit_code == 0, result.output
    assert memberships(app) == [("Äänekosken päiväkoti", "sender")]


@pytest.mark.parametrize(("typed", "closest"), [
    ("Majaka", "'Majakka'"),
    ("Äänekosken koulu", "'Äänekosken päiväkoti'"),
    ("osasto 4", "'Osasto 3'"),
])
def test_an_unknown_unit_is_one_line_naming_the_closest(app, runner, units, typed, closest):
    result = create_with_unit(runner, typed)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: --unit: no unit named {typed!r}")
    assert f"Closest: {closest}" in lines[0]
    with app.app_context():
        assert db.session.query(User).count() == 0, "nobody is created half-way"


def test_without_any_unit_the_line_says_how_to_make_one(app, runner):
    result = create_with_unit(runner, "Majakka")
    assert result.exit_code != 0 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["Error: --unit: no unit named 'Majakka'; there are no units yet "
                     "(`handover units create`)."]
