"""A Redis that accepts connections but never answers (a hung server, a firewall that drops
the answers) must not hold a person's request for ever: queueing a send's notices waited with
no end (the send itself was committed), and so could a login's limiter. Each now gives up
within seconds: the notices wait for the worker's sweep, and the login answers 503.

Both the queue and the limiter use the same server (``REDIS_URL``). Run once, on SQLite."""

import socket
import threading

import lifecycle_support
import pytest
from lifecycle_support import handover, install_plugin, send_handover
from support import PASSWORD, create_user

world = lifecycle_support.world


@pytest.fixture
def database_backend():
    return "sqlite"


@pytest.fixture
def app_config(app_config, instance_path):
    """The lifecycle tests' configuration (their test plugin), with the silent Redis."""
    install_plugin(instance_path)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)   # the kernel completes each connection; nothing ever answers
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    yield app_config
    listener.close()


def _finishes(work):
    """Whether ``work()`` returns within half a minute (it used to wait for ever)."""
    done = []
    worker = threading.Thread(target=lambda: done.append(work()), daemon=True)
    worker.start()
    worker.join(30)
    return bool(done)


def test_a_send_is_answered_although_its_notices_cannot_be_queued(app, world, caplog):
    def send():
        with app.app_context():
            return send_handover(world, copies=False)

    sent = []
    with caplog.at_level("WARNING"):
        assert _finishes(lambda: sent.append(send()))
    with app.app_context():
        assert handover(sent[0]).status == "sent"
    # Given up on for its silence (not refused for a queue set up wrong).
    assert "deliveries (TimeoutError); the sweep will" in caplog.text


def test_a_login_is_refused_in_words_rather_than_held(app):
    with app.app_context():
        create_user("anna@example.fi")
    client = app.test_client()
    answers = []
    assert _finishes(lambda: answers.append(client.post(
        "/login", data={"email": "anna@example.fi", "password": PASSWORD})))
    assert answers[0].status_code == 503
