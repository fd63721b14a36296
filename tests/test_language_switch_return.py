"""The language switch (and "Stay signed in") bring the user back to the page they were on,
also when that page answered a POST (a form shown again with its errors): its address's own
page, not the front page; an address that has no page of its own leads to the front page."""

import re

from handover.web.ui import page_to_return_to
from tests.support import create_user, login


def _return_addresses(page):
    return re.findall(r'name="next" value="([^"]*)"', page)


def test_a_form_shown_again_after_a_post_switches_language_in_place(app, client):
    with app.app_context():
        login(client, create_user("anna@example.fi"))
    client.post("/language", data={"language": "en", "next": "/account"})
    new = "lumi sataa hiljaa järven rannalla"
    refused = client.post("/account/password", data={
        "current_password": "not my password at all", "new_password": new,
        "repeat_password": new})
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "The current password is wrong." in page
    returns = _return_addresses(page)
    assert returns and set(returns) == {"/account/password"}   # language form and warning
    switched = client.post("/language", data={"language": "sv", "next": returns[0]})
    assert switched.status_code == 302 and switched.location == "/account/password"
    assert 'lang="sv"' in client.get(switched.location).get_data(as_text=True)


def test_a_get_page_returns_to_itself_with_its_query(app):
    with app.test_request_context("/handovers/inbox?page=2"):
        assert page_to_return_to() == "/handovers/inbox?page=2"


def test_a_post_only_address_returns_to_the_front_page(app):
    with app.test_request_context("/handovers/7/send", method="POST"):
        assert page_to_return_to() == "/"
    with app.test_request_context("/no/such/page", method="POST"):
        assert page_to_return_to() == "/"


def test_under_a_path_prefix_the_return_address_keeps_it(app):
    with app.test_request_context("/handovers/inbox", base_url="http://localhost/handover"):
        assert page_to_return_to() == "/handover/handovers/inbox?"
    with app.test_request_context("/account/password", method="POST",
                                  base_url="http://localhost/handover"):
        assert page_to_return_to() == "/handover/account/password"
