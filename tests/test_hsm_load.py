"""`handover keys rotate` moves every handover from the key file into the HSM while the fault
suite's load runs against real gunicorn workers that already use the PKCS#11 backend: every
send told "sent" opens afterwards, no data key is left on the file's KEK, `keys check` passes
and the audit chain verifies. Sized by HANDOVER_FAULT_SCALE like the fault tests."""

import sys
from pathlib import Path

import pytest
from hsm_support import make_token, softhsm_folder  # noqa: F401 (fixture)

sys.path.insert(0, str(Path(__file__).parent / "fault"))

import harness  # noqa: E402

pytestmark = pytest.mark.fault


@pytest.fixture
def server(tmp_path, softhsm_folder):  # noqa: F811
    """On PostgreSQL when the suite has one (a deployment's database), else SQLite: once, to
    keep the suite's time (tests/fault's own rotation test covers the file backend on both)."""
    token = make_token(softhsm_folder)
    database = harness.PostgresDatabase().create() if harness.POSTGRES_URL else None
    environment = {f"HANDOVER_{name}": value for name, value in token.items()}
    made = harness.Server(tmp_path / "instance", database_url=database and database.url,
                          workers=2, extra_env=environment)
    from handover import create_app

    overrides = {"INSTANCE_PATH": str(made.instance_path), **token}
    if database:
        overrides["SQLALCHEMY_DATABASE_URI"] = database.url
    made.init()
    made._app = create_app(overrides)  # counts and checks in this process use the HSM too
    made.start()
    yield made
    made.kill()
    made.dispose()
    if database:
        database.drop()


def test_rotation_from_the_file_into_the_hsm_under_load_loses_nothing(server):
    factor = harness.scale()
    senders, per_sender = max(2, round(20 * factor)), max(4, round(25 * factor))
    people = harness.People(server, senders, max(2, round(10 * factor)))
    target = senders * per_sender
    rotations = []

    def rotate(load):
        harness.wait_until(lambda: len(load.sent) >= target // 4, timeout=300)
        started_at = len(load.sent)
        rotations.append((server.cli("keys", "rotate", "--batch-size", "3"), started_at))

    load = harness.Load(server, people, per_sender, deadline_seconds=600).run(during=rotate)
    result, sent_before = rotations[0]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Added p11-" in result.stdout
    assert 0 < sent_before < target, (sent_before, load.failures[:5], load.errors[:5],
                                      sorted(set(map(str, load.statuses))))
    assert load.errors == [] and load.server_errors() == [] and load.failures == []
    assert len(load.sent) == target
    opened = harness.verify_sent(server, load.sent)
    assert len(opened) == target
    from sqlalchemy import select

    from handover.store.database import db
    from handover.store.models import Handover

    with server.app.app_context():
        kek_ids = set(db.session.scalars(
            select(Handover.kek_id).where(Handover.wrapped_key.is_not(None))))
        db.session.remove()
    assert kek_ids and all(kek_id.startswith("p11-") for kek_id in kek_ids), kek_ids
    checked = server.cli("keys", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"Checked {target}" in checked.stdout or "failed" in checked.stdout
    audit = server.cli("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
