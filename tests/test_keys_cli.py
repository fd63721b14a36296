"""`handover keys rotate|retire|check`: an operator rotates the key-encryption key, a crash
half-way loses nothing, an old key is removed only when nothing needs it, and a damaged record
is found by id."""

import json
import os
import stat

import pytest
from sqlalchemy import select

from handover.security import crypto, keys
from handover.services import key_maintenance
from handover.store.database import db
from handover.store.models import AuditEvent, Handover
from handover.store.models.base import utcnow
from tests.support import create_user, run_command
from tests.test_crypto import CHILD_NAME, make_handover, read


def keyring(app):
    with open(app.config["KEYS_FILE"]) as handle:
        return json.load(handle)


def actions():
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def every_handover_opens():
    db.session.expire_all()
    for handover in db.session.scalars(select(Handover)):
        assert read(handover)["name"].startswith(CHILD_NAME)
    return True


@pytest.fixture
def five_handovers(app):
    """Five sealed handovers on the instance's first KEK; returns that KEK's id."""
    with app.app_context():
        for number in range(5):
            make_handover(content={"name": f"{CHILD_NAME} {number}"}, summary={"n": number},
                          replies=[f"reply {number}"])
        return keys.load_keyring()["active_kek"]


def test_rotate_adds_an_active_kek_and_rewraps_every_data_key(app, runner, five_handovers):
    old_kek = five_handovers
    result = run_command(runner, "keys", "rotate", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    ring = keyring(app)
    new_kek = ring["active_kek"]
    assert new_kek != old_kek and set(ring["keks"]) == {old_kek, new_kek}
    assert stat.S_IMODE(os.stat(app.config["KEYS_FILE"]).st_mode) == 0o600
    # One user made the handovers, enrolled in two-factor: counted apart from the data keys.
    assert (f"Added {new_kek} as the active KEK; 5 data keys and 1 two-factor secret "
            "to re-wrap.") in result.output
    assert f"Re-wrapped 5 data keys and 1 two-factor secret with {new_kek}." in result.output
    with app.app_context():
        assert set(db.session.scalars(select(Handover.kek_id))) == {new_kek}
        assert every_handover_opens()
        assert actions()[-2:] == ["keys.rotation_started", "keys.rotated"]


def test_rotate_interrupted_half_way_resumes_without_another_kek(
        app, runner, five_handovers, monkeypatch):
    old_kek = five_handovers

    def crash(batch_number):
        raise RuntimeError("power cut")

    monkeypatch.setattr(key_maintenance, "_after_batch", crash)
    crashed = run_command(runner, "keys", "rotate", "--batch-size", "2")
    assert isinstance(crashed.exception, RuntimeError)
    new_kek = keyring(app)["active_kek"]
    with app.app_context():
        on_kek = db.session.scalars(select(Handover.kek_id).order_by(Handover.id)).all()
        assert on_kek == [new_kek] * 2 + [old_kek] * 3
        assert every_handover_opens()

    monkeypatch.undo()
    resumed = run_command(runner, "keys", "rotate", "--batch-size", "2")
    assert resumed.exit_code == 0, resumed.output
    assert "Continuing the rotation" in resumed.output
    assert keyring(app)["active_kek"] == new_kek
    assert set(keyring(app)["keks"]) == {old_kek, new_kek}
    with app.app_context():
        assert set(db.session.scalars(select(Handover.kek_id))) == {new_kek}
        assert every_handover_opens()

    retired = run_command(runner, "keys", "retire", old_kek)
    assert retired.exit_code == 0, retired.output
    assert set(keyring(app)["keks"]) == {new_kek}
    checked = run_command(runner, "keys", "check")
    assert checked.exit_code == 0, checked.output
    assert "Checked 5 handovers; 0 failed." in checked.output
    with app.app_context():
        assert every_handover_opens()
        assert actions()[-3:] == ["keys.rotated", "keys.retired", "keys.checked"]


def test_rotate_resume_never_adds_a_kek(app, runner, five_handovers):
    result = run_command(runner, "keys", "rotate", "--resume")
    assert result.exit_code == 0, result.output
    assert "Nothing to resume" in result.output
    assert keyring(app)["active_kek"] == five_handovers


def test_rotate_skips_erased_handovers_and_never_restores_their_key(app, runner, five_handovers):
    with app.app_context():
        erased = db.session.scalars(select(Handover).order_by(Handover.id)).first()
        erased.wrapped_key = erased.content = erased.summary = None
        erased.erased_at = utcnow()
        db.session.commit()
        erased_id = erased.id
    assert run_command(runner, "keys", "rotate").exit_code == 0
    with app.app_context():
        assert db.session.get(Handover, erased_id).wrapped_key is None
    retired = run_command(runner, "keys", "retire", five_handovers)
    assert retired.exit_code == 0, retired.output


def test_retire_is_refused_while_a_data_key_still_uses_the_kek(
        app, runner, five_handovers, monkeypatch):
    monkeypatch.setattr(key_maintenance, "_after_batch",
                        lambda number: (_ for _ in ()).throw(KeyboardInterrupt()))
    run_command(runner, "keys", "rotate", "--batch-size", "2")
    result = run_command(runner, "keys", "retire", five_handovers)
    assert result.exit_code != 0
    error_lines = result.output.strip().splitlines()
    assert len(error_lines) == 1 and "still wraps 3 data keys" in error_lines[0]
    assert five_handovers in keyring(app)["keks"]


@pytest.mark.parametrize("which, message", [("active", "is the active KEK"),
                                            ("k-nonexistent", "no KEK k-nonexistent")])
def test_retire_refuses_the_active_or_an_unknown_kek(app, runner, which, message):
    kek_id = keyring(app)["active_kek"] if which == "active" else which
    result = run_command(runner, "keys", "retire", kek_id)
    assert result.exit_code != 0
    assert message in result.output
    assert keyring(app)["keks"]


def test_check_reports_a_flipped_byte_by_handover_id(app, runner, five_handovers):
    with app.app_context():
        handovers = db.session.scalars(select(Handover).order_by(Handover.id)).all()
        damaged = handovers[2]
        content = bytearray(damaged.content)
        content[-3] ^= 0x04
        damaged.content = bytes(content)
        damaged_id, healthy_ids = damaged.id, [h.id for h in handovers if h is not damaged]
        db.session.commit()
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1
    assert f"Handover {damaged_id}: cannot open content" in result.output
    for handover_id in healthy_ids:
        assert f"Handover {handover_id}:" not in result.output
    assert "Checked 5 handovers; 1 failed." in result.output
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.outcome) == ("keys.checked", "failed")


