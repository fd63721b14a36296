"""Shared by the outbox fault tests: a `handover worker` process, SMTP servers that are down,
slow or stalled (aiosmtpd and a bare socket), sends made straight through the service in the
server's own instance, and counting what the outbox and the mail server hold."""

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time

import harness
from aiosmtpd.controller import Controller

from handover.store.database import db
from handover.store.models import Delivery

#: Retries within a second or two and a short claim, so a fault test takes seconds.
FAST_RETRIES = """
DELIVERY_RETRY_BASE_SECONDS = 1
DELIVERY_RETRY_MAX_SECONDS = 2
DELIVERY_LEASE_SECONDS = 3
SMTP_TIMEOUT = 5
MAIL_FROM = "handover@fault.test"
"""

LINK = re.compile(r"/handovers/(\d+)")


def configure(server, smtp_port, extra=""):
    """Point the instance's mail at 127.0.0.1:``smtp_port`` with fast retries."""
    with open(server.instance_path / "config.py", "a") as config:
        config.write(FAST_RETRIES + f'SMTP_HOST = "127.0.0.1"\nSMTP_PORT = {smtp_port}\n'
                     + extra)


class Worker:
    """`handover worker` on the server's instance, in its own process group."""

    def __init__(self, server, threads=4):
        self.server, self.threads, self.process = server, threads, None

    def start(self):
        self.process = subprocess.Popen(
            [str(harness.VENV_BIN / "handover"), "worker", "--threads", str(self.threads)],
            env=self.server.environment, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Mailbox:
    """An aiosmtpd handler that keeps (recipient, handover id, Message-ID) of each message.
    ``mail_delay`` holds every MAIL command that long, and ``on_mail`` is called as it starts:
    a test can kill the worker while it waits for the answer, before the message exists."""

    def __init__(self, mail_delay=0.0):
        self.messages, self.mail_delay, self.on_mail = [], mail_delay, None
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.on_mail is not None:
            self.on_mail()
        if self.mail_delay:
            await asyncio.sleep(self.mail_delay)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        text = envelope.content.decode("utf-8", "replace")
        found = LINK.search(text)
        message_id = re.search(r"^Message-ID: (\S+)", text, re.M | re.I)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.messages.append((recipient, int(found.group(1)) if found else None,
                                      message_id.group(1) if message_id else None))
        return "250 Message accepted for delivery"

    def count(self):
        with self.lock:
            return len(self.messages)


def smtp_server(port, mailbox):
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


class StallingSmtp:
    """Accepts connections and says nothing for ``stall`` seconds: a mail server that hangs."""

    def __init__(self, port, stall=10.0):
        self.stall, self.stop_event = stall, threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        held = []
        while not self.stop_event.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            held.append((connection, time.monotonic()))
            held = [(c, t) for c, t in held if time.monotonic() - t < self.stall or c.close()]
        for connection, _ in held:
            connection.close()

    def close(self):
        self.stop_event.set()
        self.thread.join(timeout=5)
        self.sock.close()


def send_in_process(server, people, count):
    """``count`` handovers sent through `sending.send` in the server's instance, spread over the
    receiving units (so over their receivers). Returns {handover id: receiving unit id}."""
    import lifecycle_support

    from handover.services import drafts, sending
    from handover.store.models import Unit, User

    sent = {}
    with server.app.app_context():
        sender = db.session.get(User, people.senders[0]["id"])
        sending_unit = db.session.get(Unit, people.sending_unit_id)
        for number in range(count):
            unit_id = people.receiving_unit_ids[number % len(people.receiving_unit_ids)]
            draft = drafts.start(sender, sending_unit, harness.FORM_KEY,
                                 db.session.get(Unit, unit_id), [], "lsl_disclosure")
            drafts.save(sender, draft, lifecycle_support.content())
            handover = sending.send(sender, draft, secrets.token_urlsafe(16))
            sent[handover.id] = unit_id
        db.session.remove()
    return sent


def outbox(server):
    """{status: count} of the instance's deliveries."""
    from sqlalchemy import func, select

    with server.app.app_context():
        counts = dict(db.session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        db.session.remove()
    return counts


def attempted_all(server):
    from sqlalchemy import func, select

    with server.app.app_context():
        untried = db.session.execute(
            select(func.count()).select_from(Delivery).where(Delivery.attempts == 0)).scalar()
        db.session.remove()
    return untried == 0
