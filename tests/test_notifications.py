"""E-mail notifications through a real SMTP server (aiosmtpd): arrival to the unit, overdue to
the unit lead once; nothing about the child in any message. The notices go through the outbox:
`deliveries.deliver_due()` does here what the worker does."""

import email
import email.header
import email.utils
from datetime import timedelta

import lifecycle_support
import pytest
from aiosmtpd.controller import Controller
from lifecycle_support import (
    ADDRESS,
    CHILD_CODE,
    CHILD_NAME,
    FREE_TEXT_MARKER,
    access_for,
    handover,
    install_plugin,
    send_handover,
)
from support import free_port

from handover.cli import cli
from handover.services import (
    deliveries,
    notifications,
    replies,
    returning,
    sending,
    withdrawal,
)
from handover.store.models.base import utcnow

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
world = lifecycle_support.world



class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free local port for the duration of a test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def app_config(app_config, instance_path, smtp_server):
    """The test plugin installed and mail going to the test SMTP server."""
    controller, _ = smtp_server
    install_plugin(instance_path)
    app_config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
                      MAIL_FROM="handover@example.test")
    return app_config


def _assert_no_child_data(text):
    for secret in (CHILD_NAME, CHILD_CODE, FREE_TEXT_MARKER, ADDRESS, "Testilomake"):
        assert secret not in text


def test_arrival_mail_reaches_receiving_and_copy_units_without_child_data(
        app, world, smtp_server):
    _, inbox = smtp_server
    with app.app_context():
        hid = send_handover(world)
        assert inbox.messages == []  # the send did not talk to the mail server
        deliveries.deliver_due()
    recipients = {address for rcpts, _ in inbox.messages for address in rcpts}
    assert {"receiving.receiver@example.test", "receiving.lead@example.test",
            "copy.receiver@example.test"} <= recipients
    assert not any(r.startswith(("sending.", "other.")) for r in recipients)
    for _, text in inbox.messages:
        _assert_no_child_data(text)
        assert f"http://localhost/handovers/{hid}" in text
        assert "Uusi tiedonsiirto" in text and "En ny" in text and "A new handover" in text
        # RFC 5322 asks for it; a mail client shows it as the notice's time.
        date = email.message_from_string(text)["Date"]
        assert date and email.utils.parsedate_to_datetime(date) <= utcnow()


def test_overdue_mails_the_lead_once(app, world, smtp_server):
    _, inbox = smtp_server
    with app.app_context():
        late = send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
        send_handover(world, copies=False)
        deliveries.deliver_due()
        inbox.messages.clear()
        assert notifications.notify_overdue() == [late]
        assert notifications.notify_overdue() == []
        deliveries.deliver_due()
        assert handover(late).overdue_notified_at is not None
    assert [rcpts for rcpts, _ in inbox.messages] == [["receiving.lead@example.test"]]
    _assert_no_child_data(inbox.messages[0][1])


def test_no_overdue_notice_once_the_receiving_unit_has_replied(app, world, smtp_server):
    """It has the handover in hand (the ward wrote in its thread) though nobody pressed
    "acknowledge": its lead is not told that the handover lies unread."""
    with app.app_context():
        answered = send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
        unanswered = send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
        replies.add_message(access_for(world, "receiving_receiver", answered, "reply"),
                            world.user("receiving_receiver"), "Lapsi on osastolla.")
        assert notifications.notify_overdue() == [unanswered]


def test_notices_queued_before_the_unit_lost_its_reason_are_not_sent(app, world, smtp_server):
    """A message's notice to a unit that returned the handover before the worker came (it has
    no access now), and an overdue notice after the receiving unit replied, are dropped."""
    _, inbox = smtp_server
    with app.app_context():
        returned = send_handover(world, copies=False)
        late = send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
        deliveries.deliver_due()
        inbox.messages.clear()
        replies.add_message(access_for(world, "sending_sender", returned, "reply"),
                            world.user("sending_sender"), "Vielä yksi asia")
        returning.give_back(access_for(world, "receiving_receiver", returned, "return"),
                            world.user("receiving_receiver"), "wrong_unit", "")
        assert notifications.notify_overdue() == [late]
        replies.add_message(access_for(world, "receiving_receiver", late, "reply"),
                            world.user("receiving_receiver"), "Lapsi on osastolla.")
        deliveries.deliver_due()
    told = [(rcpts, str(email.header.make_header(email.header.decode_header(
        email.message_from_string(text)["Subject"])))) for rcpts, text in inbox.messages]
    assert not any(r.startswith("receiving.") for rcpts, _ in told for r in rcpts), told
    assert not any("not been acknowledged" in subject for _, subject in told), told


def test_notify_overdue_command(app, runner, world, smtp_server):
    with app.app_context():
        send_handover(world, copies=False, now=utcnow() - timedelta(hours=25))
    result = runner.invoke(cli, args=["notify-overdue"])
    assert result.exit_code == 0 and "1 overdue" in result.output


