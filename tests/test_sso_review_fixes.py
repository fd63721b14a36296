"""Fixes from the review of signing in through the organisation's provider, against the real
test provider (tests/oidc_support.py):

1. An account that signs in only through the organisation (password login off) is never
   forced to change a password it cannot use: turning password login off ends a forced
   change (and drops the temporary password not yet replaced), a reset of its password is
   refused with a message, and a forced change left from before is not enforced.
4. A provider whose issuer ends in "/" (Entra ID v1, Auth0) signs people in; an admin's link
   is stored with the issuer a sign-in presents, and an issuer that is not the configured
   provider's is refused.
5. A provider sign-in followed by the local code step is recorded as one through the provider
   (with MFA) and logging out ends the provider's session too, as without the code step.
"""

import os
import urllib.parse

import oidc_support
import pytest
from lifecycle_support import login_as
from oidc_support import OidcProvider
from sqlalchemy import select
from support import PASSWORD, create_user, totp_code

from handover.services import sso_accounts
from handover.store.database import db
from handover.store.models import AuditEvent, OidcIdentity, User

CALLBACK = "http://localhost/login/organisation/callback"
LOGIN = "http://localhost/login"
FORCED = "Choose a new password before you continue."


@pytest.fixture(params=["postgresql" if os.environ.get("HANDOVER_TEST_DATABASE_URL")
                        else "sqlite"])
def database_backend(request):
    """One database, PostgreSQL when the suite has one (as in tests/test_oidc.py)."""
    return request.param


@pytest.fixture(scope="module")
def plain_provider(tmp_path_factory):
    running = OidcProvider(tmp_path_factory.mktemp("oidc"), [CALLBACK], [LOGIN])
    yield running
    running.close()


class SlashIssuerProvider(OidcProvider):
    """The test provider with an issuer ending in "/", as Entra ID v1's
    (``https://sts.windows.net/{tenant}/``) and Auth0's do. Its discovery document and ID
    tokens name that issuer; it answers under the same address without the slash."""

    def _write(self):
        self.settings["issuer"] = self.issuer.rstrip("/") + "/"
        super()._write()


@pytest.fixture(scope="module")
def slash_provider(tmp_path_factory):
    running = SlashIssuerProvider(tmp_path_factory.mktemp("oidc-slash"), [CALLBACK], [LOGIN])
    running.issuer = running.settings["issuer"]
    yield running
    running.close()


@pytest.fixture
def provider(plain_provider):
    return plain_provider


app_config = oidc_support.app_config
client = oidc_support.client


@pytest.fixture
def admin_browser(app):
    with app.app_context():
        admin = create_user("admin@handover.test", admin=True)
        db.session.refresh(admin)
        db.session.expunge(admin)
    return login_as(app.test_client(), app, admin)


def sign_in(client, provider, login, **options):
    """Click the button, sign in at the provider, come back; Handover's last answer."""
    start = client.get("/login/organisation")
    assert start.status_code == 302, start.status_code
    back = provider.sign_in(start.headers["Location"], login, **options)
    assert isinstance(back, str) and back.startswith(CALLBACK), back
    return client.get(back[len("http://localhost"):])


def events(action):
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def refusals():
    return [event.detail for event in events("auth.sso_refused")]


def user_id_of(email):
    return db.session.scalar(select(User.id).where(User.email == email))


# --- 1. an organisation-only account is never forced to change a password ---------------------


def test_an_account_made_organisation_only_by_an_admin_is_not_sent_to_change_its_password(
        app, client, provider, admin_browser):
    """The reviewer's steps: create, link, password login off, sign in at the provider."""
    made = admin_browser.post("/admin/users/new",
                              data={"email": "sanna@handover.test", "name": "Sanna Sso"})
    assert made.status_code == 200 and "Temporary password" in made.get_data(as_text=True)
    with app.app_context():
        user_id = user_id_of("sanna@handover.test")
        assert db.session.get(User, user_id).must_change_password  # a temporary password
    subject = provider.set_account("sanna", email="sanna@county.test", name="Sanna Sso")
    linked = admin_browser.post(f"/admin/users/{user_id}/sso",
                                data={"issuer": provider.issuer, "subject": subject})
    assert linked.status_code == 302
    admin_browser.post(f"/admin/users/{user_id}/password-login", data={"allowed": "0"})
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.password_login is False and user.must_change_password is False
        # The temporary password the admin read is gone: turning password login on again
        # must not let it sign in unchanged.
        assert not sso_accounts.has_password(user)

    answer = sign_in(client, provider, "sanna")
    assert answer.status_code == 302 and answer.headers["Location"] == "/", \
        answer.headers["Location"]
    for page in ("/", "/account"):
        assert client.get(page).status_code == 200, page
    with app.app_context():
        assert refusals() == []

    # Password login on again: the account has no password until the admin resets it, and
    # then its temporary password must be changed, as for any account.
    turned_on = admin_browser.post(f"/admin/users/{user_id}/password-login",
                                   data={"allowed": "1"})
    shown = admin_browser.get(turned_on.headers["Location"]).get_data(as_text=True)
    assert "The account has no password yet" in shown
    reset = admin_browser.post(f"/admin/users/{user_id}/reset-password", data={})
    assert reset.status_code == 200
    with app.app_context():
        assert db.session.get(User, user_id).must_change_password is True


