"""A wording and display review: what a nurse, a teacher or a daycare director reads.

- The "file too large" message of a page's file input stays hidden until a file too large is
  chosen: our stylesheet lets ``hidden`` win over a component's ``display: block``.
- "Who decides and who consented" beside the key facts writes its dates as d.m.yyyy.
- The reply and receipt forms' required fields say what to give in whole sentences, and an
  empty date without its own message says "Anna …" in Finnish ("Ange …" in Swedish).
- A date in the right format that does not exist (31.2.2025) is said not to exist; a date in
  a wrong format still gets the format.
- The Finnish reply form opens "Vastaus tiedonsiirtoon #N (lapsen nimi)."
- "(required)" is in the page's font.
- A copy unit shown no key facts gets no "Key facts" region with an empty list.
"""

import re
import secrets

import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import login_as
from support import error_of, text_of

from handover.cli.demo_handovers import ward_content
from handover.formdefs.model import Field
from handover.formdefs.required import required_message, unreadable_date
from handover.services import definition_of, drafts, sending

app_config = lifecycle_support.app_config
world = lifecycle_support.world

WARD = "psychiatric_ward_preinfo"


def send_ward_form(app, world, **overrides):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), WARD, world.unit("receiving"),
                             [world.unit("copy")], "child_welfare_necessary")
        drafts.save(sender, draft, {**ward_content(), **overrides})
        return sending.send(sender, draft, secrets.token_urlsafe(16)).id


def in_language(client, language):
    client.post("/language", data={"language": language, "next": "/"})


def stylesheet(client):
    response = client.get("/static/govuk/handover.css")
    try:
        return response.get_data(as_text=True)
    finally:
        response.close()


# --- 1. the hidden "file too large" message -------------------------------------------------


def test_a_hidden_error_message_stays_hidden_whatever_its_class_says(app, client, world):
    login_as(client, app, world.users["sending_sender"])
    draft_id = lifecycle_support.empty_draft(app, world)
    page = client.get(f"/handovers/{draft_id}/edit").get_data(as_text=True)
    too_large = re.search(r"<p [^>]*data-file-too-large[^>]*>", page).group(0)
    assert "hidden" in too_large and "govuk-error-message" in too_large
    assert 'href="/static/govuk/handover.css"' in page
    css = stylesheet(client)
    # The component's display: block would show the message; the rule on [hidden] wins.
    assert re.search(r"\.govuk-error-message[^{]*\{[^}]*display:block", css)
    assert re.search(r"(^|[}\s,])\[hidden\]\{display:none ?!important\}", css)


# --- 2. dates in "Who decides and who consented" --------------------------------------------


def test_who_decides_beside_the_key_facts_writes_dates_as_day_month_year(app, client, world):
    handover_id = send_ward_form(app, world, guardian_told="told",
                                 guardian_told_on="2025-12-01")
    login_as(client, app, world.users["receiving_receiver"])
    for language, label in (("fi", "Milloin huoltajalle kerrottiin"),
                            ("sv", "När vårdnadshavaren fick veta")):
        in_language(client, language)
        # On the page and in its print view alike, beside the key facts (before the record).
        for path in (f"/handovers/{handover_id}", f"/handovers/{handover_id}/print"):
            page = client.get(path).get_data(as_text=True)
            decides = page.split('class="hv-decides"', 1)[1].split("</dl>", 1)[0]
            assert label in decides
            assert "1.12.2025" in decides and "2025-12-01" not in decides
            assert page.index('class="hv-decides"') < page.index('class="content-section"')


# --- 3. required messages of the reply forms ------------------------------------------------


