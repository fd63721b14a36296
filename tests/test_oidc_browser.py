"""A full sign-in with the organisation's account in a real browser: Debian's chromium
(playwright) clicks "Kirjaudu organisaation tunnuksella" on a Handover served by gunicorn, signs
in on the real provider's own login page (npm oidc-provider, tests/oidc_support.py) with a
one-time code, and lands on the page it was going to, signed in. (Signing out of both is
tested in tests/test_oidc.py against the same provider.)"""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from oidc_support import OTP, PASSWORD, OidcProvider
from playwright.sync_api import expect
from support import free_port

from handover import create_app

pytestmark = pytest.mark.browser
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Without JavaScript, as Handover must work (and as the provider's pages do)."""
    return {**browser_context_args, "java_script_enabled": False}


@pytest.fixture
def handover_with_sso(tmp_path):
    """gunicorn serving a fresh instance whose staff sign in through the test provider; a
    person there linked to the provider's ``nurse``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provider = OidcProvider(tmp_path, [f"{url}/login/organisation/callback"], [f"{url}/login"])
    subject = provider.set_account("nurse", otp=OTP, email="nurse@county.test", name="Nina")
    instance = tmp_path / "instance"
    environment = {**os.environ, "HANDOVER_INSTANCE_PATH": str(instance), "HANDOVER_BASE_URL": url,
                   "HANDOVER_OIDC_REQUIRE_MFA": "true",
                   **{f"HANDOVER_{key}": value for key, value in provider.config().items()}}
    environment.pop("HANDOVER_DATABASE_URL", None)
    environment.pop("HANDOVER_REDIS_URL", None)
    subprocess.run([VENV_BIN / "handover", "init"], env=environment, check=True,
                   capture_output=True)
    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.app_context():
        from support import create_user

        from handover.services import sso_accounts
        from handover.store.database import db

        person = create_user("nina@handover.test", name="Nina Nurse", enrolled=False)
        sso_accounts.link(person, provider.issuer, subject)
        db.session.remove()
        db.engine.dispose()
    server = subprocess.Popen(
        [VENV_BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "handover:create_app()"], env=environment)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.2)
        yield url, provider
    finally:
        server.terminate()
        server.wait(timeout=10)
        provider.close()


def test_a_nurse_signs_in_with_her_organisation_account(page, handover_with_sso):
    url, provider = handover_with_sso
    page.goto(url + "/account")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("link", name="Kirjaudu organisaation tunnuksella").click()

    # The provider's own page, on its own address.
    expect(page.get_by_role("heading", name="Test provider sign-in")).to_be_visible()
    assert page.url.startswith(provider.issuer)
    page.get_by_label("Username").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("One-time code (if you have one)").fill(OTP)
    page.get_by_role("button", name="Sign in").click()

    # Back in Handover, signed in, where she was going; no local code was asked.
    page.wait_for_url(url + "/account")
    expect(page.get_by_role("button", name="Kirjaudu ulos")).to_be_visible()

    assert "Nina Nurse" in page.content()
