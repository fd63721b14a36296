"""An administrator searching the user list, and an auditor searching the log by person, find
"Äänekosken Aino" by typing "ää", "äänekosken" or "ÄÄNEKOSKEN", and "Åsa Östman" by "åsa" or
"ÖSTMAN": on SQLite (whose own lower() folds ASCII letters only) exactly as on PostgreSQL."""

import html
import re

import pytest
from lifecycle_support import login_as
from support import create_user

from handover.services import accounts, audit_search
from handover.store import audit
from handover.store.database import db

PEOPLE = {
    "aino@example.fi": "Äänekosken Aino",
    "asa@example.fi": "Åsa Östman",
    "matti@example.fi": "Matti Virtanen",
}
FOUND = [
    ("ää", ["Äänekosken Aino"]),
    ("äänekosken", ["Äänekosken Aino"]),
    ("ÄÄNEKOSKEN", ["Äänekosken Aino"]),
    ("åsa", ["Åsa Östman"]),
    ("ÖSTMAN", ["Åsa Östman"]),
    ("ASA@EXAMPLE", ["Åsa Östman"]),
    ("virtanen", ["Matti Virtanen"]),
]


@pytest.fixture
def people(app):
    """An administrator (returned: their id) and the three people of `PEOPLE`, each of whom
    has changed their password once (an event in the log)."""
    with app.app_context():
        admin = create_user("admin@example.fi", name="Ylläpitäjä", admin=True)
        for email, name in PEOPLE.items():
            user = create_user(email, name=name)
            audit.record("account.password_changed", actor=user)
        db.session.commit()
        return admin.id


def listed_names(response):
    """The names the admin's user list shows, each a link to the person's page."""
    page = html.unescape(response.get_data(as_text=True))
    return sorted(name for name in PEOPLE.values() if re.search(rf">\s*{name}\s*<", page))


@pytest.mark.parametrize(("typed", "names"), FOUND)
def test_the_admin_user_list_finds_names_whatever_their_capitals(app, client, people, typed,
                                                                 names):
    admin_client = login_as(client, app, type("Admin", (), {"id": people}))
    response = admin_client.get("/admin/users", query_string={"q": typed})
    assert response.status_code == 200
    assert listed_names(response) == names


@pytest.mark.parametrize(("typed", "names"), FOUND)
def test_the_user_search_folds_every_letter(app, people, typed, names):
    with app.app_context():
        assert [user.name for user in accounts.search_users(typed)] == names


@pytest.mark.parametrize(("typed", "names"), FOUND)
def test_the_audit_log_finds_a_person_whatever_their_capitals(app, people, typed, names):
    with app.app_context():
        page = audit_search.search(audit_search.EventFilter(user=typed), 1)
        emails = {event.actor_label for event in page.items}
    assert sorted(PEOPLE[email] for email in emails) == names


def test_a_search_still_takes_its_wildcards_literally(app, people):
    with app.app_context():
        assert accounts.search_users("ä%") == []
        assert accounts.search_users("_") == []
