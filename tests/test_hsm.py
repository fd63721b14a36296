"""The key-encryption key in an HSM (SoftHSM2 through PKCS#11): it cannot be read out, a wrapped
key stays bound to its handover, `handover keys rotate` moves every handover from the key file
into the HSM and between HSM keys, `keys check` and `keys retire` work across both, an HSM
outage is a 503 that recovers, and nothing on disk (database, backup, instance folder) gives
away content or a key that opens it."""

import base64
import os
import re
from pathlib import Path

import lifecycle_support
import pkcs11
import pytest
from hsm_support import make_token, open_token, softhsm_folder  # noqa: F401 (fixture)
from lifecycle_support import CHILD_CODE, CHILD_NAME, FREE_TEXT_MARKER, login_as, send_handover
from sqlalchemy import select
from support import invoke

from handover import create_app
from handover.security import crypto, key_backends, keys
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

world = lifecycle_support.world


@pytest.fixture
def token(softhsm_folder):  # noqa: F811
    return make_token(softhsm_folder)


@pytest.fixture
def app_config(app_config, instance_path, token):
    lifecycle_support.install_plugin(instance_path)
    return {**app_config, **token}


@pytest.fixture
def reopened():
    """reopened(app, **changes): the same instance and database opened again with other
    settings (a restart); its connections are closed after the test."""
    made = []

    def reopen(app, **changes):
        application = create_app({**app.config, **changes})
        application.test_client_class = app.test_client_class
        made.append(application)
        return application

    yield reopen
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def kek_ids():
    db.session.expire_all()
    return {handover.kek_id for handover in db.session.scalars(select(Handover))}


def page_of(client, handover_id):
    return client.get(f"/handovers/{handover_id}")


def test_the_kek_never_leaves_the_hsm(app, token):
    with app.app_context():
        assert invoke(app, "keys", "rotate").exit_code == 0
        (kek_id,) = key_backends.active_backend().kek_ids()
    session = open_token(token)
    key = session.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label=kek_id)
    assert key[pkcs11.Attribute.SENSITIVE] is True
    assert key[pkcs11.Attribute.EXTRACTABLE] is False
    assert key[pkcs11.Attribute.NEVER_EXTRACTABLE] is True
    with pytest.raises(pkcs11.AttributeSensitive):
        key[pkcs11.Attribute.VALUE]
    # Not even wrapped under a key the attacker makes on the same token.
    mine = session.generate_key(pkcs11.KeyType.AES, 256, label="attacker")
    with pytest.raises(pkcs11.PKCS11Error):
        mine.wrap_key(key, mechanism=pkcs11.Mechanism.AES_KEY_WRAP)


def test_a_wrapped_key_is_bound_to_its_handover(app, world, token):
    with app.app_context():
        assert invoke(app, "keys", "rotate").exit_code == 0
        first, second = send_handover(world), send_handover(world)
        a, b = db.session.get(Handover, first), db.session.get(Handover, second)
        assert a.kek_id.startswith("p11-") and a.kek_id == b.kek_id
        assert crypto.unwrap_data_key(a.kek_id, a.wrapped_key, a.id)
        with pytest.raises(crypto.TamperedRecord):
            crypto.unwrap_data_key(a.kek_id, a.wrapped_key, b.id)
        flipped = bytearray(a.wrapped_key)
        flipped[-1] ^= 1
        with pytest.raises(crypto.TamperedRecord):
            crypto.unwrap_data_key(a.kek_id, bytes(flipped), a.id)
        # Moved onto B's row, A's key is refused and the page says so instead of B's content.
        b.wrapped_key = a.wrapped_key
        db.session.commit()
    client = login_as(app.test_client(), app, world.users["receiving_receiver"])
    assert page_of(client, first).status_code == 200
    assert CHILD_NAME not in page_of(client, second).get_data(as_text=True)


def test_rotation_from_the_file_to_the_hsm_and_between_hsm_keys(app, world, reopened):
    on_file = reopened(app, KEY_BACKEND="file")
    with on_file.app_context():
        sent = [send_handover(world) for _ in range(5)]
        file_kek = keys.load_keyring()["active_kek"]
        assert kek_ids() == {file_kek}
    # Switched to the HSM before its first KEK: reads and sends keep working on the file.
    client = login_as(app.test_client(), app, world.users["receiving_receiver"])
    with app.app_context():
        sent.append(send_handover(world))
        assert kek_ids() == {file_kek}
        result = invoke(app, "keys", "rotate", "--batch-size", "2")
        assert result.exit_code == 0, result.output
        (hsm_kek,) = kek_ids()
        assert hsm_kek.startswith("p11-")
        assert invoke(app, "keys", "check").exit_code == 0
        retired = invoke(app, "keys", "retire", file_kek)
        assert retired.exit_code == 0, retired.output
        assert keys.load_keyring()["keks"] == {}
    for handover_id in sent:
        assert CHILD_NAME in page_of(client, handover_id).get_data(as_text=True)
    with app.app_context():
        refused = invoke(app, "keys", "retire", hsm_kek)
        assert "is the active KEK" in refused.output and refused.exit_code != 0
        again = invoke(app, "keys", "rotate")
        assert again.exit_code == 0, again.output
        (newer,) = kek_ids()
        assert newer != hsm_kek and newer.startswith("p11-")
        assert invoke(app, "keys", "retire", hsm_kek).exit_code == 0
        assert key_backends.active_backend().kek_ids() == [newer]
        checked = invoke(app, "keys", "check")
        assert checked.exit_code == 0, checked.output
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions.count("keys.retired") == 2
    for handover_id in sent:
        assert CHILD_NAME in page_of(client, handover_id).get_data(as_text=True)