def test_the_ward_receipt_says_what_is_missing_in_whole_sentences(app, client, world):
    handover_id = send_ward_form(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    expected = {
        "fi": {"received_on": "Anna vastaanottopäivä",
               "primary_nurse_name": "Kirjoita nimetyn omahoitajan nimi"},
        "sv": {"received_on": "Ange mottagningsdatum",
               "primary_nurse_name": "Skriv namnet på den utsedda egenvårdaren"},
    }
    for language, messages in expected.items():
        in_language(client, language)
        response = client.post(f"/handovers/{handover_id}/reply/ward_receipt", data={
            "received_on": "", "primary_nurse_name": "", "care_meeting_date": "",
            "acknowledged_by": "", "legal_basis": "patient_data_necessary"})
        page = response.get_data(as_text=True)
        for key, message in messages.items():
            assert error_of(page, key) == message, (language, key, error_of(page, key))
        # An emergency admission is acknowledged before a care meeting is set.
        assert error_of(page, "care_meeting_date") is None


#: What the reviewer read on the receipts and summaries.
UNGRAMMATICAL = {"Kirjoita vastaanotettu", "Kirjoita nimi", "Kirjoita hoitoneuvottelun päivämäärä",
                 "Kirjoita kotiutuspäivä", "Skriv mottaget", "Skriv datum", "Skriv namn"}
#: The replies whose required fields each have their own message.
REPLIES = {"psychiatric_ward_preinfo": ("ward_receipt", "ward_discharge"),
           "daycare_placed_child": ("daycare_receipt",),
           "school_transfer": ("school_receipt",),
           "pre_placement_notice": ("pre_placement_receipt",)}


@pytest.mark.parametrize("form_key, reply_key",
                         [(form, reply) for form, replies in REPLIES.items() for reply in replies])
def test_every_required_field_of_a_receipt_has_its_own_words(app, form_key, reply_key):
    with app.app_context():
        reply = definition_of(form_key).reply_form(reply_key)
        required = [f for f in reply.fields() if f.required]
        assert required
        for field in required:
            for language in ("fi", "sv", "en"):
                with force_locale(language):
                    said = str(required_message(field))
                assert said == field.required_message[language]
                # Never the label pasted after a verb ("Kirjoita nimi", "Skriv datum").
                assert said not in UNGRAMMATICAL, (field.key, said)
                if field.type == "date" and language == "fi":
                    assert said.startswith("Anna "), (field.key, said)
        names = {f.key: f for f in required}
        for key in ("contact_name", "received_by"):
            if key in names:   # whose name
                assert "yhteyshenkilön" in names[key].required_message["fi"] or \
                    "vastaanottajan" in names[key].required_message["fi"]


def test_an_empty_date_without_its_own_message_is_given_not_written(app):
    field = Field(key="arrival_date", type="date", required=True, label={
        "fi": "Tulopäivä", "sv": "Ankomstdag", "en": "Date of arrival"})
    with app.app_context():
        with force_locale("fi"):
            assert str(required_message(field)) == "Anna tulopäivä"
        with force_locale("sv"):
            assert str(required_message(field)) == "Ange ankomstdag"
        with force_locale("en"):
            assert str(required_message(field)) == "Enter date of arrival"
        text = next(f for f in definition_of(WARD).fields() if f.type == "text")
        with force_locale("fi"):
            assert str(required_message(text)).startswith("Kirjoita ")


# --- 4. a date that does not exist ----------------------------------------------------------


def test_a_date_that_does_not_exist_is_said_not_to_exist(app, client, world):
    handover_id = send_ward_form(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    said = {"fi": ("Päivämäärää 31.2.2025 ei ole olemassa: hoitoneuvottelun päivämäärä",
                   "Anna hoitoneuvottelun päivämäärä muodossa"),
            "sv": ("Datumet 31.2.2025 finns inte: datum för vårdförhandlingen",
                   "Ange datum för vårdförhandlingen"),
            "en": ("The date 31.2.2025 does not exist: date of the care meeting",
                   "Enter date of the care meeting as day.month.year")}
    for language, (no_such_day, wrong_format) in said.items():
        in_language(client, language)
        for typed, expected in (("31.2.2025", no_such_day), ("2025-02-31", None),
                                ("31/2/2025", wrong_format)):
            page = client.post(f"/handovers/{handover_id}/reply/ward_receipt", data={
                "received_on": "1.12.2025", "primary_nurse_name": "Tiina",
                "care_meeting_date": typed, "acknowledged_by": "Tiina",
                "legal_basis": "patient_data_necessary"}).get_data(as_text=True)
            message = error_of(page, "care_meeting_date")
            if expected is None:
                assert message.startswith(no_such_day.split("31.2.2025")[0]), message
                assert "2025-02-31" in message
            else:
                assert message.startswith(expected), (language, typed, message)


# --- 5. the Finnish reply form's first line -------------------------------------------------


@pytest.mark.parametrize("language, line", [
    ("fi", "Vastaus tiedonsiirtoon #{id} ({child})."),
    ("sv", "Svar på överlämning #{id} om {child}."),
])
def test_the_reply_form_names_the_handover_and_the_child(app, client, world, language, line):
    handover_id = send_ward_form(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    in_language(client, language)
    page = text_of(client.get(f"/handovers/{handover_id}/reply/ward_receipt"))
    assert line.format(id=handover_id, child=ward_content()["child_name"]) in page
    assert "koskevaan" not in page


# --- 7. "(required)" in the page's font -----------------------------------------------------


def test_required_is_written_in_the_labels_font(app, client):
    css = stylesheet(client)
    rules = re.findall(r"(?:^|})\.hv-required\{([^}]*)\}", css)
    assert any("font-family:system-ui" in rule for rule in rules), rules
    assert any("font-size:1.1875rem" in rule for rule in rules), rules


# --- 8. no empty "Key facts" region ---------------------------------------------------------


def test_a_copy_unit_shown_no_key_facts_gets_no_key_facts_region(app, client, world):
    with app.app_context():
        handover_id = lifecycle_support.send_handover(world)
    login_as(client, app, world.users["copy_receiver"])
    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert "read-only copy" in page
    assert 'id="key-facts-title"' not in page and "Key facts" not in page
    assert 'class="govuk-summary-list hv-key-facts__list"' not in page


def test_a_reader_with_key_facts_still_gets_the_region(app, client, world):
    handover_id = send_ward_form(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert 'aria-labelledby="key-facts-title"' in page
    facts = page.split('hv-key-facts__list">', 1)[1].split("</dl>", 1)[0]
    assert "govuk-summary-list__row" in facts


def test_the_rules_tell_a_date_that_does_not_exist_from_one_in_a_wrong_format(app):
    """What the check-answers list and a send can say once they pass what was typed."""
    with app.app_context():
        field = next(f for f in definition_of(WARD).fields() if f.key == "arrival_date")
        with force_locale("fi"):
            assert str(unreadable_date(field, "31.2.2025")) == \
                "Päivämäärää 31.2.2025 ei ole olemassa: tulopäivä"
            assert str(unreadable_date(field, "31/2/2025")).startswith(
                "Anna tulopäivä muodossa p.k.vvvv")
            assert str(unreadable_date(field)).startswith("Anna tulopäivä muodossa p.k.vvvv")
        with force_locale("sv"):
            assert str(unreadable_date(field, "2025-02-31")) == \
                "Datumet 2025-02-31 finns inte: ankomstdag"
