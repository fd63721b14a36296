"""Envelope encryption: what a sealed value promises, and the attacks it must catch. A reader
must never be shown a value that was changed, moved to another handover, another purpose or
another reply, or whose data key was swapped."""

import hashlib
import json
import logging
import os

import pytest

from handover.security import crypto, keys
from handover.store.database import db
from handover.store.models import Handover, Reply, Unit, User
from tests.support import create_unit, create_user

FORM_KEY = "psychiatric_ward"
CHILD_NAME = "Ilmari Testilapsi-Kuusikko"
MARKER = "MARKER-crypto-blue-lamp"


def binding(handover_id=1, **changes):
    values = {"handover_id": handover_id, "form_key": FORM_KEY, "form_version": 2,
              "purpose": crypto.Purpose.CONTENT, "record_id": None}
    values.update(changes)
    return values


def make_handover(*, status="sent", content=None, summary=None, note=None, replies=()):
    """A handover straight in the database with its values sealed as the lifecycle seals them.
    Needs an app context. Returns the handover (committed)."""
    unit = _unit()
    user = _user(unit)
    handover = Handover(form_key=FORM_KEY, form_version=2, status=status,
                        sender_unit_id=unit.id, created_by_id=user.id)
    db.session.add(handover)
    db.session.flush()
    data_key = crypto.ensure_data_key(handover)
    purpose = crypto.Purpose.DRAFT if status == "draft" else crypto.Purpose.CONTENT
    handover.content = seal(handover, data_key, content or {"name": CHILD_NAME}, purpose)
    if summary is not None:
        handover.summary = seal(handover, data_key, summary, crypto.Purpose.SUMMARY)
    if note is not None:
        handover.acknowledgement_note = seal(handover, data_key, note,
                                             crypto.Purpose.ACKNOWLEDGEMENT)
    for text in replies:
        reply = Reply(handover_id=handover.id, author_id=user.id, unit_id=unit.id)
        db.session.add(reply)
        db.session.flush()
        reply.body = seal(handover, data_key, {"text": text}, crypto.Purpose.REPLY, reply.id)
    db.session.commit()
    return handover


def seal(handover, data_key, value, purpose, record_id=None):
    return crypto.seal_json(data_key, value, handover_id=handover.id, form_key=handover.form_key,
                            form_version=handover.form_version, purpose=purpose,
                            record_id=record_id)


def read(handover, column="content", purpose=crypto.Purpose.CONTENT, record_id=None):
    """Open a value as a reader would: unwrap the handover's key, then open the blob."""
    data_key = crypto.handover_data_key(handover)
    blob = getattr(handover, column)
    return crypto.open_json(data_key, blob, handover_id=handover.id,
                            form_key=handover.form_key, form_version=handover.form_version,
                            purpose=purpose, record_id=record_id)


def _unit():
    unit = db.session.query(Unit).filter_by(name="Lastenkoti Tammi").first()
    return unit or create_unit("Lastenkoti Tammi")


def _user(unit):
    user = db.session.query(User).filter_by(email="omaohjaaja@example.fi").first()
    return user or create_user("omaohjaaja@example.fi", memberships=[(unit, "sender")])


# --- sealing without the database ----------------------------------------------------------

def test_sealed_json_round_trips_with_finnish_text(app):
    with app.app_context():
        data_key = crypto.new_data_key()
        value = {"name": CHILD_NAME, "calms": "sininen lamppu, äänikirjat", "doses": [5, 2.5]}
        blob = crypto.seal_json(data_key, value, **binding())
        assert crypto.open_json(data_key, blob, **binding()) == value
        assert CHILD_NAME.encode() not in blob


def test_sealed_bytes_round_trip_and_start_with_the_format_version():
    data_key = crypto.new_data_key()
    blob = crypto.seal(data_key, b"%PDF-1.7 ...", **binding(purpose=crypto.Purpose.ATTACHMENT,
                                                             record_id=4))
    assert blob[0] == crypto.FORMAT_VERSION
    assert len(blob) == 1 + 12 + len(b"%PDF-1.7 ...") + 16
    opened = crypto.open_sealed(data_key, blob, **binding(purpose=crypto.Purpose.ATTACHMENT,
                                                          record_id=4))
    assert opened == b"%PDF-1.7 ..."


def test_a_fresh_data_key_is_256_random_bits():
    assert len(crypto.new_data_key()) == 32
    assert crypto.new_data_key() != crypto.new_data_key()


def test_sealing_the_same_text_twice_uses_a_fresh_nonce():
    data_key = crypto.new_data_key()
    blobs = [crypto.seal(data_key, b"same text", **binding()) for _ in range(50)]
    nonces = {blob[1:13] for blob in blobs}
    assert len(set(blobs)) == 50
    assert len(nonces) == 50


