"""Every page's element ids are unique (pages with several forms used to repeat csrf_token)."""

import re
from collections import Counter

import pytest

from tests.support import PASSWORD, create_unit, create_user, totp_code


@pytest.fixture
def app_config(app_config):
    """CSRF on: the token fields are what used to repeat their id."""
    return {**app_config, "WTF_CSRF_ENABLED": True}


def duplicate_ids(html):
    counts = Counter(re.findall(r'\sid="([^"]+)"', html))
    return sorted(name for name, count in counts.items() if count > 1)


def token(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_pages_with_several_forms_repeat_no_id(app, client):
    with app.app_context():
        unit = create_unit("Yksikkö")
        admin = create_user("admin@example.org", admin=True)
        create_user("member@example.org", memberships=[(unit, "sender")])
        client.post("/login", data={"email": admin.email, "password": PASSWORD,
                                    "csrf_token": token(client, "/login")})
        response = client.post("/login/totp", data={"code": totp_code(admin),
                                                     "csrf_token": token(client, "/login/totp")})
        assert response.status_code == 302
    for url in ["/", "/account", "/admin/plugins/", "/admin/units", "/admin/users"]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert 'name="csrf_token"' in html, url
        assert duplicate_ids(html) == [], url
