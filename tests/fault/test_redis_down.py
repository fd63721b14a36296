"""Redis (the shared login-throttle store) stopped: login fails closed with a clear 503 page,
while people already logged in keep reading their inbox and sending."""

import shutil
import subprocess

import harness
import pytest


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = harness.free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--daemonize", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_login_fails_closed_and_logged_in_users_keep_working(make_server, redis_server, report):
    redis, url = redis_server
    server = make_server(workers=2, extra_env={"HANDOVER_REDIS_URL": url})
    people = harness.People(server, 2, 1)
    sender = harness.Client(server.url).login(people.senders[0])
    receiver = harness.Client(server.url).login(people.receivers[0])

    redis.kill()
    redis.wait(timeout=10)

    newcomer = harness.Client(server.url)
    newcomer.read_csrf("/login")
    refused = newcomer.post("/login", {"email": people.senders[1]["email"],
                                       "password": harness.PASSWORD})
    inbox = receiver.get("/handovers/inbox")
    draft_id, token, sent = sender.write_and_send(
        people.sending_unit_id, people.receiving_unit_ids[0], "while-redis-is-down")
    opened = receiver.get(f"/handovers/{draft_id}")
    report(f"Redis down: login answered {refused.status}; inbox {inbox.status}; "
           f"send {'ok' if sent else 'failed'}; open {opened.status}")
    assert refused.status == 503
    assert _login_unavailable_message(server) in refused.text
    assert inbox.status == 200
    assert sent and opened.status == 200 and "while-redis-is-down" in opened.text
    assert all(status < 500 for status in sender.statuses + receiver.statuses)


def _login_unavailable_message(server):
    """The page's message in the default language (Finnish) for someone not logged in."""
    from flask_babel import force_locale, gettext

    with server.app.test_request_context(), force_locale("fi"):
        return gettext("Logging in is temporarily unavailable. Try again in a few minutes.")
