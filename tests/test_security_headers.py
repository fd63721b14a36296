"""Security headers on public and authenticated pages, and on error pages."""

import pytest

from tests.support import create_user, login

PUBLIC_PAGES = ["/login", "/accessibility", "/privacy", "/no-such-page"]
AUTHENTICATED_PAGES = ["/", "/account", "/account/password"]


def policy_directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_hardened(response):
    directives = policy_directives(response)
    script_sources = directives.get("script-src", directives.get("default-src"))
    assert "'unsafe-inline'" not in script_sources
    assert "'unsafe-eval'" not in script_sources
    assert "'unsafe-inline'" not in directives.get("style-src", [])
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def logged_in_client(app, client):
    """A client logged in as an ordinary staff user."""
    with app.app_context():
        login(client, create_user("anna@example.fi"))
    return client


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_carry_the_headers(client, path):
    response = client.get(path, base_url="http://localhost")
    assert_hardened(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", AUTHENTICATED_PAGES)
def test_authenticated_pages_are_not_stored(logged_in_client, path):
    response = logged_in_client.get(path)
    assert response.status_code == 200
    assert_hardened(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_throttled_and_failed_login_pages_carry_the_headers(app, client):
    for _ in range(6):
        response = client.post("/login", data={"email": "a@example.fi", "password": "x"})
    assert response.status_code == 429
    assert_hardened(response)


def test_static_files_may_be_cached(client):
    response = client.get("/static/govuk/handover.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert_hardened(response)
    response.close()


@pytest.mark.parametrize("path", PUBLIC_PAGES + AUTHENTICATED_PAGES)
def test_hsts_when_served_over_https(app_config, request, path):
    app_config["HTTPS"] = True
    app = request.getfixturevalue("app")
    client = app.test_client()
    with app.app_context():
        login(client, create_user("anna@example.fi"))
    response = client.get(path, base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_hardened(response)


def test_templates_have_no_inline_script_or_style(logged_in_client):
    for path in AUTHENTICATED_PAGES + ["/login"]:
        page = logged_in_client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "style=" not in page, path
