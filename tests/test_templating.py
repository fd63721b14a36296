"""Templates as every page uses them: helpers added to the environment after it was made reach
imported macro modules, and the page chrome follows each user's roles and language."""

import re

from sqlalchemy import select
from support import create_unit, create_user, login

from handover.store.database import db
from handover.store.models import User


def test_imports_see_globals_added_later(app):
    environment = app.jinja_env
    environment.globals["late_helper"] = lambda: "late"
    try:
        with app.test_request_context("/"):
            rendered = environment.from_string(
                '{% from "macros/forms.html" import field %}{{ late_helper() }}').render()
        assert rendered == "late"
    finally:
        del environment.globals["late_helper"]


def _menu(page):
    """The hrefs and texts of the main menu's links."""
    menu = page.split('id="navigation">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a class="govuk-service-navigation__link" href="([^"]+)">([^<]+)</a>',
                      menu)


def test_the_menu_rendered_once_still_follows_each_users_roles_and_language(app):
    """The menu and footer are rendered once per language and set of visible entries: an
    admin and a receiver, in Finnish and English, each get their own."""
    with app.app_context():
        ward = create_unit("Ward")
        emails = [create_user("admin@example.org", admin=True).email,
                  create_user("nurse@example.org", memberships=[(ward, "receiver")]).email]
    menus = {}
    for email in emails:
        for language in ("fi", "en"):
            browser = app.test_client()
            browser.post("/language", data={"language": language, "next": "/"})
            with app.app_context():
                login(browser, db.session.execute(
                    select(User).where(User.email == email)).scalar_one())
            page = browser.get("/account").get_data(as_text=True)
            menus[email, language] = _menu(page)
            assert 'href="/privacy"' in page.split("<footer", 1)[1]
    assert ("/admin/users", "Users") in menus["admin@example.org", "en"]
    assert ("/admin/users", "Käyttäjät") in menus["admin@example.org", "fi"]
    assert ("/handovers/inbox", "Inbox") in menus["nurse@example.org", "en"]
    assert not any(href == "/handovers/outbox" for href, _ in menus["nurse@example.org", "en"]), \
        "a receiver who cannot send sees no Outbox"
    assert not any(href.startswith("/admin") for href, _ in menus["nurse@example.org", "en"])
    assert not any(href.startswith("/handovers") for href, _ in menus["admin@example.org", "en"])
    assert menus["nurse@example.org", "fi"] != menus["nurse@example.org", "en"]
