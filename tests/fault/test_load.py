"""Load: N senders each sending M handovers while R receivers poll their inboxes and
acknowledge, against gunicorn with two workers. Nothing may answer 5xx; every send that was told
"sent" is stored exactly once, opens, and is acknowledged by the end."""

import harness


def sizes():
    factor = harness.scale()
    return (max(2, round(50 * factor)), max(2, round(20 * factor)), max(2, round(20 * factor)))


def test_concurrent_senders_and_receivers_lose_nothing(make_server, report):
    senders, per_sender, receivers = sizes()
    server = make_server(workers=2)
    people = harness.People(server, senders, receivers)
    load = harness.Load(server, people, per_sender, deadline_seconds=900).run()

    report(f"{senders} senders x {per_sender} handovers, {receivers} receivers: "
           f"{len(load.sent)} sent, {len(load.acknowledged)} acknowledged, "
           f"{len(load.statuses)} requests in {load.seconds:.1f} s "
           f"({len(load.statuses) / load.seconds:.0f} req/s), "
           f"5xx: {len(load.server_errors())}, failed sends: {len(load.failures)}, "
           f"client errors: {len(load.errors)}")
    assert load.errors == []
    assert load.server_errors() == []
    assert load.failures == []
    assert len(load.sent) == senders * per_sender
    opened = harness.verify_sent(server, load.sent)
    assert {status for status, _ in opened.values()} == {"acknowledged"}
    assert sorted(content["health_notes"] for _, content in opened.values()) == sorted(
        f"load-{i}-{n}" for i in range(senders) for n in range(per_sender))
    assert harness.count_handovers(server, "sent", "opened", "acknowledged") == len(load.sent)