@pytest.mark.parametrize("moved_to", [
    {"handover_id": 2},
    {"form_key": "daycare"},
    {"form_version": 3},
    {"purpose": crypto.Purpose.SUMMARY},
    {"purpose": crypto.Purpose.DRAFT},
])
def test_a_blob_moved_to_another_place_does_not_open(moved_to):
    data_key = crypto.new_data_key()
    blob = crypto.seal(data_key, b"x", **binding())
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_sealed(data_key, blob, **binding(**moved_to))


def test_a_reply_body_moved_to_another_reply_does_not_open():
    data_key = crypto.new_data_key()
    blob = crypto.seal(data_key, b"x", **binding(purpose=crypto.Purpose.REPLY, record_id=7))
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_sealed(data_key, blob, **binding(purpose=crypto.Purpose.REPLY, record_id=8))


@pytest.mark.parametrize("position", [0, 1, 12, 13, 20, -1])
def test_a_flipped_byte_anywhere_in_the_blob_is_detected(position):
    data_key = crypto.new_data_key()
    blob = bytearray(crypto.seal(data_key, b"medication: 5 mg at 20:00", **binding()))
    blob[position] ^= 0x01
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_sealed(data_key, bytes(blob), **binding())


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27), None])
def test_a_truncated_or_missing_blob_is_tampered(blob):
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_sealed(crypto.new_data_key(), blob, **binding())


def test_the_wrong_data_key_does_not_open():
    blob = crypto.seal(crypto.new_data_key(), b"x", **binding())
    with pytest.raises(crypto.TamperedRecord):
        crypto.open_sealed(crypto.new_data_key(), blob, **binding())


@pytest.mark.parametrize("purpose", [crypto.Purpose.REPLY, crypto.Purpose.ATTACHMENT,
                                     crypto.Purpose.ATTACHMENT_NAME])
def test_per_record_purposes_refuse_to_seal_without_the_record_id(purpose):
    with pytest.raises(ValueError, match="record id"):
        crypto.seal(crypto.new_data_key(), b"x", **binding(purpose=purpose))


@pytest.mark.parametrize("changes", [{"handover_id": None}, {"purpose": "secret"},
                                     {"form_key": ""}])
def test_sealing_without_a_complete_binding_is_a_programming_error(changes):
    with pytest.raises(ValueError):
        crypto.seal(crypto.new_data_key(), b"x", **binding(**changes))


# --- wrapped data keys ---------------------------------------------------------------------

def test_a_wrapped_data_key_unwraps_only_for_its_own_handover(app):
    with app.app_context():
        data_key = crypto.new_data_key()
        kek_id, wrapped = crypto.wrap_data_key(data_key, 10)
        assert kek_id == keys.load_keyring()["active_kek"]
        assert crypto.unwrap_data_key(kek_id, wrapped, 10) == data_key
        assert data_key not in wrapped
        with pytest.raises(crypto.TamperedRecord):
            crypto.unwrap_data_key(kek_id, wrapped, 11)


def test_a_kek_missing_from_the_keyring_is_reported_as_key_missing(app):
    with app.app_context():
        _, wrapped = crypto.wrap_data_key(crypto.new_data_key(), 10)
        with pytest.raises(crypto.KeyMissing):
            crypto.unwrap_data_key("k-retired-too-early", wrapped, 10)
        assert issubclass(crypto.KeyMissing, crypto.TamperedRecord)


def test_a_wrapped_key_relabelled_with_another_kek_id_does_not_open(app):
    with app.app_context():
        old_id, wrapped = crypto.wrap_data_key(crypto.new_data_key(), 10)
        new_id = keys.add_kek()
        assert new_id != old_id
        with pytest.raises(crypto.TamperedRecord):
            crypto.unwrap_data_key(new_id, wrapped, 10)


# --- tampering with stored handovers -------------------------------------------------------

def test_stored_handover_opens_for_its_reader(app):
    with app.app_context():
        handover = make_handover(summary={"age": 14}, replies=["Vastaanotettu, kiitos"])
        db.session.expire_all()
        handover = db.session.get(Handover, handover.id)
        assert read(handover) == {"name": CHILD_NAME}
        assert read(handover, "summary", crypto.Purpose.SUMMARY) == {"age": 14}
        reply = handover.replies[0]
        data_key = crypto.handover_data_key(handover)
        assert crypto.open_json(data_key, reply.body, handover_id=handover.id,
                                form_key=FORM_KEY, form_version=2,
                                purpose=crypto.Purpose.REPLY, record_id=reply.id) == \
            {"text": "Vastaanotettu, kiitos"}