def test_a_message_in_the_thread_is_mailed_to_the_other_unit_only(app, world, smtp_server):
    _, inbox = smtp_server
    with app.app_context():
        hid = send_handover(world)
        deliveries.deliver_due()
        inbox.messages.clear()
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), f"Lääkitys {FREE_TEXT_MARKER}")
        deliveries.deliver_due()
        told_sender = {address for rcpts, _ in inbox.messages for address in rcpts}
        texts = [text for _, text in inbox.messages]
        inbox.messages.clear()
        replies.add_message(access_for(world, "sending_sender", hid, "reply"),
                            world.user("sending_sender"), "Kiitos")
        deliveries.deliver_due()
    told_receiver = {address for rcpts, _ in inbox.messages for address in rcpts}
    assert told_sender == {"sending.sender@example.test", "sending.lead@example.test"}
    # The one who wrote is not told; a copy unit has no thread to read.
    assert told_receiver == {"receiving.lead@example.test", "receiving.receiver@example.test"}
    for text in texts + [text for _, text in inbox.messages]:
        _assert_no_child_data(text)
        assert "Uusi viesti" in text and "A new message" in text
        assert f"http://localhost/handovers/{hid}" in text


def test_a_correction_arrives_as_a_correction_in_the_mail_the_list_and_the_page(
        app, client, world, smtp_server):
    """The receiving unit has read and acted on the first version: the correction must not look
    like one more new handover."""
    _, inbox = smtp_server
    with app.app_context():
        first = send_handover(world)
        deliveries.deliver_due()
        inbox.messages.clear()
        draft = withdrawal.correct(access_for(world, "sending_sender", first, "correct"),
                                   world.user("sending_sender"))
        corrected = sending.send(world.user("sending_sender"), draft, "correction-token").id
        deliveries.deliver_due()
    assert inbox.messages
    for _, text in inbox.messages:
        subject = email.message_from_string(text)["Subject"]
        assert "Korjattu tiedonsiirto" in subject and "A corrected handover" in subject
        assert "Uusi tiedonsiirto" not in text
        _assert_no_child_data(text)
    lifecycle_support.login_as(client, app, world.users["receiving_receiver"])
    inbox_page = client.get("/handovers/inbox").get_data(as_text=True)
    row = inbox_page[inbox_page.index(f"#{corrected}</a>"):].split("</tr>")[0]
    assert f"Correction of #{first}" in row
    page = client.get(f"/handovers/{corrected}").get_data(as_text=True)
    notice = page.index("This handover corrects handover #")
    assert notice < page.index('class="content-section"')
    assert f'href="/handovers/{first}">{first}</a>' in page[notice:notice + 300]


def test_without_smtp_the_log_names_only_the_unit(app, world, caplog):
    app.config["SMTP_HOST"] = None
    with app.app_context(), caplog.at_level("INFO"):
        send_handover(world)
        deliveries.deliver_due()
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert f"notification to {world.units['receiving'].id}" in logged
    _assert_no_child_data(logged)


class Refusing(Inbox):
    """A mail server that refuses ``receiving.lead`` with ``lead_reply`` (no such user, 550,
    unless told otherwise), and is busy for ``receiving.receiver`` (450)."""

    def __init__(self, lead_reply="550 5.1.1 No such user"):
        super().__init__()
        self.lead_reply = lead_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("receiving.lead@"):
            return self.lead_reply
        if address.startswith("receiving.receiver@"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.parametrize("lead_reply, lead_outcome", [
    ("550 5.1.1 No such user", ("failed", "SMTP 550: recipient refused")),
    ("552 5.2.2 Mailbox full", ("pending", "SMTP 552: recipient refused")),   # may pass later
])
def test_a_mailbox_the_server_says_does_not_exist_fails_at_once(app_config, request, lead_reply,
                                                                 lead_outcome):
    """A 550 for the address was retried for three days like a server that was down, and the
    administrator saw only the exception's name; a 450 is tried again."""
    controller = Controller(Refusing(lead_reply), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app_config["SMTP_PORT"] = controller.port
        app = request.getfixturevalue("app")
        world = request.getfixturevalue("world")
        with app.app_context():
            send_handover(world, copies=False)
            outcomes = {row.recipient: (row.status, row.last_error)
                        for row in deliveries.deliver_due()}
    finally:
        controller.stop()
    assert outcomes["receiving.lead@example.test"] == lead_outcome
    assert outcomes["receiving.receiver@example.test"] == ("pending",
                                                           "SMTP 450: recipient refused")


def test_a_mail_server_answering_a_line_at_a_time_is_given_up_on_in_time(app_config, request):
    """smtplib's timeout bounds each wait: a greeting sent a line every half second held the
    worker's thread for as long as the server went on."""
    import socket
    import threading

    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def drip():
        connection, _ = listener.accept()
        while not stop.is_set():
            try:
                connection.sendall(b"220-still greeting\r\n")
            except OSError:
                break
            stop.wait(0.5)
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    app_config.update(SMTP_PORT=listener.getsockname()[1], SMTP_TIMEOUT=2)
    app = request.getfixturevalue("app")
    world = request.getfixturevalue("world")
    outcome = []

    def deliver():
        with app.app_context():
            send_handover(world, copies=False)
            outcome.extend({(row.status, row.last_error)
                            for row in deliveries.deliver_due(limit=1)})

    try:
        worker = threading.Thread(target=deliver, daemon=True)
        worker.start()
        worker.join(20)   # it used to go on for as long as the server kept greeting
        assert outcome == [("pending", "timeout")]
    finally:
        stop.set()
        listener.close()
