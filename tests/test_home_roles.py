"""Each person's home and menu show what they can do and nothing else: a receiver no Outbox and
no "New handover", a sender no Inbox; an administrator's home says what an administrator does
(users, units, plugins, integrations), that administrators do not read handovers, and links
to each page; an auditor's home leads to the audit log."""

import re

import pytest
from support import create_unit, create_user, login

from handover.store.database import db
from handover.store.models import User


def _menu(page):
    """The texts of the main menu's links, by their address."""
    menu = page.split('id="navigation">', 1)[1].split("</ul>", 1)[0]
    return {href: text for href, text in re.findall(
        r'<a class="govuk-service-navigation__link" href="([^"]+)">([^<]+)</a>', menu)}


def _main(page):
    return page.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.fixture
def people(app):
    """A ward (receives) and an institution (sends), their staff, an admin and an auditor."""
    with app.app_context():
        ward = create_unit("Osasto 5", kind="psychiatric_ward")
        home = create_unit("Lastenkoti Majakka", kind="child_welfare_institution")
        return {
            "receiver": create_user("nurse@example.fi", memberships=[(ward, "receiver")]).id,
            "sender": create_user("worker@example.fi", memberships=[(home, "sender")]).id,
            "admin": create_user("admin@example.fi", admin=True).id,
            "auditor": create_user("auditor@example.fi", auditor=True).id,
        }


def _logged_in(app, user_id, language="fi"):
    client = app.test_client()
    client.post("/language", data={"language": language, "next": "/"})
    with app.app_context():
        login(client, db.session.get(User, user_id))
    return client


def _home(app, user_id, language="fi"):
    response = _logged_in(app, user_id, language).get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_receiver_sees_no_entry_for_sending(app, people):
    page = _home(app, people["receiver"])
    menu = _menu(page)
    assert menu.get("/handovers/inbox") == "Saapuneet"
    assert "/handovers/outbox" not in menu
    assert not any(href.startswith(("/admin", "/audit")) for href in menu)
    assert "/handovers/new" not in page and "Uusi tiedonsiirto" not in _main(page)
    assert "pääkäyttäjä" not in _main(page).lower()


def test_a_sender_sees_no_inbox(app, people):
    page = _home(app, people["sender"])
    menu = _menu(page)
    assert "/handovers/outbox" in menu and "/handovers/inbox" not in menu
    assert 'href="/handovers/new"' in _main(page)


@pytest.mark.parametrize(("language", "heading", "not_reading"), [
    ("fi", "Mitä teet pääkäyttäjänä", "Pääkäyttäjät eivät lue tiedonsiirtoja."),
    ("sv", "Vad du gör som huvudanvändare", "Huvudanvändare läser inte överlämningar."),
    ("en", "What you do as an administrator", "Administrators do not read handovers."),
])
def test_an_admins_home_says_what_an_admin_does(app, people, language, heading, not_reading):
    main = _main(_home(app, people["admin"], language))
    assert f">{heading}</h2>" in main and not_reading in main
    links = dict(re.findall(r'<a class="govuk-link[^"]*" href="([^"]+)">([^<]+)</a>', main))
    assert {"/admin/users", "/admin/units", "/admin/plugins/", "/admin/statistics",
            "/admin/clients"} <= links.keys(), links
    assert "/handovers/new" not in main and "/audit/" not in links


def test_an_admins_links_lead_to_pages_an_admin_may_open(app, people):
    client = _logged_in(app, people["admin"])
    main = _main(client.get("/").get_data(as_text=True))
    section = main.split('id="home-admin-title"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'href="([^"]+)"', section)
    assert len(links) >= 6
    for href in links:
        assert client.get(href).status_code == 200, href


def test_an_auditors_home_leads_to_the_audit_log_only(app, people):
    main = _main(_home(app, people["auditor"], "en"))
    assert ">What you do as an auditor</h2>" in main and 'href="/audit/"' in main
    assert "/admin/" not in main and "What you do as an administrator" not in main
