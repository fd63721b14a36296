"""Two-factor secrets are sealed with the instance's key: someone holding a copy of the
database or of a backup, without the key file, finds no second factor in it; a secret copied
into another user's row does not open; logins (demo users included) and key rotation work."""

import subprocess

import pyotp
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from handover.cli import cli, demo
from handover.security import crypto, keys, totp
from handover.services import key_maintenance
from handover.store.database import db
from handover.store.models import AuditEvent, User
from tests.support import PASSWORD, create_user, login, raw_database, totp_code

NAME = "Plain Visible Name"


@pytest.fixture
def enrolled(app):
    """Three enrolled users; their plain secrets, which nothing on disk may show."""
    with app.app_context():
        users = [create_user(f"user{n}@example.fi", name=f"{NAME} {n}") for n in range(3)]
        return [totp.secret_of(user) for user in users]


def assert_no_secret(raw, secrets):
    assert NAME.encode() in raw  # the scan can see plain columns
    for secret in secrets:
        assert secret.encode() not in raw
        assert secret.lower().encode() not in raw


def test_raw_database_holds_no_totp_secret(app, enrolled, database_backend):
    with app.app_context():
        assert_no_secret(raw_database(database_backend), enrolled)


def test_backup_holds_no_totp_secret(app, enrolled, database_backend, tmp_path):
    destination = tmp_path / "backup"
    result = app.test_cli_runner().invoke(cli, ["backup", str(destination)])
    assert result.exit_code == 0, result.output
    [database_file] = [p for p in destination.iterdir() if p.name.startswith("handover-database")]
    raw = database_file.read_bytes()
    if database_backend == "postgresql":
        # The custom format is compressed; read it back as SQL, as a thief would.
        raw = subprocess.run(["pg_restore", "--data-only", "--file=-", str(database_file)],
                             capture_output=True, check=True).stdout
    assert_no_secret(raw, enrolled)


def test_enrolled_user_still_logs_in_with_a_code(app, client):
    with app.app_context():
        user = create_user("anna@example.fi")
        assert user.totp_secret.startswith(crypto.ACCOUNT_SEAL_PREFIX)
        login(client, user)
    assert client.get("/").status_code == 200


def test_secret_copied_into_another_users_row_does_not_open(app, client):
    """An attacker with write access to the table cannot give his own second factor to
    someone else's account by copying the sealed value."""
    with app.app_context():
        attacker = create_user("attacker@example.fi")
        victim = create_user("victim@example.fi")
        victim.totp_secret = attacker.totp_secret
        db.session.commit()
        with pytest.raises(crypto.TamperedRecord):
            totp.secret_of(victim)
        client.post("/login", data={"email": victim.email, "password": PASSWORD})
        code = pyotp.TOTP(totp.secret_of(attacker)).now()
        assert client.post("/login/totp", data={"code": code}).status_code == 200
    assert client.get("/").status_code == 302  # not logged in


def test_demo_users_log_in_with_the_printed_secret(app, client):
    assert app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    email, *_rest, secret = demo.USERS[5]
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert secret not in user.totp_secret
        assert totp.secret_of(user) == secret
        login(client, user, password=demo.DEMO_PASSWORD)
    assert client.get("/").status_code == 200


def test_key_rotation_reseals_secrets_and_the_old_kek_can_go(app, client):
    runner = app.test_cli_runner()
    with app.app_context():
        user_id = create_user("anna@example.fi").id
        old_kek = keys.load_keyring()["active_kek"]
    result = runner.invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        new_kek = keys.load_keyring()["active_kek"]
        stored = db.session.get(User, user_id).totp_secret
        assert crypto.account_secret_kek(stored) == new_kek != old_kek
    result = runner.invoke(cli, ["keys", "retire", old_kek])
    assert result.exit_code == 0, result.output
    with app.app_context():
        login(client, db.session.get(User, user_id))
    assert client.get("/").status_code == 200


def test_an_old_kek_still_sealing_a_secret_is_not_retired(app):
    runner = app.test_cli_runner()
    with app.app_context():
        create_user("anna@example.fi")
        old_kek = keys.load_keyring()["active_kek"]
        keys.add_kek()  # a new active KEK without re-sealing: what a half-done rotation leaves
    result = runner.invoke(cli, ["keys", "retire", old_kek])
    assert result.exit_code != 0
    assert "still seals 1 two-factor secrets" in result.output
    assert runner.invoke(cli, ["keys", "rotate"]).exit_code == 0  # finishes it
    assert runner.invoke(cli, ["keys", "retire", old_kek]).exit_code == 0


def test_upgrade_seals_the_plain_secrets_of_an_older_database(app, database_backend):
    """An instance upgraded from the release that stored secrets in plain text."""
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade(revision="0002")
        plain = pyotp.random_base32()
        db.session.execute(text(
            "INSERT INTO users (email, name, password_hash, must_change_password, totp_secret,"
            " totp_last_step, is_admin, is_auditor, active, created_at) VALUES ('old@example.fi',"
            f" '{NAME}', 'x', false, :secret, 0, false, false, true, CURRENT_TIMESTAMP)"),
            {"secret": plain})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the old release stopped; its WAL is checkpointed
        upgrade()
        user = db.session.execute(select(User)).scalar_one()
        assert totp.secret_of(user) == plain
        assert_no_secret(raw_database(database_backend), [plain])
        db.session.remove()  # end the reading transaction before the schema changes
        downgrade(revision="0002")
        assert db.session.execute(text("SELECT totp_secret FROM users")).scalar() == plain
        db.session.commit()
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()


def test_codes_for_the_test_helper_come_from_the_sealed_secret(app):
    """The helper other tests use reads through `totp.secret_of` as the server does."""
    with app.app_context():
        user = create_user("anna@example.fi")
        assert totp.matching_step(totp.secret_of(user), totp_code(user)) is not None


def test_keys_check_audits_a_secret_that_does_not_open(app):
    runner = app.test_cli_runner()
    with app.app_context():
        anna = create_user("anna@example.fi")
        ben = create_user("ben@example.fi")
        anna.totp_secret = ben.totp_secret  # moved: bound to Ben, so it fails for Anna
        db.session.commit()
        anna_id = anna.id
    runner.invoke(cli, ["keys", "check"])
    with app.app_context():
        assert key_maintenance.check_secrets() == [anna_id]
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "keys.checked")).scalars().all()[-1]
        assert event.outcome == "failed" and '"failed_secrets": 1' in str(event.detail)
