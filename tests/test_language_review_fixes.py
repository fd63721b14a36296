"""What a Swedish- and an English-speaking reviewer found: a language chosen before logging in
was the session's only (the next login, on another computer, was Finnish again); saving a
language said so in the old one; a one-year-old was "1 years"; English text inside a Swedish
page, and language names, were not marked with their language (WCAG 3.1.2)."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.support import Translations
from flask import render_template_string, session
from sqlalchemy import select
from support import create_user, login

import handover
from handover.store.database import db
from handover.store.models import User

SWEDISH = Translations.load(Path(handover.__file__).parent / "translations", ["sv"])


def _language_of(email):
    return db.session.scalars(select(User.language).where(User.email == email)).one()


@pytest.mark.parametrize(("before", "chosen", "after"), [
    (None, "sv", "sv"),      # no language of its own yet: the one chosen becomes it
    ("en", "sv", "sv"),      # chosen now, on the login page: the latest choice wins
])
def test_the_language_chosen_before_logging_in_becomes_the_accounts(app, before, chosen,
                                                                     after):
    with app.app_context():
        user = create_user("anna@example.fi")
        user.language = before
        db.session.commit()
        browser = app.test_client()
        browser.post("/language", data={"language": chosen, "next": "/"})
        login(browser, user)
        assert _language_of("anna@example.fi") == after
        elsewhere = app.test_client()        # another computer, no choice made there
        login(elsewhere, user)
    page = elsewhere.get("/account").get_data(as_text=True)
    assert f'<html lang="{after}">' in page


def test_a_language_left_in_a_shared_browser_is_not_the_next_persons_choice(app):
    """The browser keeps its language across logout (the login page stays in it), but the
    next person to log in there did not choose it: their account keeps no language."""
    with app.app_context():
        first = create_user("anna@example.fi")
        second = create_user("berit@example.fi")
        shared = app.test_client()
        login(shared, first)
        shared.post("/language", data={"language": "sv", "next": "/"})
        shared.post("/logout")
        login(shared, second)
        assert _language_of("anna@example.fi") == "sv"
        assert _language_of("berit@example.fi") is None


def test_a_language_saved_is_confirmed_in_that_language(admin_client):
    page = admin_client.post("/account", data={"language": "sv"},
                             follow_redirects=True).get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert SWEDISH.gettext("Your language has been saved.") in page
    assert "Your language has been saved." not in page


def test_the_language_names_on_the_account_page_are_marked_with_their_language(admin_client):
    page = admin_client.get("/account").get_data(as_text=True)
    for code, name in (("fi", "suomi"), ("sv", "svenska")):
        assert f'lang="{code}">{name}</label>' in page


@pytest.mark.parametrize(("age", "shown"), [(1, "Testi Lapsi, 1 year"),
                                            (2, "Testi Lapsi, 2 years")])
def test_the_childs_age_in_the_heading_is_said_in_the_right_number(app, age, shown):
    heading = ('{% from "handovers/_macros.html" import handover_heading %}'
               '{{ handover_heading(handover, definition, "en", child_name="Testi Lapsi", '
               'child_age=age) }}')
    with app.test_request_context("/"):
        session["language"] = "en"
        html = render_template_string(heading, age=age, handover=SimpleNamespace(id=5),
                                      definition=SimpleNamespace(title_in=lambda _: "Form"))
    assert shown in " ".join(html.split())
    assert "1 years" not in html


def test_the_api_references_english_descriptions_are_marked_english(admin_client):
    admin_client.post("/language", data={"language": "sv", "next": "/"})
    page = admin_client.get("/api/v1/reference").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert '<p lang="en">' in page and "— <span lang=\"en\">" in page
    assert SWEDISH.gettext("The operations are described in English, as in the "
                           "machine-readable description.") in page


def test_choices_whose_labels_have_commas_are_told_apart(app):
    """Two choices read "Meetings, Calls, messages and other contact": one, two or three?
    Choices whose labels have commas are separated by semicolons; others by commas."""
    from handover.formdefs.display import display_value
    from handover.formdefs.model import Choice, Field

    def choice(value, label):
        return Choice(value=value, label={"fi": label, "sv": label, "en": label})

    field = Field(key="ways", type="multichoice", label={"en": "Ways"}, choices=[
        choice("meet", "Meetings"), choice("call", "Calls, messages and other contact"),
        choice("mail", "Letters")])
    with app.test_request_context("/"):
        assert display_value(field, ["meet", "call"], "en") == (
            "Meetings; Calls, messages and other contact")
        assert display_value(field, ["meet", "mail"], "en") == "Meetings, Letters"
