"""Arrival notices through the outbox, with a mail server that is down, then up; a worker killed
with SIGKILL in the middle of a batch; and a mail server that stalls, which the sending request
must not notice. Real `handover worker` processes and a real SMTP server (aiosmtpd)."""

import time
from collections import Counter

import harness
from outbox_support import (
    Mailbox,
    StallingSmtp,
    Worker,
    attempted_all,
    configure,
    outbox,
    send_in_process,
    smtp_server,
)


def _expected(server, people, sent):
    """{(address, handover id)} every send must reach: each receiving unit's receiver."""
    address_of = {person["unit_id"]: person["email"] for person in people.receivers}
    return {(address_of[unit_id], handover_id) for handover_id, unit_id in sent.items()}


def test_sends_while_smtp_is_down_are_each_delivered_once_when_it_returns(make_server, report):
    server = make_server(start=False)
    port = harness.free_port()
    configure(server, port)
    people = harness.People(server, 1, 4)
    worker = Worker(server).start()
    controller = None
    try:
        sent = send_in_process(server, people, 100)
        harness.wait_until(lambda: attempted_all(server), timeout=60)
        waiting = outbox(server)
        report(f"100 sends with SMTP down: outbox {waiting}")
        assert waiting.get("delivered", 0) == 0
        assert waiting.get("pending", 0) + waiting.get("sending", 0) == 100

        mailbox = Mailbox()
        controller = smtp_server(port, mailbox)
        started = time.monotonic()
        harness.wait_until(lambda: outbox(server).get("delivered") == 100, timeout=90)
        report(f"SMTP back: 100 delivered in {time.monotonic() - started:.1f} s")
        time.sleep(2)  # a late repeat would arrive now
    finally:
        worker.stop()
        if controller:
            controller.stop()
    received = Counter((address, handover_id) for address, handover_id, _ in mailbox.messages)
    assert set(received) == _expected(server, people, sent)
    assert max(received.values()) == 1, [key for key, n in received.items() if n > 1]


def test_worker_killed_mid_batch_loses_and_doubles_nothing(make_server, report):
    """One delivery thread, killed while the mail server holds its MAIL command: the message in
    flight was not accepted, so it is sent once after the restart; what was accepted before is
    marked and not sent again."""
    server = make_server(start=False)
    port = harness.free_port()
    configure(server, port)
    people = harness.People(server, 1, 4)
    mailbox = Mailbox(mail_delay=0.05)
    controller = smtp_server(port, mailbox)
    worker = Worker(server, threads=1)
    try:
        sent = send_in_process(server, people, 60)
        in_flight = harness.threading.Event()
        mailbox.on_mail = lambda: mailbox.count() >= 15 and in_flight.set()
        worker.start()
        assert in_flight.wait(60)
        worker.kill()
        delivered_before = outbox(server).get("delivered", 0)
        report(f"worker SIGKILLed with {mailbox.count()}/60 messages received, "
               f"{delivered_before} marked delivered")
        assert 0 < delivered_before < 60
        mailbox.on_mail = None
        worker = Worker(server, threads=1).start()
        harness.wait_until(lambda: outbox(server).get("delivered") == 60, timeout=90)
        time.sleep(2)
    finally:
        worker.stop()
        controller.stop()
    received = Counter((address, handover_id) for address, handover_id, _ in mailbox.messages)
    assert set(received) == _expected(server, people, sent)
    assert max(received.values()) == 1, [key for key, n in received.items() if n > 1]


def test_the_send_request_does_not_wait_for_a_stalling_mail_server(make_server, report):
    server = make_server(start=False)
    port = harness.free_port()
    stall = StallingSmtp(port, stall=10.0)
    configure(server, port, "SMTP_TIMEOUT = 10\n")
    server.start()
    people = harness.People(server, 1, 1)
    worker = Worker(server).start()
    try:
        client = harness.Client(server.url).login(people.senders[0])
        draft_id = client.start_draft(people.sending_unit_id, people.receiving_unit_ids[0])
        assert client.fill(draft_id, "stall").status == 302
        client.get(f"/handovers/{draft_id}/preview")
        started = time.monotonic()
        _, ok = client.send(draft_id)
        seconds = time.monotonic() - started
        assert ok
        harness.wait_until(lambda: stall.connections > 0, timeout=30)
        report(f"send answered in {seconds:.2f} s while the mail server stalls "
               f"{stall.stall:.0f} s; outbox {outbox(server)}")
        assert seconds < stall.stall / 2
        assert outbox(server).get("delivered", 0) == 0
    finally:
        worker.kill()  # its delivery thread is still waiting on the stalled server
        stall.close()
