"""Webhooks: an administrator registers a unit's endpoint and its events; the actions that
happen to a handover of that unit put a signed delivery in the outbox in their own transaction;
the body carries the event, the handover id and times, never content; the signing secret is
shown once and stored sealed; nobody but an administrator reaches the pages."""

import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    CHILD_NAME,
    FREE_TEXT_MARKER,
    access_for,
    login_as,
    send_handover,
)
from sqlalchemy import select, text

from handover.cli import cli
from handover.security import crypto, keys
from handover.services import deliveries, reading, replies, webhooks, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent, Delivery, WebhookEndpoint

world = lifecycle_support.world
app_config = lifecycle_support.app_config


class Receiver:
    """A local HTTP endpoint answering with the statuses it is given, then 200; keeps what
    it received (headers and body)."""

    def __init__(self, statuses=()):
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def verify(secret, headers, body):
    """What docs/api.md tells a receiving system to do."""
    fields = dict(part.split("=", 1) for part in headers["Handover-Signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def _endpoint(app, world, unit, events, url):
    with app.app_context():
        endpoint, secret = webhooks.create_endpoint(
            world.user("admin"), world.units[unit].id, url, events)
        return endpoint.id, secret


def _webhook_rows():
    return list(db.session.execute(select(Delivery).where(Delivery.channel == "webhook")
                                   .order_by(Delivery.id)).scalars())


def test_admin_registers_an_endpoint_and_sees_its_secret_once(app, client, world):
    login_as(client, app, world.users["admin"])
    page = client.post("/admin/webhooks", data={
        "endpoint-unit": str(world.units["receiving"].id),
        "endpoint-url": "https://integration.example.test/hooks",
        "endpoint-events": ["arrived", "acknowledged"]}).get_data(as_text=True)
    secret = re.search(r"<code>(whsec_[^<]+)</code>", page)[1]
    assert "https://integration.example.test/hooks" in page
    assert secret not in client.get("/admin/webhooks").get_data(as_text=True)
    with app.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        assert endpoint.events == "arrived acknowledged"
        stored = db.session.execute(text("SELECT secret FROM webhook_endpoints")).scalar()
        assert secret not in stored and webhooks.secret_of(endpoint) == secret
        assert "admin.webhook_created" in [e.action for e in
                                           db.session.execute(select(AuditEvent)).scalars()]


def test_a_plain_http_address_elsewhere_is_refused_with_a_message(app, client, world):
    login_as(client, app, world.users["admin"])
    page = client.post("/admin/webhooks", data={
        "endpoint-unit": str(world.units["receiving"].id),
        "endpoint-url": "http://integration.example.test/hooks",
        "endpoint-events": ["arrived"]}).get_data(as_text=True)
    assert "must start with https://" in page
    with app.app_context():
        assert db.session.execute(select(WebhookEndpoint)).first() is None


@pytest.mark.parametrize("page", ["/admin/webhooks", "/admin/deliveries"])
@pytest.mark.parametrize("who", ["receiving_lead", "auditor"])
def test_only_administrators_reach_the_pages(app, client, world, page, who):
    login_as(client, app, world.users[who])
    assert client.get(page).status_code == 404
    assert client.post("/admin/webhooks", data={
        "endpoint-unit": str(world.units["receiving"].id),
        "endpoint-url": "https://x.example.test/", "endpoint-events": ["arrived"]}
    ).status_code == 404


def test_each_event_reaches_the_endpoints_that_asked_for_it(app, world):
    _endpoint(app, world, "receiving", ["arrived", "replied"], "https://ward.example.test/h")
    _endpoint(app, world, "sending", ["opened", "acknowledged", "arrived"],
              "https://institution.example.test/h")
    _endpoint(app, world, "other", list(webhooks.EVENTS), "https://other.example.test/h")
    with app.app_context():
        hid = send_handover(world)
        access = access_for(world, "receiving_receiver", hid, "view")
        reading.record_view(access, world.user("receiving_receiver"))
        reading.record_view(access, world.user("receiving_receiver"))  # not a first view
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "one")
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "two")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"))
        told = sorted((row.event, row.unit_id) for row in _webhook_rows())
    units = world.units
    assert told == sorted([("arrived", units["receiving"].id),
                           ("opened", units["sending"].id),
                           ("replied", units["receiving"].id),
                           ("replied", units["receiving"].id),
                           ("acknowledged", units["sending"].id)])


def test_a_copy_unit_is_told_of_the_handover_but_not_of_its_replies(app, world):
    """A copy unit gets neither the thread nor the replies, on the page and through the API;
    its system was told of every reply all the same."""
    _endpoint(app, world, "copy", list(webhooks.EVENTS), "https://social.example.test/h")
    _endpoint(app, world, "sending", ["replied"], "https://institution.example.test/h")
    with app.app_context():
        hid = send_handover(world)   # with a copy to the "copy" unit
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), "one")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"))
        told = sorted((row.event, row.unit_id) for row in _webhook_rows())
    units = world.units
    assert told == sorted([("arrived", units["copy"].id), ("acknowledged", units["copy"].id),
                           ("replied", units["sending"].id)])


