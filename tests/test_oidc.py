"""Staff sign in with their organisation's account, against a real OpenID Connect provider
(npm oidc-provider on 127.0.0.1, tests/oidc_support.py): the whole code flow with PKCE, the
account matched by issuer and subject, each kind of bad answer refused with a message and an
audit event, unknown and deactivated accounts refused, provisioning without memberships when
enabled, MFA required, sign-out at the provider too, the password-login switch, and the login
throttle on the callback."""

import os
import urllib.parse

import oidc_support
import pytest
from oidc_support import OTP, OidcProvider
from sqlalchemy import select
from support import create_user, totp_code

from handover.security import oidc
from handover.services import kept_typing, sso_accounts
from handover.store.database import db
from handover.store.models import AuditEvent, Membership, OidcIdentity, User

CALLBACK = "http://localhost/login/organisation/callback"
LOGIN = "http://localhost/login"


@pytest.fixture(params=["postgresql" if os.environ.get("HANDOVER_TEST_DATABASE_URL")
                        else "sqlite"])
def database_backend(request):
    """One database, PostgreSQL when the suite has one: sign-in is protocol, not storage (the
    schema is tested on both by tests/test_migrations.py), and each case costs a provider
    round trip."""
    return request.param


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running = OidcProvider(tmp_path_factory.mktemp("oidc"), [CALLBACK], [LOGIN])
    yield running
    running.close()


app_config = oidc_support.app_config
client = oidc_support.client


@pytest.fixture
def linked(app, provider):
    """A staff member with memberships-free account linked to the provider's ``nurse``."""
    subject = provider.set_account("nurse", email="nurse@county.test", name="Nina Nurse")
    with app.app_context():
        user = create_user("nina@handover.test", name="Nina Nurse", enrolled=False)
        sso_accounts.link(user, provider.issuer, subject)
        return user.id