@pytest.mark.parametrize("damage", ["reply", "wrapped_key", "summary_swapped"])
def test_check_reports_damaged_replies_keys_and_moved_values(app, runner, damage):
    with app.app_context():
        first, second = make_handover(summary={"a": 1}, replies=["x"]), make_handover()
        if damage == "reply":
            body = bytearray(first.replies[0].body)
            body[5] ^= 1
            first.replies[0].body = bytes(body)
        elif damage == "wrapped_key":
            first.wrapped_key = second.wrapped_key
        else:
            first.summary = first.content
        db.session.commit()
        first_id, second_id = first.id, second.id
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1
    assert f"Handover {first_id}:" in result.output
    assert f"Handover {second_id}:" not in result.output


def test_check_skips_handovers_erased_by_retention(app, runner, five_handovers):
    with app.app_context():
        erased = db.session.scalars(select(Handover)).first()
        erased.wrapped_key = None
        erased.erased_at = utcnow()
        db.session.commit()
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 0, result.output
    assert "Checked 4 handovers; 0 failed." in result.output


def test_check_reports_sealed_values_left_without_a_data_key(app, runner):
    with app.app_context():
        handover = make_handover()
        handover.wrapped_key = None
        db.session.commit()
        handover_id = handover.id
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1
    assert f"Handover {handover_id}: cannot open data key" in result.output


