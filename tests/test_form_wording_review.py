"""What a child-welfare professional's review of the form texts changed beyond wording: the ward
form asks the legal basis of the admission of every sender ("Ei vielä tiedossa" when it is not
known yet), and the date of a consent is asked only when the disclosure rests on a consent,
never when it rests on a statutory duty. Each test reads what the sender sees."""

import re
import secrets
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import login_as
from support import page_text, stored_content

from handover.cli.demo_handovers import ward_content
from handover.formdefs import content as content_rules
from handover.services import definition_of, drafts, sending
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

WARD = "psychiatric_ward_preinfo"
SENDER_KIND = "child_welfare_institution"
ADMISSION_MESSAGE = {
    "fi": "Valitse hoitoon tulon oikeudellinen peruste tai ”Ei vielä tiedossa”",
    "sv": "Välj vårdens rättsliga grund eller ”Ännu inte känd”",
    "en": "Select the legal basis of the admission, or “Not yet known”",
}
CONSENTS = ("child", "guardians", "social_worker")


def error_of(page, field_id):
    """The error message shown at the field ``field_id``, or None."""
    found = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</', page, re.S)
    if not found:
        return None
    text = re.sub(r"<[^>]+>", "", found.group(1))
    return re.sub(r"\s+", " ", unescape(text)).replace("Error:", "").strip()


def save(app, world, draft_id, values):
    with app.app_context():
        handover = db.session.get(Handover, draft_id)
        drafts.save(world.user("sending_sender"), handover, values)


@pytest.fixture
def sender(app, client, world):
    """The sending institution's sender, logged in, reading English."""
    return login_as(client, app, world.users["sending_sender"])


# -- the legal basis of the admission ------------------------------------------------------

@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_empty_legal_basis_of_the_admission_says_what_to_choose(app, language):
    with app.app_context():
        definition = definition_of(WARD)
        found = content_rules.problems(definition, {**ward_content(), "admission_status": None},
                                       SENDER_KIND, language)
    assert found == {"admission_status": [ADMISSION_MESSAGE[language]]}
    not_known = definition.field("admission_status").choices[-1]
    assert not_known.value == "not_known"
    assert f"”{not_known.label_in(language)}”" in ADMISSION_MESSAGE[language] or (
        f"“{not_known.label_in(language)}”" in ADMISSION_MESSAGE[language]), (
        "the message quotes the choice as the form shows it")


def test_not_yet_known_is_an_answer(app):
    with app.app_context():
        definition = definition_of(WARD)
        found = content_rules.problems(
            definition, {**ward_content(), "admission_status": "not_known"}, SENDER_KIND)
    assert "admission_status" not in found
    assert "admission_consent_by" not in found, "asked only of a voluntary admission"


def test_the_ward_form_is_not_sent_without_the_legal_basis_of_the_admission(app, world):
    with app.app_context():
        user = world.user("sending_sender")
        draft = drafts.start(user, world.unit("sending"), WARD, world.unit("receiving"), [],
                             "child_welfare_necessary")
        content = ward_content()
        del content["admission_status"], content["admission_consent_by"]
        drafts.save(user, draft, content)
        with pytest.raises(drafts.ValidationFailed) as refused:
            sending.send(user, draft, secrets.token_urlsafe(8), language="en")
        assert refused.value.errors == {"admission_status": [ADMISSION_MESSAGE["en"]]}
        assert db.session.get(Handover, draft.id).status == "draft"


def test_the_arrival_page_names_the_missing_legal_basis(app, sender, world, ward_draft):
    save(app, world, ward_draft, {"arrival_type": "planned", "arrival_date": "2026-12-01",
                                  "arrival_reason": "Tutkimusjakso"})
    page = page_text(sender.get(f"/handovers/{ward_draft}/sections/arrival?check=1"))
    assert error_of(page, "admission_status") == ADMISSION_MESSAGE["en"]
    assert error_of(page, "arrival_type") is None
    tasks = page_text(sender.get(f"/handovers/{ward_draft}/tasks"))
    assert "In progress" in tasks and "Arrival at the ward" in tasks

    save(app, world, ward_draft, {"arrival_type": "planned", "arrival_date": "2026-12-01",
                                  "arrival_reason": "Tutkimusjakso",
                                  "admission_status": "not_known"})
    page = page_text(sender.get(f"/handovers/{ward_draft}/sections/arrival?check=1"))
    assert error_of(page, "admission_status") is None


# -- the date of the consent ---------------------------------------------------------------

def test_a_statutory_disclosure_asks_no_consent_date(app):
    with app.app_context():
        definition = definition_of(WARD)
        statutory = {**ward_content(), "disclosure_consent_by": "statutory"}
        statutory.pop("disclosure_consent_date", None)
        assert content_rules.problems(definition, statutory, SENDER_KIND, "en") == {}
        assert drafts.validate_content(definition, statutory, SENDER_KIND, "en") == {}


@pytest.mark.parametrize("consent_by", CONSENTS)
def test_a_disclosure_resting_on_consent_needs_the_consent_date(app, consent_by):
    with app.app_context():
        definition = definition_of(WARD)
        content = {**ward_content(), "disclosure_consent_by": consent_by}
        content.pop("disclosure_consent_date", None)
        found = content_rules.problems(definition, content, SENDER_KIND, "en")
        assert found == {"disclosure_consent_date": ["Enter date of the consent"]}
        dated = {**content, "disclosure_consent_date": "2026-11-30"}
        assert content_rules.problems(definition, dated, SENDER_KIND, "en") == {}


def test_the_decides_page_asks_the_consent_date_only_for_a_consent(app, sender, world,
                                                                     ward_draft):
    path = f"/handovers/{ward_draft}/sections/decides"
    decided = {"custody_situation": "municipality_care_order",
               "treatment_consent_by": "social_worker"}
    sender.post(path, data={**decided, "disclosure_consent_by": "statutory",
                            "disclosure_consent_date": "30.11.2026", "continue": "1"})
    assert stored_content(app, ward_draft).get("disclosure_consent_date") is None, (
        "a date typed for a statutory disclosure is not kept")
    page = page_text(sender.get(f"{path}?check=1"))
    assert error_of(page, "disclosure_consent_by") is None
    assert error_of(page, "disclosure_consent_date") is None, "not required"
    assert ("Fill in only if the answer to “What this disclosure rests on” is “The child's "
            "consent / The guardian's consent / The social worker's consent, for the county”"
            ) in unescape(page), "the page says when the date applies"

    sender.post(path, data={**decided, "disclosure_consent_by": "guardians", "continue": "1"})
    page = page_text(sender.get(f"{path}?check=1"))
    assert error_of(page, "disclosure_consent_date") == "Enter date of the consent"
    sender.post(path, data={**decided, "disclosure_consent_by": "guardians",
                            "disclosure_consent_date": "30.11.2026", "continue": "1"})
    assert stored_content(app, ward_draft)["disclosure_consent_date"] == "2026-11-30"
