"""Issue 20 under a real server: gunicorn with two workers serves a sender; the form is uploaded
and enabled by this test's own process on the same database (as another node, or `handover
forms ...`, would), so neither worker is told. Both must offer the form within a minute, with no
restart, and the sender can start it; after a disable neither offers it. The times are
printed."""

import sys
import time
from pathlib import Path

import pyotp
import pytest
from form_upload_support import KEY, package

from handover.services import form_uploads

sys.path.insert(0, str(Path(__file__).parent / "fault"))

import harness  # noqa: E402

CHOICE = "Special diet at school — Diet test social work"
#: Consecutive answers that must all agree: each is a new connection, which either worker takes.
AGREEING = 10


@pytest.fixture
def server(tmp_path):
    """Gunicorn on PostgreSQL when the suite has one (what several nodes share), else SQLite:
    one run, not one per database, as the reload does not depend on the database."""
    database = harness.PostgresDatabase().create() if harness.POSTGRES_URL else None
    made = harness.Server(tmp_path / "instance", database_url=database and database.url,
                          workers=2)
    try:
        made.init()
        yield made
    finally:
        made.kill()
        made.dispose()
        if database:
            database.drop()


def sender_of(server):
    """A social-work sender (and a school to send to), made in the server's database."""
    from handover.security import totp
    from handover.security.passwords import hash_password
    from handover.store.database import db
    from handover.store.models import Membership, Unit, User

    with server.app.app_context():
        social_work = Unit(name="Diet test social work", kind="child_welfare_social_work")
        db.session.add_all([social_work, Unit(name="Diet test school", kind="school")])
        user = User(email="diet.sender@example.test", name="Diet Sender", language="en",
                    password_hash=hash_password(harness.PASSWORD))
        db.session.add(user)
        db.session.flush()
        secret = pyotp.random_base32()
        totp.store_secret(user, secret)
        db.session.add(Membership(user_id=user.id, unit_id=social_work.id, role="sender"))
        db.session.commit()
        return {"email": user.email, "secret": secret, "unit_id": social_work.id}


def offered(client):
    page = client.get("/handovers/new")
    assert page.status == 200, page.status
    return CHOICE in page.text


def wait_until(client, wanted, seconds=60):
    """Seconds until AGREEING answers in a row say ``wanted``; fails after ``seconds``."""
    started, agreeing = time.monotonic(), 0
    while agreeing < AGREEING:
        assert time.monotonic() - started < seconds, f"not {wanted} after {seconds} s"
        agreeing = agreeing + 1 if offered(client) == wanted else 0
        if agreeing == 0:
            time.sleep(0.5)
    return time.monotonic() - started


def test_both_workers_offer_an_enabled_upload_within_a_minute_without_a_restart(
        server, capsys):
    person = sender_of(server)
    server.start()
    pids = server.worker_pids()
    assert len(pids) == 2
    client = harness.Client(server.url).login(person)
    assert not any(offered(client) for _ in range(AGREEING))

    with server.app.app_context():    # this test's process, which serves no request
        form_uploads.upload("special_diet.zip", package())
        form_uploads.enable(KEY, 1)
    enabled_after = wait_until(client, True)

    answer = client.post("/handovers/new", {"choice": f"{person['unit_id']}:{KEY}"})
    assert answer.status == 302
    assert client.get(answer.location.removeprefix(server.url)).status == 200

    with server.app.app_context():
        form_uploads.disable(KEY)
    disabled_after = wait_until(client, False)
    assert server.worker_pids() == pids    # no worker was restarted
    with capsys.disabled():
        print(f"\n[uploaded forms] both workers offered it {enabled_after:.1f} s after the "
              f"enable, stopped {disabled_after:.1f} s after the disable")