def test_keys_from_the_environment_cannot_be_rotated_here(app, runner, five_handovers):
    app.config["KEYS_JSON"] = json.dumps(keyring(app))
    before = keyring(app)
    result = run_command(runner, "keys", "rotate")
    assert result.exit_code != 0
    assert "secret store" in result.output
    assert keyring(app) == before


def test_rewrap_after_the_operator_changed_the_active_kek_in_the_environment(
        app, runner, five_handovers):
    ring = keyring(app)
    new_kek = keys.new_kek_id()
    ring["keks"][new_kek] = keys.new_key_material()
    ring["active_kek"] = new_kek
    app.config["KEYS_JSON"] = json.dumps(ring)
    result = run_command(runner, "keys", "rotate", "--resume")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(db.session.scalars(select(Handover.kek_id))) == {new_kek}
        assert every_handover_opens()
    refused = run_command(runner, "keys", "retire", five_handovers)
    assert refused.exit_code != 0 and "HANDOVER_KEYS" in refused.output


def test_a_rotation_with_a_damaged_wrapped_key_finishes_the_rest_and_says_which(
        app, runner, five_handovers):
    with app.app_context():
        damaged = db.session.scalars(select(Handover).order_by(Handover.id)).first()
        damaged.wrapped_key = damaged.wrapped_key[:-1] + b"\x00"
        db.session.commit()
        damaged_id = damaged.id
    result = run_command(runner, "keys", "rotate", "--batch-size", "2")
    assert result.exit_code == 1
    assert f"handovers: {damaged_id}" in result.output
    with app.app_context():
        kek_ids = db.session.scalars(select(Handover.kek_id).order_by(Handover.id)).all()
        assert kek_ids[0] == five_handovers
        assert set(kek_ids[1:]) == {keyring(app)["active_kek"]}
        with pytest.raises(crypto.TamperedRecord):
            read(db.session.get(Handover, damaged_id))


@pytest.mark.parametrize("part", ["name", "body"])
def test_check_opens_attachment_names_and_bodies(app, runner, part):
    from handover.store.models import Attachment

    with app.app_context():
        handover = make_handover()
        attachment = Attachment(handover_id=handover.id, uploaded_by_id=handover.created_by_id,
                                media_type="application/pdf", size=8)
        db.session.add(attachment)
        db.session.flush()
        data_key = crypto.handover_data_key(handover)
        place = {"handover_id": handover.id, "form_key": handover.form_key,
                 "form_version": handover.form_version, "record_id": attachment.id}
        attachment.filename = crypto.seal(data_key, b"lausunto.pdf",
                                          purpose=crypto.Purpose.ATTACHMENT_NAME, **place)
        attachment.body = crypto.seal(data_key, b"%PDF-1.7",
                                      purpose=crypto.Purpose.ATTACHMENT, **place)
        db.session.commit()
        assert run_command(runner, "keys", "check").exit_code == 0
        blob = bytearray(getattr(attachment, "filename" if part == "name" else "body"))
        blob[-1] ^= 1
        setattr(attachment, "filename" if part == "name" else "body", bytes(blob))
        db.session.commit()
        expected = f"Handover {handover.id}: cannot open attachment {attachment.id} {part}"
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1
    assert expected in result.output


def test_check_names_a_user_whose_two_factor_secret_does_not_open(app, runner):
    """A sealed secret moved to another account opens for nobody: the operator hears which
    account would be locked out, and the check fails."""
    with app.app_context():
        first = create_user("first@example.fi")
        second = create_user("second@example.fi")
        second.totp_secret = first.totp_secret
        db.session.commit()
        first_id, second_id = first.id, second.id
    result = run_command(runner, "keys", "check")
    assert result.exit_code == 1
    assert f"User {second_id}: cannot open the two-factor secret" in result.output
    assert f"User {first_id}:" not in result.output
