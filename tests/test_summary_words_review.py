"""What a fill page's error summary and links say (review of the ward form): a row's field is
named once in the error summary; the check-answers page's links say "Muuta"/"Ändra" (change an
answer) while the header's button says "Vaihda kieli"; and a saved date that does not exist is
said not to exist on check answers too, not given a format it already has."""

import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import login_as

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft


@pytest.fixture
def sender(app, client, world):
    return login_as(client, app, world.users["sending_sender"])


def in_language(client, language):
    client.post("/language", data={"language": language, "next": "/"})


def text(response):
    return unescape(response.get_data(as_text=True))


def summary_links(page):
    summary = page.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", link).strip()
            for link in re.findall(r"<a [^>]*>(.*?)</a>", summary, re.S)]


def test_a_rows_field_is_named_once_in_the_error_summary(app, client, world, sender,
                                                         ward_draft):
    in_language(client, "fi")
    page = text(client.post(f"/handovers/{ward_draft}/sections/protection", data={
        "non_disclosure": "no", "location_hidden": "no",
        "contact_restrictions-0-restriction_whom": "Isä",
        "contact_restrictions-0-restriction_what": "Tapaamiset",
        "contact_restrictions-0-restriction_decision_date": "1.1.2019",
        "contact_restrictions-0-restriction_until": "1.1.2099", "continue": "1"}))
    assert ("Yhteydenpidon rajoitukset 1: Valitse vähintään yksi: Mitä päätös koskee"
            in summary_links(page))
    assert not [link for link in summary_links(page) if link.count("Mitä päätös koskee") > 1]


@pytest.mark.parametrize("language, change, header", [("fi", "Muuta", "Vaihda kieli"),
                                                      ("sv", "Ändra", "Byt språk")])
def test_check_answers_says_change_the_answer_and_the_header_change_the_language(
        app, client, world, sender, ward_draft, language, change, header):
    in_language(client, language)
    page = text(client.get(f"/handovers/{ward_draft}/preview"))
    assert re.search(rf'class="govuk-link"[^>]*>{change}<span class="govuk-visually-hidden">',
                     page)
    assert f">{header}</button>" in page
    assert "Vaihda<" not in page and "Byt<" not in page


def test_a_saved_date_that_does_not_exist_is_said_not_to_exist_on_check_answers(
        app, client, world, sender, ward_draft):
    in_language(client, "fi")
    client.post(f"/handovers/{ward_draft}/sections/child",
                data={"child_name": "Testi Lapsi", "child_birth_date": "31.2.2012"})
    page = text(client.get(f"/handovers/{ward_draft}/preview"))
    assert "Päivämäärää 31.2.2012 ei ole olemassa: syntymäaika" in page
    assert "muodossa p.k.vvvv" not in page.split('id="error-summary"', 1)[1].split("</ul>")[0]