def test_an_hsm_outage_answers_503_and_recovers(app, world, softhsm_folder):  # noqa: F811
    with app.app_context():
        assert invoke(app, "keys", "rotate").exit_code == 0
        handover_id = send_handover(world)
    client = login_as(app.test_client(), app, world.users["receiving_receiver"])
    assert page_of(client, handover_id).status_code == 200
    tokens = softhsm_folder / "tokens"
    os.rename(tokens, softhsm_folder / "away")
    try:
        down = page_of(client, handover_id)
        assert down.status_code == 503
        assert "temporarily unavailable" in down.get_data(as_text=True)
        assert CHILD_NAME not in down.get_data(as_text=True)
    finally:
        os.rename(softhsm_folder / "away", tokens)
    back = page_of(client, handover_id)
    assert back.status_code == 200 and CHILD_NAME in back.get_data(as_text=True)
    with app.app_context():
        # An outage is not a tampered record: nothing was audited as one.
        assert "handover.tampered" not in db.session.scalars(select(AuditEvent.action)).all()


def test_a_token_that_fails_for_a_moment_is_tried_again_before_a_503(app, world, monkeypatch):
    """SoftHSM rewriting its store while `keys rotate` adds a KEK, or a network HSM failing
    over, answers again within a moment: the reader gets the page, not "unavailable"."""
    from handover.security.key_backends import pkcs11 as backend

    with app.app_context():
        assert invoke(app, "keys", "rotate").exit_code == 0
        handover_id = send_handover(world)
    client = login_as(app.test_client(), app, world.users["receiving_receiver"])
    real_open, failures = backend.Pkcs11Backend._open, []

    def open_failing_three_times(self):
        if len(failures) < 3:
            failures.append(1)
            raise pkcs11.NoSuchToken()
        return real_open(self)

    monkeypatch.setattr(backend.Pkcs11Backend, "_open", open_failing_three_times)
    monkeypatch.setattr(backend, "RETRY_PAUSES", (0.0, 0.01, 0.01), raising=False)
    page = page_of(client, handover_id)
    assert page.status_code == 200 and CHILD_NAME in page.get_data(as_text=True)
    assert len(failures) == 3


def _candidate_keys(blob):
    """Every base64 text that decodes to 32 bytes, and every 32-byte hex string."""
    text = blob.decode("latin-1")
    for match in re.finditer(r"[A-Za-z0-9+/_-]{43}=", text):
        try:
            yield base64.b64decode(match.group(0).replace("-", "+").replace("_", "/"))
        except ValueError:
            continue
    for match in re.finditer(r"[0-9a-f]{64}", text):
        yield bytes.fromhex(match.group(0))


def test_disk_and_backup_reveal_neither_content_nor_a_usable_key(app, world, tmp_path,
                                                                 database_backend, reopened):
    if database_backend != "sqlite":
        pytest.skip("scans the SQLite database file and instance folder on disk")
    on_file = reopened(app, KEY_BACKEND="file")
    with on_file.app_context():
        send_handover(world)
        file_kek = keys.load_keyring()["active_kek"]
    with app.app_context():
        assert invoke(app, "keys", "rotate").exit_code == 0
        assert invoke(app, "keys", "retire", file_kek).exit_code == 0
        send_handover(world)
        rows = [(row.id, row.kek_id, row.wrapped_key)
                for row in db.session.scalars(select(Handover))]
        data_keys = [crypto.unwrap_data_key(kek, wrapped, row_id)
                     for row_id, kek, wrapped in rows]
        result = invoke(app, "backup", str(tmp_path / "backup"))
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    files = [path for folder in (app.instance_path, tmp_path / "backup")
             for path in sorted(Path(folder).rglob("*")) if path.is_file()]
    assert any(path.suffix == ".sqlite3" for path in files)
    secrets_in_clear = [CHILD_NAME, FREE_TEXT_MARKER, CHILD_CODE, "Ilmari"]
    for path in files:
        blob = path.read_bytes()
        for secret in secrets_in_clear:
            assert secret.encode() not in blob, (path, secret)
        for data_key in data_keys:
            assert data_key not in blob and base64.b64encode(data_key) not in blob, path
        for candidate in _candidate_keys(blob):
            for row_id, kek, wrapped in rows:
                with pytest.raises(crypto.TamperedRecord):
                    crypto._decrypt(candidate, wrapped, crypto._wrap_associated_data(kek, row_id))
