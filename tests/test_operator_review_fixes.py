"""What an operator reviewer found, each fixed: a plugin that calls ``sys.exit()`` is switched
off with its reason instead of ending the server or every ``handover`` command; a damaged
backup manifest is refused in one line; ``handover check`` never sends an initialised instance
that lost its key file to ``handover init``. (The wheel's translations and WSGI module are
checked in tests/test_wheel.py.)"""

import json
import os
import signal
import threading

import lifecycle_support
import pytest
from lifecycle_support import login_as, send_handover
from support import invoke

from handover.plugins import manager as plugin_manager
from handover.plugins.manager import call_hook
from handover.services.backup import KEYS_BACKUP, MANIFEST
from handover.store.database import db
from handover.store.models import AuditEvent

world = lifecycle_support.world

EXITS_AT_IMPORT = 'import sys\nsys.exit("missing dependency")\n'
EXITS_WHEN_OPENED = """
import sys
from handover import hookimpl

@hookimpl
def handover_opened(handover):
    sys.exit(3)
"""
#: A hook that does what the named test asks of it (``ACTION`` is set by the test).
ACTS = """
import os
import signal
from handover import hookimpl

ACTION = None

@hookimpl
def handover_sent(handover):
    if ACTION == "interrupt":
        raise KeyboardInterrupt
    if ACTION == "signal":
        os.kill(os.getpid(), signal.SIGUSR1)
"""


def _plugin_app(instance_path, request, **modules):
    """The app, with ``modules`` ({name: source}) dropped into the instance's plugins folder."""
    for name, source in modules.items():
        (instance_path / "plugins" / f"{name}.py").write_text(source)
    return request.getfixturevalue("app")


# --- 1. sys.exit() in a plugin ---------------------------------------------------------------

def test_a_plugin_exiting_at_import_is_disabled_with_its_reason(instance_path, database_backend,
                                                               request):
    app = _plugin_app(instance_path, request, p_exit=EXITS_AT_IMPORT)

    with app.app_context():
        record = plugin_manager.plugin("p_exit")
        assert record.error == "could not be imported: SystemExit: missing dependency"
        assert not record.active
        assert "daycare_placed_child" in [d.key for d in plugin_manager.registry().forms()]
    assert app.test_client().get("/login").status_code == 200

    listing = invoke(app, "plugins", "list")
    assert listing.exit_code == 0, listing.output
    assert "could not be imported: SystemExit: missing dependency" in listing.output
    disabled = invoke(app, "plugins", "disable", "p_exit")
    assert disabled.exit_code == 0, disabled.output
    checked = invoke(app, "plugins", "check", str(instance_path / "plugins" / "p_exit.py"))
    assert checked.exit_code == 1
    assert "could not be imported: SystemExit: missing dependency" in checked.output


@pytest.fixture
def exiting_world(instance_path, database_backend, request):
    """The lifecycle world, with a plugin whose handover_opened calls sys.exit(3)."""
    lifecycle_support.install_plugin(instance_path)
    (instance_path / "plugins" / "exits_when_opened.py").write_text(EXITS_WHEN_OPENED)
    return request.getfixturevalue("world")


def test_a_hook_exiting_at_run_time_switches_its_plugin_off(exiting_world, app):
    with app.app_context():
        handover_id = send_handover(exiting_world)
    client = login_as(app.test_client(), app, exiting_world.users["receiving_receiver"])

    page = client.get(f"/handovers/{handover_id}")   # the first view fires handover_opened

    assert page.status_code == 200
    with app.app_context():
        record = plugin_manager.plugin("exits_when_opened")
        assert not record.enabled
        assert record.failure == "hook handover_opened raised SystemExit"
        event = db.session.query(AuditEvent).filter_by(action="plugins.failed").one()
        assert "exits_when_opened" in event.detail and "SystemExit" in event.detail
    assert client.get(f"/handovers/{handover_id}").status_code == 200