def test_the_delivery_is_signed_and_carries_no_content(app, world, receiver):
    endpoint_id, secret = _endpoint(app, world, "receiving", ["arrived"], receiver.url)
    with app.app_context():
        hid = send_handover(world, copies=False)
        assert receiver.received == []  # the send did not call the endpoint
        outcomes = [row.status for row in deliveries.deliver_due() if row.channel == "webhook"]
    assert outcomes == ["delivered"]
    [(headers, body)] = receiver.received
    assert verify(secret, headers, body)
    assert not verify("whsec_wrong", headers, body)
    payload = json.loads(body)
    assert payload["event"] == "arrived" and payload["handover_id"] == hid
    assert set(payload) == {"event", "handover_id", "unit_id", "occurred_at", "delivery_id"}
    for secret_text in (CHILD_NAME, CHILD_CODE, FREE_TEXT_MARKER):
        assert secret_text not in body.decode()
    assert headers["Handover-Event"] == "arrived"


def test_a_refusing_receiver_is_retried_and_the_admin_sees_it(app, client, world):
    failing = Receiver(statuses=[500])
    try:
        _endpoint(app, world, "receiving", ["arrived"], failing.url)
        with app.app_context():
            send_handover(world, copies=False)
            [row] = [row for row in deliveries.deliver_due() if row.channel == "webhook"]
            assert row.status == "pending" and row.last_error == "HTTP 500"
            row_id = row.id
        login_as(client, app, world.users["admin"])
        page = client.get("/admin/deliveries").get_data(as_text=True)
        assert "HTTP 500" in page and "endpoint:" in page
        assert client.post(f"/admin/deliveries/{row_id}/retry").status_code == 302
        with app.app_context():
            assert deliveries.attempt(row_id).status == "delivered"
        assert len(failing.received) == 2
        assert failing.received[0][1] == failing.received[1][1]  # the same body, retried
    finally:
        failing.close()


def test_a_return_reaches_the_sending_units_endpoint_only(app, world):
    from handover.services import returning

    _endpoint(app, world, "sending", ["returned"], "https://institution.example.test/h")
    _endpoint(app, world, "receiving", ["returned"], "https://ward.example.test/h")
    with app.app_context():
        hid = send_handover(world, copies=False)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"),
                            world.user("receiving_receiver"), "wrong_unit")
        told = [(row.event, row.unit_id, row.handover_id) for row in _webhook_rows()]
    assert told == [("returned", world.units["sending"].id, hid)]


def test_the_admin_menu_leads_to_the_deliveries(app, client, world):
    login_as(client, app, world.users["admin"])
    assert 'href="/admin/deliveries"' in client.get("/admin/units").get_data(as_text=True)
    login_as(client, app, world.users["receiving_lead"])
    assert 'href="/admin/deliveries"' not in client.get("/").get_data(as_text=True)


def test_key_rotation_reseals_the_signing_secret_and_the_old_kek_can_go(app, world, receiver):
    endpoint_id, secret = _endpoint(app, world, "receiving", ["arrived"], receiver.url)
    runner = app.test_cli_runner()
    with app.app_context():
        old_kek = keys.load_keyring()["active_kek"]
        keys.add_kek()  # a half-done rotation: the signing secret is still on the old KEK
    refused = runner.invoke(cli, ["keys", "retire", old_kek])
    assert refused.exit_code != 0 and " and 1 webhook signing secrets;" in refused.output
    assert runner.invoke(cli, ["keys", "rotate"]).exit_code == 0
    assert runner.invoke(cli, ["keys", "retire", old_kek]).exit_code == 0
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert crypto.account_secret_kek(endpoint.secret) != old_kek
        assert webhooks.secret_of(endpoint) == secret  # deliveries still sign with it
    assert runner.invoke(cli, ["keys", "check"]).exit_code == 0


def test_keys_check_names_an_endpoint_whose_secret_does_not_open(app, world):
    first, _ = _endpoint(app, world, "receiving", ["arrived"], "https://a.example/hook")
    second, _ = _endpoint(app, world, "receiving", ["arrived"], "https://b.example/hook")
    with app.app_context():
        moved = db.session.get(WebhookEndpoint, second).secret
        db.session.get(WebhookEndpoint, first).secret = moved  # bound to the second endpoint
        db.session.commit()
    result = app.test_cli_runner().invoke(cli, ["keys", "check"])
    assert result.exit_code == 1
    assert f"Webhook endpoint {first}: cannot open the signing secret" in result.output
    assert f"Webhook endpoint {second}:" not in result.output