def test_resetting_the_password_of_an_organisation_only_account_is_refused(
        app, client, provider, admin_browser):
    """An account the first sign-in created has password login off: a reset would give it a
    password it cannot use and a change it could never make."""
    provider.set_account("newcomer", email="new@county.test", name="Uusi Tyontekija")
    app.config["OIDC_PROVISION"] = True
    assert sign_in(client, provider, "newcomer").headers["Location"] == "/"
    client.post("/logout")
    with app.app_context():
        user_id = user_id_of("new@county.test")
        hash_before = db.session.get(User, user_id).password_hash

    refused = admin_browser.post(f"/admin/users/{user_id}/reset-password",
                                 data={"reset_two_factor": "y"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "signs in only with their organisation account" in page
    assert "turn password login on first" in page
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.must_change_password is False and user.password_hash == hash_before
        assert events("admin.password_reset") == []

    answer = sign_in(client, provider, "newcomer")
    assert answer.headers["Location"] == "/"
    assert client.get("/account").status_code == 200


def test_a_forced_change_left_from_before_is_not_enforced_while_password_login_is_off(
        app, client, provider):
    """Accounts the defect already left with the flag set and password login off (the web
    layer's part of the fix): they reach every page, and the password page forces nothing."""
    subject = provider.set_account("legacy", email="legacy@county.test")
    with app.app_context():
        user = create_user("legacy@handover.test", enrolled=False, must_change_password=True)
        sso_accounts.link(user, provider.issuer, subject)
        user.password_login = False
        db.session.commit()
    answer = sign_in(client, provider, "legacy")
    assert answer.headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    page = client.get("/account/password").get_data(as_text=True)
    assert "Your password was set by an administrator" not in page


def test_with_password_login_on_a_forced_change_is_still_asked_after_the_provider(
        app, client, provider):
    """The rule is only lifted for organisation-only accounts."""
    subject = provider.set_account("both", email="both@county.test")
    with app.app_context():
        user = create_user("both@handover.test", enrolled=False, must_change_password=True)
        sso_accounts.link(user, provider.issuer, subject)
    answer = sign_in(client, provider, "both")
    assert answer.headers["Location"] == "/account/password"
    assert client.get("/account").headers["Location"] == "/account/password"


# --- 4. issuers ending in "/"; the issuer of a link -------------------------------------------


def test_a_link_given_with_a_trailing_slash_is_stored_as_a_sign_in_presents_it(
        app, client, provider, admin_browser):
    subject = provider.set_account("tiina", email="tiina@county.test")
    with app.app_context():
        user_id = create_user("tiina@handover.test", enrolled=False).id
    answer = admin_browser.post(f"/admin/users/{user_id}/sso",
                                data={"issuer": provider.issuer + "/", "subject": subject})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OidcIdentity.issuer)) == provider.issuer
    again = admin_browser.post(f"/admin/users/{user_id}/sso",
                               data={"issuer": provider.issuer, "subject": subject})
    assert again.status_code == 400 and "already linked" in again.get_data(as_text=True)
    assert sign_in(client, provider, "tiina").headers["Location"] == "/"
    with app.app_context():
        assert refusals() == []