def test_what_must_reach_the_process_still_does(instance_path, database_backend, request):
    """Ctrl+C, and the process's own signal handlers stopping it (gunicorn's worker exits from
    its SIGQUIT and timeout handlers), pass through a plugin; the plugin is not blamed."""
    from handover.plugins.state import is_plugin_failure

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can be installed in the main thread only")
    app = _plugin_app(instance_path, request, acts=ACTS)
    module = app.extensions["handover_plugins"].records["acts"].module

    def stop(_number, _frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGUSR1, stop)
    try:
        with app.test_request_context("/"):
            for action, expected in (("interrupt", KeyboardInterrupt), ("signal", SystemExit)):
                module.ACTION = action
                with pytest.raises(expected):
                    call_hook("handover_sent", handover=None)
                assert plugin_manager.plugin("acts").failure is None, action
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert not is_plugin_failure(GeneratorExit())
    assert is_plugin_failure(SystemExit("missing dependency"))


# --- 5. a damaged backup manifest --------------------------------------------------------------

DAMAGED_MANIFESTS = {
    "not JSON": "{",
    "a list": "[]",
    "no database file": json.dumps({"format": 1, "database": "sqlite"}),
    "no format": json.dumps({"database": "sqlite"}),
    "a path outside the folder": json.dumps({
        "format": 1, "created_at": "2026-01-01T00:00:00+00:00", "database": "sqlite",
        "database_file": "../../etc/passwd", "database_sha256": "0" * 64,
        "keys_file": KEYS_BACKUP, "schema_revision": None,
        "handovers": {"total": 0, "by_status": {}}, "kek_ids": []}),
    "counts of the wrong type": json.dumps({
        "format": 1, "created_at": "2026-01-01T00:00:00+00:00", "database": "sqlite",
        "database_file": "handover-database.sqlite3", "database_sha256": "0" * 64,
        "keys_file": KEYS_BACKUP, "schema_revision": None, "handovers": [], "kek_ids": "k1"}),
    "not UTF-8": b"\xff\xfe{}",
}


@pytest.mark.parametrize("damage", DAMAGED_MANIFESTS)
def test_a_damaged_manifest_is_refused_in_one_line(app, tmp_path, damage):
    folder = tmp_path / "backup"
    folder.mkdir()
    content = DAMAGED_MANIFESTS[damage]
    manifest = folder / MANIFEST
    if isinstance(content, bytes):
        manifest.write_bytes(content)
    else:
        manifest.write_text(content)
    (folder / KEYS_BACKUP).write_text("{}")

    result = invoke(app, "restore", str(folder), "--with-keys")

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {manifest} is not a valid Handover backup manifest")
    assert "Traceback" not in result.output


def test_a_backup_without_its_database_copy_is_refused_in_one_line(app, tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps({
        "format": 1, "created_at": "2026-01-01T00:00:00+00:00", "database": "sqlite",
        "database_file": "handover-database.sqlite3", "database_sha256": "0" * 64,
        "keys_file": KEYS_BACKUP, "schema_revision": None,
        "handovers": {"total": 0, "by_status": {}}, "kek_ids": [], "kek_checks": {}}))

    result = invoke(app, "restore", str(folder))

    assert result.exit_code == 1, result.output
    assert result.output.strip() == (f"Error: No handover-database.sqlite3 in {folder}: the "
                                     "backup is incomplete. Nothing was changed.")


# --- 7. `handover check` without the key file --------------------------------------------------

def _key_file_finding(app):
    result = invoke(app, "check")
    lines = [line for line in result.output.splitlines() if "No key file at" in line]
    assert len(lines) == 1, result.output
    assert result.exit_code == 1
    return lines[0]


def test_check_sends_an_initialised_instance_to_the_key_backup(app_config, instance_path,
                                                               database_backend, request):
    (instance_path / "config.py").write_text(f"SECRET_KEY = {app_config['SECRET_KEY']!r}\n")
    app = request.getfixturevalue("app")   # start-up itself refuses without the key file
    os.unlink(instance_path / "keys.json")

    finding = _key_file_finding(app)

    assert finding.startswith("error: ")
    assert f"No key file at {instance_path / 'keys.json'}" in finding
    assert "key backup" in finding and KEYS_BACKUP in finding
    assert "handover init" not in finding   # it would refuse: "Already initialised"


def test_check_sends_an_instance_never_set_up_to_init(instance_path, database_backend, request):
    app = request.getfixturevalue("app")   # start-up itself refuses without the key file
    os.unlink(instance_path / "keys.json")

    assert "Run `handover init`" in _key_file_finding(app)