def test_flipped_byte_in_stored_content_is_detected(app):
    with app.app_context():
        handover = make_handover()
        damaged = bytearray(handover.content)
        damaged[len(damaged) // 2] ^= 0x80
        handover.content = bytes(damaged)
        db.session.commit()
        with pytest.raises(crypto.TamperedRecord):
            read(handover)


def test_content_swapped_between_two_handovers_is_detected(app):
    with app.app_context():
        first = make_handover(content={"name": "Lapsi Yksi"})
        second = make_handover(content={"name": "Lapsi Kaksi"})
        first.content, second.content = second.content, first.content
        db.session.commit()
        for handover in (first, second):
            with pytest.raises(crypto.TamperedRecord):
                read(handover)


def test_wrapped_keys_swapped_between_two_handovers_are_detected(app):
    with app.app_context():
        first, second = make_handover(), make_handover()
        first.wrapped_key, second.wrapped_key = second.wrapped_key, first.wrapped_key
        db.session.commit()
        db.session.expire_all()
        for handover_id in (first.id, second.id):
            with pytest.raises(crypto.TamperedRecord):
                read(db.session.get(Handover, handover_id))


def test_summary_moved_into_the_content_column_is_detected(app):
    with app.app_context():
        handover = make_handover(summary={"name": CHILD_NAME})
        handover.content = handover.summary
        db.session.commit()
        with pytest.raises(crypto.TamperedRecord):
            read(handover)


def test_reply_bodies_swapped_between_replies_are_detected(app):
    with app.app_context():
        handover = make_handover(replies=["first", "second"])
        one, two = handover.replies
        one.body, two.body = two.body, one.body
        db.session.commit()
        data_key = crypto.handover_data_key(handover)
        with pytest.raises(crypto.TamperedRecord):
            crypto.open_json(data_key, one.body, handover_id=handover.id, form_key=FORM_KEY,
                             form_version=2, purpose=crypto.Purpose.REPLY, record_id=one.id)


def test_a_handover_needs_an_id_before_it_gets_a_data_key(app):
    with app.app_context():
        with pytest.raises(ValueError, match="flush"):
            crypto.ensure_data_key(Handover(form_key=FORM_KEY, form_version=1))


def test_ensure_data_key_keeps_the_key_it_made(app):
    with app.app_context():
        handover = make_handover()
        wrapped = handover.wrapped_key
        assert crypto.ensure_data_key(handover) == crypto.handover_data_key(handover)
        assert handover.wrapped_key == wrapped


def test_nothing_about_the_child_reaches_the_log(app, caplog):
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        handover = make_handover(content={"name": CHILD_NAME, "note": MARKER})
        read(handover)
        handover.content = handover.content[:-1] + bytes([handover.content[-1] ^ 1])
        with pytest.raises(crypto.TamperedRecord) as raised:
            read(handover)
    assert MARKER not in caplog.text and CHILD_NAME not in caplog.text
    assert MARKER not in str(raised.value)


# --- identity codes and the keyring --------------------------------------------------------

def test_identity_hash_normalises_the_code_and_is_keyed(app):
    with app.app_context():
        hashed = crypto.identity_hash("010594Y9032")
        assert crypto.identity_hash("  010594y9032 ") == hashed
        assert crypto.identity_hash("020594X903P") != hashed
        assert len(hashed) == 64 and int(hashed, 16) >= 0
        assert hashed != hashlib.sha256(b"010594Y9032").hexdigest()


def test_another_instance_hashes_the_same_code_differently(app, tmp_path):
    other = keys.create_key_file(str(tmp_path / "other-keys.json"))
    with app.app_context():
        ours = crypto.identity_hash("010594Y9032")
        app.config["KEYS_JSON"] = json.dumps(other)
        assert crypto.identity_hash("010594Y9032") != ours


def test_keys_from_the_environment_are_used_instead_of_the_key_file(app, tmp_path):
    keyring = keys.create_key_file(str(tmp_path / "secret-store.json"))
    with app.app_context():
        os.unlink(app.config["KEYS_FILE"])
        app.config["KEYS_JSON"] = json.dumps(keyring)
        kek_id, wrapped = crypto.wrap_data_key(b"k" * 32, 3)
        assert kek_id == keyring["active_kek"]
        assert crypto.unwrap_data_key(kek_id, wrapped, 3) == b"k" * 32


@pytest.mark.parametrize("keyring", [
    "not json",
    json.dumps({"keks": {}}),
    json.dumps({"active_kek": "a", "keks": {"b": "AAAA"}, "identity_hash_key": "AAAA"}),
    json.dumps({"active_kek": "a", "keks": {"a": "c2hvcnQ="}, "identity_hash_key": "c2hvcnQ="}),
])
def test_a_broken_keyring_is_a_configuration_error(app, keyring):
    from handover.config import ConfigurationError

    with app.app_context():
        app.config["KEYS_JSON"] = keyring
        with pytest.raises(ConfigurationError):
            keys.load_keyring()
