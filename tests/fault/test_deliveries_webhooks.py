"""A webhook receiver that answers 500 and then 200: the worker process retries until it is
accepted, every try carries the same body and a valid signature, and the outbox row ends
delivered once, with its audit event."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from outbox_support import Worker, configure, outbox, send_in_process

from handover.services import webhooks
from handover.store.database import db
from handover.store.models import AuditEvent, User


def _receiver(statuses, received):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Handover-Signature"], body))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _valid(secret, header, body):
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_receiver_500_then_200_gets_the_event_after_retries_with_a_valid_signature(
        make_server, report):
    server = make_server(start=False)
    configure(server, harness.free_port())  # no mail server: e-mail rows just wait
    people = harness.People(server, 1, 1)
    received = []
    receiver = _receiver([500, 500], received)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/handover"
    with server.app.app_context():
        admin = User(email="admin@fault.test", name="Admin", password_hash="-", is_admin=True)
        db.session.add(admin)
        db.session.commit()
        _, secret = webhooks.create_endpoint(admin, people.receiving_unit_ids[0], url,
                                             ["arrived"])
        db.session.remove()
    worker = Worker(server).start()
    try:
        [handover_id] = send_in_process(server, people, 1)
        harness.wait_until(lambda: len(received) >= 3, timeout=60)
        harness.wait_until(lambda: _webhook_delivered(server), timeout=30)
    finally:
        worker.stop()
        receiver.shutdown()
        receiver.server_close()
    report(f"webhook tries: {len(received)}; outbox {outbox(server)}")
    assert len(received) == 3
    assert len({body for _, body in received}) == 1
    assert all(_valid(secret, header, body) for header, body in received)
    assert json.loads(received[-1][1])["handover_id"] == handover_id
    with server.app.app_context():
        delivered = db.session.query(AuditEvent).filter_by(action="delivery.delivered").count()
        db.session.remove()
    assert delivered == 1


def _webhook_delivered(server):
    from handover.store.models import Delivery

    with server.app.app_context():
        row = db.session.query(Delivery).filter_by(channel="webhook").one()
        status = row.status
        db.session.remove()
    return status == "delivered"
