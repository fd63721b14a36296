"""`handover demo`: a newcomer gets units of every kind and a login for every role, without a
phone, and running it again changes nothing."""

import pyotp

from handover.cli import cli, demo
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS
from handover.security import totp
from handover.security.passwords import verify_password
from handover.store.database import db
from handover.store.models import AuditEvent, Membership, Unit, User
from handover.store.models.accounts import MEMBERSHIP_ROLES


def counts():
    return tuple(db.session.query(model).count() for model in (Unit, User, Membership,
                                                                AuditEvent))


def test_demo_covers_every_kind_and_role_and_prints_logins(app, runner):
    result = runner.invoke(cli, args=["demo"])
    assert result.exit_code == 0, result.output
    assert "for trying Handover only" in result.output
    assert demo.DEMO_PASSWORD in result.output
    assert "demo-code EMAIL" in result.output
    assert "import pyotp" not in result.output  # fails with Debian's python3 (no pyotp)
    with app.app_context():
        # every core kind, and the example plugin's health service when it is installed
        kinds = {unit.kind for unit in db.session.query(Unit)}
        assert set(CORE_UNIT_KINDS) <= kinds
        assert kinds - set(CORE_UNIT_KINDS) <= {"health_service"}
        assert {m.role for m in db.session.query(Membership)} == set(MEMBERSHIP_ROLES)
        users = db.session.query(User).all()
        assert any(user.is_admin for user in users) and any(user.is_auditor for user in users)
        for user in users:
            assert user.email in result.output
            assert totp.secret_of(user) in result.output
            assert f"otpauth://totp/Handover%20demo:{user.email.replace('@', '%40')}" \
                in result.output
            assert verify_password(user.password_hash, demo.DEMO_PASSWORD)
            assert not user.must_change_password
            assert pyotp.TOTP(totp.secret_of(user)).now()  # a valid base32 secret


def test_demo_twice_duplicates_nothing_and_keeps_changed_passwords(app, runner):
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    with app.app_context():
        before = counts()
        admin = db.session.query(User).filter_by(is_admin=True).one()
        admin.password_hash = "changed-by-the-user"
        db.session.commit()
    second = runner.invoke(cli, args=["demo"])
    assert second.exit_code == 0, second.output
    assert "user exists" in second.output
    with app.app_context():
        assert counts() == before
        assert db.session.query(User).filter_by(is_admin=True).one().password_hash \
            == "changed-by-the-user"


def test_demo_restores_a_removed_membership(app, runner):
    runner.invoke(cli, args=["demo"])
    with app.app_context():
        lead = db.session.query(Membership).filter_by(role="lead").one()
        db.session.delete(lead)
        db.session.commit()
    runner.invoke(cli, args=["demo"])
    with app.app_context():
        assert db.session.query(Membership).filter_by(role="lead").count() == 1

