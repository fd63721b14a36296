"""Review fixes of plugin loading, seen as the admin and the users see them.

- Two plugins claiming the same form key (or unit kind): the plugin loaded first keeps it, the
  later one fails with the reason shown on it; a built-in is never switched off by a plugin
  dropped into the plugins folder, not even one that asks to be called first.
- A failed plugin contributes nothing: its unit kinds cannot be given to a unit.
- A handover whose form's plugin is not loaded any more is never a 500: its pages say that
  nothing is lost and whom to ask (503), and the lists still list it under its form key.
"""

import lifecycle_support
import pytest
from api_support import bearer, make_token
from formdef_samples import TEST_PLUGINS
from lifecycle_support import FORM_KEY, empty_draft, login_as, send_handover

from handover import create_app
from handover.cli.plugins import plugins_group
from handover.cli.units import create_command
from handover.plugins import manager as plugin_manager
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

DAYCARE_DEFINITION = TEST_PLUGINS.parent.parent / "forms" / "daycare.toml"
TAKES_DAYCARE = f"""
from pathlib import Path
from handover import hookimpl

@hookimpl{{decorator}}
def register_forms(app):
    return [Path({str(DAYCARE_DEFINITION)!r})]
"""


def drop_plugin(instance_path, name, source):
    (instance_path / "plugins" / f"{name}.py").write_text(source)


def plugin_lines(app):
    """``handover plugins list``, one {name: line} per plugin, as the admin reads it."""
    result = app.test_cli_runner().invoke(plugins_group, ["list"])
    assert result.exit_code == 0, result.output
    lines: dict[str, list[str]] = {}
    current: list[str] = []
    for line in result.output.splitlines():
        if not line.startswith(" "):   # indented: a failed plugin's reason, below its line
            current = lines.setdefault(line.split("\t", 1)[0], [])
        current.append(line.strip())
    return {name: "\n".join(found) for name, found in lines.items()}


# -- A: the plugin loaded first keeps what it registered ---------------------------------------


@pytest.mark.parametrize("decorator", ["", "(tryfirst=True)"])
def test_a_folder_plugin_cannot_take_a_built_in_forms_key(instance_path, database_backend, request,
                                                          decorator):
    drop_plugin(instance_path, "hijack", TAKES_DAYCARE.replace("{decorator}", decorator))
    app = request.getfixturevalue("app")
    lines = plugin_lines(app)
    assert "\tbuilt-in\tenabled\t" in lines["daycare"]
    assert "daycare_placed_child v1" in lines["daycare"]
    assert "\tplugins folder\tfailed" in lines["hijack"]
    assert ("'daycare_placed_child' version 1 is already registered by plugin 'daycare'"
            in lines["hijack"])


def test_a_folder_plugin_cannot_take_a_built_in_forms_key_by_a_higher_version(
        instance_path, database_backend, request):
    """The reviewer's takeover: the daycare form again as version 2, which senders would have
    been offered instead of the built-in one, checked by the other plugin's rules."""
    newer = instance_path / "daycare_v2.toml"
    newer.write_text(DAYCARE_DEFINITION.read_text().replace("\nversion = 1\n", "\nversion = 2\n",
                                                            1))
    drop_plugin(instance_path, "hijack", TAKES_DAYCARE.replace("{decorator}", "").replace(
        repr(str(DAYCARE_DEFINITION)), repr(str(newer))))
    app = request.getfixturevalue("app")
    lines = plugin_lines(app)
    assert "\tplugins folder\tfailed" in lines["hijack"]
    assert "'daycare_placed_child' belongs to plugin 'daycare'" in lines["hijack"]
    assert "daycare_placed_child v1" in lines["daycare"] and "v2" not in lines["daycare"]
    with app.app_context():
        assert plugin_manager.registry(app).versions("daycare_placed_child") == [1]


def test_of_two_folder_plugins_with_one_unit_kind_the_first_loaded_keeps_it(
        instance_path, database_backend, request):
    kind = """
from handover import hookimpl

@hookimpl
def register_unit_kinds(app):
    return [{"key": "shared_kind", "labels": {"fi": "Yhteinen", "sv": "Gemensam",
                                              "en": "Shared"}}]
"""
    drop_plugin(instance_path, "a_first", kind)
    drop_plugin(instance_path, "b_second", kind)
    lines = plugin_lines(request.getfixturevalue("app"))
    assert "\tplugins folder\tenabled" in lines["a_first"]
    assert "\tplugins folder\tfailed" in lines["b_second"]
    assert "unit kind 'shared_kind' already exists" in lines["b_second"]


# -- C: a failed plugin contributes nothing ----------------------------------------------------


