"""Crash and key rotation under load: gunicorn killed with SIGKILL mid-load and restarted, and
`handover keys rotate` run while senders send. Every send that was told "sent" opens afterwards,
no sealed value is half-written (`handover keys check`), no draft disappears, and the audit chain
verifies."""

import time

import harness
from test_load import sizes


def _check_everything_survived(server, load, report):
    harness.fresh_app(server)
    opened = harness.verify_sent(server, load.sent)
    stored = harness.draft_ids(server)
    keys = server.cli("keys", "check")
    audit = server.cli("audit", "verify")
    report(f"{len(opened)} sent handovers open; {len(load.drafts)} drafts made, "
           f"{len(load.drafts - stored)} missing; keys check exit {keys.returncode}; "
           f"audit verify exit {audit.returncode}")
    assert load.drafts <= stored
    assert keys.returncode == 0, keys.stdout + keys.stderr
    assert audit.returncode == 0, audit.stdout + audit.stderr
    return opened


def test_sigkill_mid_load_then_restart_loses_no_sent_handover(make_server, report):
    senders, per_sender, receivers = sizes()
    server = make_server(workers=2)
    people = harness.People(server, senders, receivers)
    target = senders * per_sender

    def crash(load):
        harness.wait_until(lambda: len(load.sent) >= target // 3, timeout=300)
        sent_before = len(load.sent)
        server.kill()
        time.sleep(1)
        server.start()
        report(f"killed with SIGKILL after {sent_before}/{target} sends; restarted")

    load = harness.Load(server, people, per_sender, deadline_seconds=900).run(during=crash)
    report(f"{len(load.sent)} sends answered 'sent', {len(load.failures)} failed or cut off, "
           f"{len(load.errors)} connection errors while down, "
           f"5xx: {len(load.server_errors())}, {load.seconds:.1f} s")
    assert len(load.sent) > target // 3
    opened = _check_everything_survived(server, load, report)
    acknowledged_ids = {draft_id for token, draft_id in load.sent.items()
                        if opened[token][0] == "acknowledged"}
    assert load.acknowledged & set(load.sent.values()) <= acknowledged_ids
    assert load.server_errors() == []


def test_key_rotation_during_load_loses_nothing(make_server, report):
    senders, per_sender, receivers = sizes()
    server = make_server(workers=2)
    people = harness.People(server, senders, receivers)
    target = senders * per_sender
    rotations = []

    def rotate(load):
        harness.wait_until(lambda: len(load.sent) >= target // 3, timeout=300)
        started = time.monotonic()
        result = server.cli("keys", "rotate")
        rotations.append((result, len(load.sent), time.monotonic() - started))

    load = harness.Load(server, people, per_sender, deadline_seconds=900).run(during=rotate)
    result, sent_at_rotation, seconds = rotations[0]
    report(f"keys rotate after {sent_at_rotation}/{target} sends took {seconds:.1f} s "
           f"(exit {result.returncode}); {len(load.sent)} sent, "
           f"{len(load.acknowledged)} acknowledged, 5xx: {len(load.server_errors())}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert load.errors == [] and load.server_errors() == [] and load.failures == []
    assert len(load.sent) == target
    opened = _check_everything_survived(server, load, report)
    assert {status for status, _ in opened.values()} == {"acknowledged"}