def test_a_link_to_another_issuer_than_the_configured_one_is_refused_on_its_field(
        app, provider, admin_browser):
    with app.app_context():
        user_id = create_user("ulla@handover.test", enrolled=False).id
    answer = admin_browser.post(f"/admin/users/{user_id}/sso",
                                data={"issuer": "https://login.elsewhere.test",
                                      "subject": "sub-ulla"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    error = page.split('id="issuer-error">')[1].split("</p>")[0]  # on the issuer field
    assert f"whose issuer is {provider.issuer}" in error
    with app.app_context():
        assert db.session.scalar(select(OidcIdentity)) is None
        assert events("admin.sso_linked") == []


class TestAProviderWhoseIssuerEndsInASlash:
    @pytest.fixture
    def provider(self, slash_provider):
        return slash_provider

    def test_its_people_sign_in(self, app, client, provider, admin_browser):
        assert provider.issuer.endswith("/")
        assert app.config["OIDC_ISSUER"] == provider.issuer
        subject = provider.set_account("entra", email="entra@county.test")
        with app.app_context():
            user_id = create_user("entra@handover.test", enrolled=False).id
        form = admin_browser.get(f"/admin/users/{user_id}/sso").get_data(as_text=True)
        assert f'value="{provider.issuer}"' in form  # the form offers the issuer as it is
        # Typed without the slash, the link is still the one a sign-in finds.
        linked = admin_browser.post(f"/admin/users/{user_id}/sso",
                                    data={"issuer": provider.issuer.rstrip("/"),
                                          "subject": subject})
        assert linked.status_code == 302
        with app.app_context():
            assert db.session.scalar(select(OidcIdentity.issuer)) == provider.issuer
        answer = sign_in(client, provider, "entra")
        with app.app_context():
            assert refusals() == []
            (login,) = events("auth.login")
            assert login.actor_id == user_id and '"via":"sso"' in login.detail.replace(" ", "")
        assert answer.headers["Location"] == "/"
        assert client.get("/account").status_code == 200

    def test_a_link_stored_without_the_slash_before_the_fix_still_signs_in(
            self, app, client, provider):
        """The admin form used to offer the issuer with its slash cut off."""
        subject = provider.set_account("older", email="older@county.test")
        with app.app_context():
            user = create_user("older@handover.test", enrolled=False)
            db.session.add(OidcIdentity(user_id=user.id, issuer=provider.issuer.rstrip("/"),
                                        tenant="", subject=subject))
            db.session.commit()
        assert sign_in(client, provider, "older").headers["Location"] == "/"
        with app.app_context():
            assert refusals() == []


# --- 5. the provider's sign-in followed by the local code -------------------------------------


def test_a_provider_sign_in_with_the_local_code_is_recorded_and_signed_out_as_one(
        app, client, provider):
    subject = provider.set_account("coded", email="coded@county.test")
    with app.app_context():
        user = create_user("coded@handover.test")  # with a TOTP secret
        sso_accounts.link(user, provider.issuer, subject)
        user_id = user.id
    answer = sign_in(client, provider, "coded")  # the provider asserts one factor only
    assert answer.headers["Location"].endswith("/login/totp")
    with app.app_context():
        code = totp_code(db.session.get(User, user_id))
    assert client.post("/login/totp", data={"code": code}).headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    with app.app_context():
        (login,) = events("auth.login")
        detail = login.detail.replace(" ", "")
        assert login.actor_id == user_id
        assert '"via":"sso"' in detail and '"mfa":true' in detail, login.detail

    signed_out = client.post("/logout")
    assert signed_out.status_code == 302
    target = signed_out.headers["Location"]
    assert target.startswith(provider.issuer), target
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    assert query["post_logout_redirect_uri"] == [LOGIN]
    assert client.get("/account").status_code == 302


def test_a_password_login_with_its_code_stays_a_local_one(app, client, provider):
    """The mark is the provider's only: a password and a code record no ``via`` and log out
    to Handover's own login page."""
    with app.app_context():
        user = create_user("local@handover.test")
        user_id = user.id
    first = client.post("/login", data={"email": "local@handover.test", "password": PASSWORD})
    assert first.headers["Location"].endswith("/login/totp")
    with app.app_context():
        code = totp_code(db.session.get(User, user_id))
    assert client.post("/login/totp", data={"code": code}).status_code == 302
    with app.app_context():
        (login,) = events("auth.login")
        assert "sso" not in (login.detail or "")
    assert client.post("/logout").headers["Location"] == "/login"


def test_an_organisation_only_account_is_offered_no_password_change(app, client, provider):
    """Its settings page says that it keeps no password instead of linking to the change,
    and the change page, typed in, leads back there with the same words."""
    subject = provider.set_account("nopassword", email="nopassword@county.test")
    with app.app_context():
        user = create_user("nopassword@handover.test", enrolled=False)
        sso_accounts.link(user, provider.issuer, subject)
        user.password_login = False
        db.session.commit()
    assert sign_in(client, provider, "nopassword").headers["Location"] == "/"
    settings = client.get("/account").get_data(as_text=True)
    assert "Handover keeps no password for you" in settings
    assert 'href="/account/password"' not in settings
    answer = client.get("/account/password")
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    assert "Handover keeps no password for you" in client.get("/account").get_data(as_text=True)