def test_a_failed_plugins_unit_kind_cannot_be_given_to_a_unit(instance_path, database_backend,
                                                              request):
    drop_plugin(instance_path, "kindfail", f"""
from pathlib import Path
from handover import hookimpl

@hookimpl
def register_unit_kinds(app):
    return [{{"key": "orphan_kind", "labels": {{"fi": "Orpo", "sv": "Föräldralös",
                                              "en": "Orphan"}}}}]

@hookimpl
def register_forms(app):
    return [Path({str(TEST_PLUGINS / "invalid_definition.toml")!r})]
""")
    app = request.getfixturevalue("app")
    assert "\tplugins folder\tfailed" in plugin_lines(app)["kindfail"]
    result = app.test_cli_runner().invoke(
        create_command, ["--name", "Orpo", "--kind", "orphan_kind"])
    assert result.exit_code != 0
    assert "unknown kind 'orphan_kind'" in result.output


# -- B: a handover whose form is not loaded ----------------------------------------------------


@pytest.fixture
def orphaned(app, app_config, world, instance_path):
    """A draft and a sent handover of the test form, then a restart after its plugin was
    removed from the plugins folder: (the restarted app, draft id, sent id, API tokens)."""
    with app.app_context():
        draft_id = empty_draft(app, world)
        sent_id = send_handover(world)
        tokens = {"receiving": make_token(world, "receiving", {"inbox:read", "handover:read"}),
                  "sending": make_token(world, "sending", {"handover:read", "handover:send"})}
    for path in (instance_path / "plugins").glob("lifecycle_form.*"):
        path.unlink()
    restarted = create_app(app_config)
    restarted.test_client_class = app.test_client_class
    yield restarted, draft_id, sent_id, tokens
    with restarted.app_context():
        db.session.remove()
        db.engine.dispose()


def read_as(orphaned, world, user_name, language="en"):
    restarted = orphaned[0]
    client = login_as(restarted.test_client(), restarted, world.users[user_name])
    with client.session_transaction() as session:
        session["language"] = language
    return client


MESSAGES = {
    "fi": ("Lomake ei ole nyt käytössä", "lisäosaa ei ole ladattu",
           "Mitään ei ole kadonnut", "pääkäyttäjää"),
    "sv": ("Blanketten används inte just nu", "tillägg har inte laddats",
           "Ingenting har gått förlorat", "huvudanvändaren"),
    "en": ("This form is not in use now", "its plugin is not loaded",
           "Nothing has been lost", "Ask the administrator"),
}


@pytest.mark.parametrize("language", sorted(MESSAGES))
@pytest.mark.parametrize("page", ["edit", "preview"])
def test_a_draft_whose_form_is_not_loaded_says_so_and_keeps_the_draft(
        orphaned, world, language, page):
    restarted, draft_id = orphaned[0], orphaned[1]
    client = read_as(orphaned, world, "sending_sender", language)
    answer = client.get(f"/handovers/{draft_id}/{page}")
    assert answer.status_code == 503
    text = answer.get_data(as_text=True)
    for part in MESSAGES[language]:
        assert part in text
    assert "version" not in text and FORM_KEY not in text   # the registry's words stay in the log
    with restarted.app_context():
        assert db.session.get(Handover, draft_id).status == "draft"


@pytest.mark.parametrize("page", ["", "/print"])
def test_a_sent_handover_whose_form_is_not_loaded_says_so_and_still_lists(orphaned, world, page):
    sent_id = orphaned[2]
    receiver = read_as(orphaned, world, "receiving_receiver")
    answer = receiver.get(f"/handovers/{sent_id}{page}")
    assert answer.status_code == 503
    assert "Nothing has been lost" in answer.get_data(as_text=True)
    # who may not see it is told nothing more than before
    assert read_as(orphaned, world, "other_receiver").get(
        f"/handovers/{sent_id}{page}").status_code == 404
    # the lists list it under its form key
    for client, listed in ((receiver, "/handovers/inbox"),
                           (read_as(orphaned, world, "sending_sender"), "/handovers/outbox")):
        answer = client.get(listed)
        assert answer.status_code == 200
        assert FORM_KEY in answer.get_data(as_text=True)


def test_the_api_answers_json_and_lists_it(orphaned):
    restarted, sent_id, tokens = orphaned[0], orphaned[2], orphaned[3]
    client = restarted.test_client()
    inbox = client.get("/api/v1/inbox", headers=bearer(tokens["receiving"]))
    assert inbox.status_code == 200, inbox.json
    assert [(item["id"], item["form_title"]) for item in inbox.json["items"]] == [
        (sent_id, FORM_KEY)]
    answer = client.get(f"/api/v1/handovers/{sent_id}", headers=bearer(tokens["receiving"]))
    assert answer.status_code == 503
    assert answer.json["status"] == 503
    assert "plugin is not loaded" in answer.json["message"]


def test_the_refused_reading_records_no_read(orphaned, world):
    """Nothing of the handover was shown: no read is audited and it is not marked opened (as
    before, when the failed page rolled back), and no event of the refusal's own is added."""
    restarted, sent_id = orphaned[0], orphaned[2]
    with restarted.app_context():
        before = db.session.query(AuditEvent).count()
    read_as(orphaned, world, "receiving_receiver").get(f"/handovers/{sent_id}")
    with restarted.app_context():
        assert db.session.get(Handover, sent_id).opened_at is None
        new = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)][before:]
    assert new == []

