"""The forms on a handover's page carry the CSRF token of the form the view built (Flask-WTF's
own field, not one written by hand), and the action they post to refuses a request without it."""

import re

import lifecycle_support
import pytest
from lifecycle_support import handover, login_as

from handover.store.database import db

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
world = lifecycle_support.world
sent = lifecycle_support.sent


@pytest.fixture
def app_config(app_config, instance_path):
    """The lifecycle test plugin installed, and CSRF protection switched back on."""
    lifecycle_support.install_plugin(instance_path)
    return {**app_config, "WTF_CSRF_ENABLED": True}


def form_posting_to(page, action):
    return re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page,
                     re.DOTALL).group(0)


def hidden_token(form_html):
    return re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', form_html).group(1)


def test_acknowledge_and_reply_forms_carry_a_csrf_token(app, client, world, sent):
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{sent}").get_data(as_text=True)
    for action in (f"/handovers/{sent}/acknowledge", f"/handovers/{sent}/reply"):
        form_html = form_posting_to(page, action)
        assert 'type="hidden"' in form_html and hidden_token(form_html)
        assert 'id="csrf_token"' not in form_html  # two forms on one page: no repeated id


def test_acknowledge_without_the_token_is_refused(app, client, world, sent):
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{sent}").get_data(as_text=True)
    action = f"/handovers/{sent}/acknowledge"

    assert client.post(action, data={"note": "Welcome"}).status_code == 400
    assert client.post(action, data={"note": "Welcome", "csrf_token": "forged"}
                       ).status_code == 400
    with app.app_context():
        assert handover(sent).acknowledged_at is None

    token = hidden_token(form_posting_to(page, action))
    response = client.post(action, data={"note": "Welcome", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        db.session.expire_all()
        assert handover(sent).acknowledged_at is not None