def test_a_withdrawal_reaches_the_endpoints_of_the_handovers_units(app, world):
    from handover.services import withdrawal

    _endpoint(app, world, "receiving", ["withdrawn"], "https://ward.example.test/h")
    _endpoint(app, world, "other", ["withdrawn"], "https://other.example.test/h")
    with app.app_context():
        hid = send_handover(world, copies=False)
        withdrawal.withdraw(access_for(world, "sending_sender", hid, "withdraw"),
                            world.user("sending_sender"))
        told = [(row.event, row.unit_id, row.handover_id) for row in _webhook_rows()]
    assert told == [("withdrawn", world.units["receiving"].id, hid)]


def test_a_placement_update_reaches_the_receiving_units_endpoint(app, world):
    from handover.services import updates

    _endpoint(app, world, "receiving", ["updated", "arrived"], "https://ward.example.test/h")
    with app.app_context():
        original = send_handover(world, copies=False)
        before = len(_webhook_rows())  # the original's arrival
        sent = updates.send_update(
            access_for(world, "sending_sender", original, "update"),
            world.user("sending_sender"),
            {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
             "change_kind": "moved", "effective_date": "2026-12-01", "details": "Uusi osoite"},
            language="en")
        told = [(row.event, row.unit_id, row.handover_id) for row in _webhook_rows()[before:]]
        update_id = sent[0].id
    assert told == [("updated", world.units["receiving"].id, update_id)]


def test_a_removed_endpoints_waiting_deliveries_are_dropped(app, world, receiver):
    """Removing an endpoint says its waiting deliveries are not sent: they stayed waiting,
    were tried for three days and then listed as failed for good, with a retry button."""
    endpoint_id, _ = _endpoint(app, world, "receiving", ["arrived"], receiver.url)
    with app.app_context():
        send_handover(world, copies=False)
        webhooks.remove_endpoint(world.user("admin"), endpoint_id)
        [row] = [row for row in deliveries.deliver_due() if row.channel == "webhook"]
        assert row.status == deliveries.DROPPED and row.last_error == "endpoint removed"
    assert receiver.received == []


def test_an_endpoint_answering_a_byte_at_a_time_is_given_up_on_in_time(app, world):
    """Each wait on the socket was bounded, not the try: an endpoint sending its answer a
    header line every half second held the worker's thread as long as it kept sending, and
    the e-mail notices and scheduled jobs waited behind it."""
    stop = threading.Event()

    class Dripping(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                self.wfile.write(b"X-Still: coming\r\n")
                self.wfile.flush()
                stop.wait(0.5)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Dripping)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["WEBHOOK_TIMEOUT"] = 2
    try:
        _endpoint(app, world, "receiving", ["arrived"],
                  f"http://127.0.0.1:{server.server_address[1]}/hook")
        outcome = []

        def deliver():
            with app.app_context():
                send_handover(world, copies=False)
                outcome.extend((row.status, row.last_error) for row in deliveries.deliver_due()
                               if row.channel == "webhook")

        worker = threading.Thread(target=deliver, daemon=True)
        worker.start()
        worker.join(20)   # it used to go on for as long as the endpoint kept sending
        assert outcome == [("pending", "timeout")]
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_a_deactivated_units_system_is_told_nothing_more(app, world, receiver):
    """Its token was refused, yet its endpoint still got the events of its handovers."""
    from handover.services import accounts
    from handover.store.models import Unit

    _endpoint(app, world, "receiving", ["arrived", "withdrawn"], receiver.url)
    with app.app_context():
        queued = send_handover(world, copies=False)   # its arrival queued while it was active
        accounts.set_unit_active(db.session.get(Unit, world.units["receiving"].id), False,
                                 actor=world.user("admin"))
        sender = world.user("sending_sender")         # nothing queued for an inactive unit
        withdrawal.withdraw(access_for(world, "sending_sender", queued, "withdraw"), sender)
        assert [row.event for row in _webhook_rows()] == ["arrived"]
        outcomes = [(row.status, row.last_error) for row in deliveries.deliver_due()
                    if row.channel == "webhook"]
    assert outcomes == [(deliveries.DROPPED, "unit deactivated")]
    assert receiver.received == []


def test_a_connection_made_too_slowly_is_given_up_on_at_once(monkeypatch):
    """The time ran out while the connection was still being made (a slow resolver, a lost
    SYN): nothing was there to shut, and the answer that followed could drip for ever."""
    import socket
    import time
    import urllib.request

    from handover.services import bounded_post

    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def drip():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():
            try:
                connection.sendall(b"X-Still: coming\r\n")
            except OSError:
                break
            stop.wait(0.3)
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    real = socket.create_connection

    def slow(*args, **kwargs):
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", slow)
    request = urllib.request.Request(f"http://127.0.0.1:{listener.getsockname()[1]}/h",
                                     data=b"{}", method="POST")
    outcome = []

    def post():
        try:
            bounded_post.status_of(request, 1)
        except bounded_post.TookTooLong:
            outcome.append("too long")

    try:
        poster = threading.Thread(target=post, daemon=True)
        poster.start()
        poster.join(15)   # it went on for as long as the endpoint kept sending
        assert outcome == ["too long"]
    finally:
        stop.set()
        listener.close()
