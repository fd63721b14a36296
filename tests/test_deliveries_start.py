"""`scripts/start` runs the server and the worker together, and one Ctrl+C stops both: a
newcomer's notices are sent without a second terminal, and nothing is left running."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]

#: Stands in for `handover`: records each call; `run` and `worker` wait until stopped and
#: record how they were stopped.
#: Stands in for `handover`: logs each call; `run` and `worker` log theirs once their trap is
#: set, so that a test's Ctrl+C never comes before the command could hear it.
FAKE_HANDOVER = """#!/bin/sh
case "$1" in
    run|worker)
        trap 'echo "$1 stopped" >> "$0.log"; exit 0' INT TERM
        echo "handover $*" >> "$0.log"
        while :; do sleep 0.1; done ;;
    *)
        echo "handover $*" >> "$0.log" ;;
esac
"""


def _fake_clone(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPOSITORY / "scripts" / "start", tmp_path / "scripts" / "start")
    (tmp_path / "scripts" / "install").write_text("#!/bin/sh\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "handover").write_text(FAKE_HANDOVER)
    for script in ("scripts/start", "scripts/install", ".venv/bin/handover"):
        os.chmod(tmp_path / script, 0o755)
    return tmp_path / ".venv" / "bin" / "handover.log"


def _ctrl_c_as_in_a_terminal():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(log, text, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return True
        time.sleep(0.1)
    return False


def test_one_ctrl_c_stops_the_server_and_the_worker(tmp_path):
    log = _fake_clone(tmp_path)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PORT", "HANDOVER_BASE_URL", "HANDOVER_INSTANCE_PATH")}
    # A terminal's Ctrl+C goes to the whole foreground process group: a session of its own.
    output = tmp_path / "output.txt"
    with open(output, "w") as console:
        # As from a terminal: Ctrl+C not ignored. A process the test runs in may ignore it (a
        # pytest-xdist worker, after some earlier test), and a shell cannot trap a signal that
        # was ignored when it started.
        started = subprocess.Popen([str(tmp_path / "scripts" / "start"), "--port", "8126"],
                                   env=environment, start_new_session=True, stdout=console,
                                   preexec_fn=_ctrl_c_as_in_a_terminal)  # noqa: PLW1509
    try:
        assert _wait_for(log, "handover run --host 127.0.0.1 --port 8126")
        assert "handover worker" in log.read_text()
        os.killpg(started.pid, signal.SIGINT)
        started.wait(timeout=15)
    finally:
        if started.poll() is None:
            os.killpg(started.pid, signal.SIGKILL)
    calls = log.read_text()
    assert "run stopped" in calls and "worker stopped" in calls
    assert "with the worker (Ctrl+C stops both)" in output.read_text()