def sign_in(client, provider, login="nurse", next_url=None, **options):
    """Click the button, sign in at the provider, come back; Handover's last answer."""
    start = client.get("/login/organisation" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.status_code
    authorize = start.headers["Location"]
    assert authorize.startswith(provider.issuer)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    back = provider.sign_in(authorize, login, **options)
    assert isinstance(back, str) and back.startswith(CALLBACK), back
    return client.get(back[len("http://localhost"):])


def events(action):
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def shown_after(client, answer):
    assert answer.status_code == 302
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def test_the_login_page_offers_the_organisation_sign_in(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/login/organisation" in page


def test_a_linked_account_signs_in_and_lands_where_it_was_going(app, client, provider, linked):
    answer = sign_in(client, provider, next_url="/account")
    with app.app_context():
        assert events("auth.sso_refused") == [], [e.detail for e in events("auth.sso_refused")]
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    with app.app_context():
        (event,) = events("auth.login")
        assert event.actor_id == linked and '"via":"sso"' in event.detail.replace(" ", "")
        identity = db.session.scalar(select(OidcIdentity))
        assert identity.last_sign_in_at is not None


def test_signing_in_lands_where_typing_kept_from_an_expired_session_waits(
        app, client, provider, linked, monkeypatch):
    """As after a password login: the section page that holds the kept text, unless the user
    was going somewhere. (Keeping the text is tested in tests/test_nothing_lost.py.)"""
    asked = []

    def waiting_for(user):
        asked.append(user.id)
        return 42, "child"

    monkeypatch.setattr(kept_typing, "newest_for", waiting_for)
    answer = sign_in(client, provider)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/handovers/42/sections/child"
    assert asked == [linked]
    client.post("/logout")
    going = sign_in(client, provider, next_url="/account")
    assert going.headers["Location"] == "/account"


def test_an_account_that_must_choose_a_new_password_is_asked_first(app, client, provider,
                                                                   linked):
    with app.app_context():
        db.session.get(User, linked).must_change_password = True
        db.session.commit()
    answer = sign_in(client, provider, next_url="/account")
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/password"


@pytest.mark.parametrize(("mode", "reason"), [
    ("tamper", "signature"), ("nonce", "nonce"), ("issuer", "issuer"),
    ("audience", "audience"), ("expired", "expired")])
def test_a_bad_id_token_is_refused_with_a_message_and_an_audit_event(
        app, client, provider, linked, mode, reason):
    provider.proxy.mode = mode
    answer = sign_in(client, provider)
    page = shown_after(client, answer)
    assert "could not be verified" in page
    assert client.get("/account").status_code == 302  # not signed in
    with app.app_context():
        (event,) = events("auth.sso_refused")
        assert event.outcome == "denied" and f'"reason":"{reason}"' in event.detail.replace(
            " ", ""), event.detail
        assert events("auth.login") == []


def test_a_replayed_or_forged_state_is_refused(app, client, provider, linked):
    answer = client.get("/login/organisation/callback?code=abc&state=forged")
    assert "took too long" in shown_after(client, answer)
    with app.app_context():
        (event,) = events("auth.sso_refused")
        assert '"state"' in event.detail


def test_an_unknown_subject_is_refused_not_matched_by_email(app, client, provider):
    provider.set_account("stranger", email="nina@handover.test", name="Not Nina")
    with app.app_context():
        create_user("nina@handover.test", name="Nina Nurse", enrolled=False)
    answer = sign_in(client, provider, login="stranger")
    assert "not linked to a Handover account" in shown_after(client, answer)
    with app.app_context():
        assert '"unknown_account"' in events("auth.sso_refused")[0].detail
        assert events("auth.login") == []


@pytest.fixture
def with_tenants(app_config):
    """Entra ID's way: the tenant (tid) is part of who the person is."""
    app_config.update(OIDC_TENANT_CLAIM="tid", OIDC_SCOPES="openid email profile tenant")


def test_with_tenants_the_same_subject_in_another_tenant_is_another_person(
        with_tenants, app, client, provider):
    subject = provider.set_account("teacher", tid="tenant-a", email="t@school.test")
    with app.app_context():
        user = create_user("teacher@handover.test", enrolled=False)
        sso_accounts.link(user, provider.issuer, subject, tenant="tenant-b")
        user_id = user.id
    answer = sign_in(client, provider, login="teacher")
    assert "not linked" in shown_after(client, answer)
    with app.app_context():
        sso_accounts.link(db.session.get(User, user_id), provider.issuer, subject,
                          tenant="tenant-a")
    assert sign_in(client, provider, login="teacher").headers["Location"] == "/"
    assert client.get("/account").status_code == 200


def test_provisioning_creates_an_account_without_memberships(app, client, provider,
                                                             app_config):
    provider.set_account("newcomer", email="new@county.test", name="Uusi Tyontekija")
    app.config["OIDC_PROVISION"] = True
    answer = sign_in(client, provider, login="newcomer")
    assert answer.status_code == 302 and client.get("/account").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@county.test"))
        assert user.name == "Uusi Tyontekija" and not user.password_login
        assert db.session.scalars(select(Membership)).all() == []
        assert len(events("account.sso_provisioned")) == 1


def test_mfa_required_and_missing_is_refused_and_with_it_no_local_code_is_asked(
        app, client, provider, linked):
    provider.set_account("nurse", otp=OTP, email="nurse@county.test")
    app.config["OIDC_REQUIRE_MFA"] = True
    refused = sign_in(client, provider)
    assert "two-step verification" in shown_after(client, refused)
    with app.app_context():
        assert '"mfa_missing"' in events("auth.sso_refused")[0].detail
    answer = sign_in(client, provider, otp=OTP)
    with app.app_context():
        assert len(events("auth.sso_refused")) == 1, events("auth.sso_refused")[-1].detail
    assert answer.status_code == 302 and "/login/totp" not in answer.headers["Location"]
    assert client.get("/account").status_code == 200


def test_without_mfa_from_the_provider_an_enrolled_account_gives_its_code(
        app, client, provider, linked):
    with app.app_context():
        user = db.session.get(User, linked)
        from handover.security import totp
        totp.store_secret(user, totp.new_secret())
        db.session.commit()
    answer = sign_in(client, provider)
    assert answer.headers["Location"].endswith("/login/totp")
    assert client.get("/account").status_code == 302
    with app.app_context():
        code = totp_code(db.session.get(User, linked))
    assert client.post("/login/totp", data={"code": code}).status_code == 302
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_an_administrator_or_auditor_never_signs_in_with_one_factor(app, client, provider,
                                                                    role):
    """Staff follow the organisation's sign-in policy; an administrator or auditor whose
    provider vouched for one factor sets up and gives Handover's own code first."""
    subject = provider.set_account("boss", email="boss@county.test", name="Pia Pomo")
    with app.app_context():
        user = create_user("pia@handover.test", name="Pia Pomo", enrolled=False,
                           **{role: True})
        sso_accounts.link(user, provider.issuer, subject)
    answer = sign_in(client, provider, login="boss")
    assert answer.headers["Location"].endswith("/login/totp")
    assert client.get("/account").status_code == 302
    enrol = client.get("/login/totp")
    assert enrol.status_code == 302 and enrol.headers["Location"].endswith("/login/enrol")
    assert "QR" in client.get("/login/enrol").get_data(as_text=True)


def test_a_deactivated_sso_account_is_refused_at_once(app, client, provider, linked):
    sign_in(client, provider)
    assert client.get("/account").status_code == 200
    with app.app_context():
        from handover.services import accounts
        accounts.set_user_active(db.session.get(User, linked), False)
    assert client.get("/account").status_code == 302  # its session ended
    answer = sign_in(client, provider)
    assert "not in use" in shown_after(client, answer)
    with app.app_context():
        assert '"inactive_account"' in events("auth.sso_refused")[-1].detail


def test_an_account_the_provider_no_longer_knows_cannot_sign_in(app, client, provider, linked):
    provider.remove_account("nurse")
    start = client.get("/login/organisation")
    answer = provider.sign_in(start.headers["Location"], "nurse")
    assert not isinstance(answer, str) and "Wrong username" in answer.text
    assert client.get("/account").status_code == 302


def test_signing_out_ends_the_provider_session_too(app, client, provider, linked):
    sign_in(client, provider)
    answer = client.post("/logout")
    assert answer.status_code == 302
    target = answer.headers["Location"]
    assert target.startswith(provider.issuer) and "post_logout_redirect_uri" in target
    assert client.get("/account").status_code == 302
    with app.app_context():
        assert len(events("auth.logout")) == 1


def test_local_login_still_works_and_an_admin_can_turn_it_off(app, client, provider, linked):
    from lifecycle_support import login_as

    with app.app_context():
        admin = create_user("admin@handover.test", admin=True)
        local = create_user("local@handover.test")
        sso_accounts.link(local, provider.issuer, "sub-local")
        db.session.refresh(admin)
        db.session.refresh(local)
        db.session.expunge_all()
    answer = client.post("/login", data={"email": "local@handover.test",
                                         "password": "correct horse battery staple"})
    assert answer.headers["Location"].endswith("/login/totp")
    with app.app_context():
        code = totp_code(db.session.get(User, local.id))
    assert client.post("/login/totp", data={"code": code}).status_code == 302
    assert client.get("/account").status_code == 200
    client.post("/logout")

    admin_browser = login_as(app.test_client(), app, admin)
    page = admin_browser.get(f"/admin/users/{local.id}").get_data(as_text=True)
    assert "sub-local" in page and "Turn password login off" in page
    admin_browser.post(f"/admin/users/{local.id}/password-login", data={"allowed": "0"})
    answer = client.post("/login", data={"email": "local@handover.test",
                                         "password": "correct horse battery staple"})
    assert answer.status_code == 200
    assert "The e-mail address or password is wrong." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, local.id).password_login is False
        assert events("auth.login_failed")[-1].detail == "password_login_off"


def test_an_admin_links_and_unlinks_an_organisation_account(app, provider):
    from lifecycle_support import login_as

    with app.app_context():
        admin = create_user("admin@handover.test", admin=True)
        person = create_user("person@handover.test", enrolled=False)
        db.session.refresh(admin)
        db.session.refresh(person)
        db.session.expunge_all()
    browser = login_as(app.test_client(), app, admin)
    answer = browser.post(f"/admin/users/{person.id}/sso",
                          data={"issuer": provider.issuer, "subject": "sub-person"})
    assert answer.status_code == 302
    again = browser.post(f"/admin/users/{person.id}/sso",
                         data={"issuer": provider.issuer, "subject": "sub-person"})
    assert again.status_code == 400 and "already linked" in again.get_data(as_text=True)
    with app.app_context():
        identity = db.session.scalar(select(OidcIdentity))
        assert identity.user_id == person.id and len(events("admin.sso_linked")) == 1
        identity_id = identity.id
    page = browser.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "sub-person" in page
    browser.post(f"/admin/users/{person.id}/sso/{identity_id}/unlink")
    with app.app_context():
        assert db.session.scalar(select(OidcIdentity)) is None


def test_the_callback_counts_against_the_login_throttle(app, client, provider):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    for _attempt in range(3):
        assert client.get("/login/organisation/callback?code=x&state=y").status_code == 302
    assert client.get("/login/organisation/callback?code=x&state=y").status_code == 429


def test_the_organisation_sign_in_is_absent_when_not_configured(app, client):
    app.config["OIDC_ISSUER"] = None
    assert oidc.enabled(app) is False
    assert client.get("/login/organisation").status_code == 404
