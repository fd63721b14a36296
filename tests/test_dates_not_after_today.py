"""A date that records something already done (a birth, a consent, the day the guardian or the
child was told, the day the child's view was recorded or the form gone through with the child,
the author's date) cannot lie in the future: such a field says ``not_after = "today"`` and the
content rules refuse a later date, in the field's own words, on a section page, the whole form,
the check-answers list, a send and the JSON API. Today is the Finnish day. Dates that may lie
ahead (the arrival, a planned start, "valid until") keep accepting the future.

And what only applies under an answer is asked only under it: how the consent was given under
a consent, when the guardian or the child was told only when they were told; a hidden answer is
never sent."""

from datetime import UTC, date, datetime, timedelta

import api_support
import lifecycle_support
import pytest
from api_support import bearer
from lifecycle_support import login_as
from support import error_of, page_text, summary_lines

from handover.cli.demo_handovers import ward_content
from handover.formdefs import content as content_rules
from handover.formdefs import content_values
from handover.formdefs.loader import DefinitionError, load_definition
from handover.services import definition_of, drafts
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api
ward_draft = lifecycle_support.ward_draft

WARD = "psychiatric_ward_preinfo"
SENDER_KIND = "child_welfare_institution"
FUTURE = "2030-01-01"
FUTURE_TYPED = "1.1.2030"

#: The fields of the common fragments that record something done, with their English labels.
DONE_DATES = {
    "child_birth_date": "Date of birth",
    "disclosure_consent_date": "Date of the consent",
    "guardian_told_on": "When the guardian was told",
    "child_told_on": "When the child was told",
    "child_view_recorded_on": "When the child was asked",
    "form_gone_through_on": "When the form was gone through",
    "author_date": "Date",
}
#: What makes each of those fields apply in the ward's demo content.
CONDITIONS = {
    "disclosure_consent_date": {"disclosure_consent_by": "guardians"},
    "guardian_told_on": {"guardian_told": "told"},
    "child_told_on": {"child_told": "told"},
    "child_view_recorded_on": {"child_view_asked": "yes"},
    "form_gone_through_on": {"form_gone_through_with_child": "yes"},
}


def in_future(label):
    return f"The date cannot be in the future: {label}"


def future_content(key, value=FUTURE):
    """The ward's demo content (which may be sent), with ``key`` dated ``value`` and whatever
    makes ``key`` apply. Without an identity code, as the reviewer tried it."""
    return {**ward_content(), "child_identity_code": "", **CONDITIONS.get(key, {}),
            key: value}


@pytest.fixture
def sender(app, client, world):
    """The sending unit's sender, logged in, reading English."""
    return login_as(client, app, world.users["sending_sender"])


def save(app, world, draft_id, values):
    with app.app_context():
        handover = db.session.get(Handover, draft_id)
        drafts.save(world.user("sending_sender"), handover, values)


# -- the rules ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(DONE_DATES))
def test_a_done_date_in_the_future_is_refused_naming_the_field(app, key):
    with app.app_context():
        definition = definition_of(WARD)
        found = content_rules.problems(definition, future_content(key), SENDER_KIND, "en")
        today = content_rules.problems(
            definition, future_content(key, content_rules.today().isoformat()), SENDER_KIND,
            "en")
    assert found == {key: [in_future(DONE_DATES[key])]}
    # (A birth today puts the form's other dates before it: refused by `not_before`.)
    assert key not in today, "today itself is not in the future"


@pytest.mark.parametrize(("language", "message"), [
    ("fi", "Päivämäärä ei voi olla tulevaisuudessa: Syntymäaika"),
    ("sv", "Datumet kan inte ligga i framtiden: Födelsedatum"),
    ("en", "The date cannot be in the future: Date of birth"),
])
def test_the_message_is_said_in_every_language(app, language, message):
    with app.app_context():
        found = content_rules.problems(definition_of(WARD),
                                       future_content("child_birth_date", "2099-01-01"),
                                       SENDER_KIND, language)
    assert found == {"child_birth_date": [message]}


def test_today_is_the_finnish_day(app, monkeypatch):
    """At 23.30 UTC on 31 December it is already 1 January in Finland: that date is today."""
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2029, 12, 31, 23, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(content_values, "datetime", Clock)
    assert content_values.today() == date(2030, 1, 1)
    with app.app_context():
        definition = definition_of(WARD)
        on_the_day = content_rules.problems(definition, future_content("author_date",
                                                                       "2030-01-01"),
                                            SENDER_KIND, "en")
        next_day = content_rules.problems(definition, future_content("author_date",
                                                                     "2030-01-02"),
                                          SENDER_KIND, "en")
    assert on_the_day == {}
    assert next_day == {"author_date": [in_future("Date")]}


@pytest.mark.parametrize("key", ["arrival_date", "restriction_until_row"])
def test_dates_that_may_lie_ahead_still_accept_the_future(app, key):
    with app.app_context():
        definition = definition_of(WARD)
        if key == "arrival_date":
            content = {**ward_content(), "arrival_date": FUTURE}
        else:
            rows = [{"restriction_whom": "Isä", "restriction_scope": ["meetings"],
                     "restriction_what": "Ei tapaamisia",
                     "restriction_decision_date": "2024-01-01",
                     "restriction_until": FUTURE}]
            content = {**ward_content(), "contact_restrictions": rows}
        found = content_rules.problems(definition, content, SENDER_KIND, "en")
    assert not any(FUTURE in str(messages) or "future" in str(messages)
                   for messages in found.values()), found


# -- what the sender sees ---------------------------------------------------------------------

def test_a_section_page_refuses_a_birth_date_in_the_future(sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/sections/child",
                           data={"child_name": "Testi Äijälä", "child_identity_code": "",
                                 "child_birth_date": "1.1.2099", "continue": "1"})
    assert response.status_code == 200, "the page again, with the date to correct"
    page = page_text(response)
    assert error_of(page, "child_birth_date") == in_future("Date of birth")
    assert in_future("Date of birth") in summary_lines(page)


def test_a_section_dated_in_the_future_is_not_shown_as_completed(app):
    """The task list counts a section completed only when nothing in it is to correct."""
    from handover.services import sections

    with app.app_context():
        definition = definition_of(WARD)

    def child_state(content):
        return {state.section.key: state.state for state in sections.section_states(
            definition, content, SENDER_KIND)}["child"]

    assert child_state({**ward_content(), "child_birth_date": FUTURE}) == sections.IN_PROGRESS
    assert child_state(ward_content()) == sections.COMPLETED


def test_a_section_page_refuses_a_consent_in_the_future(sender, ward_draft):
    response = sender.post(f"/handovers/{ward_draft}/sections/decides",
                           data={"disclosure_consent_by": "guardians",
                                 "disclosure_consent_date": FUTURE_TYPED,
                                 "guardian_told": "told", "guardian_told_on": FUTURE_TYPED,
                                 "child_told": "told", "child_told_on": FUTURE_TYPED,
                                 "continue": "1"})
    assert response.status_code == 200
    page = page_text(response)
    for key in ("disclosure_consent_date", "guardian_told_on", "child_told_on"):
        assert error_of(page, key) == in_future(DONE_DATES[key]), key


def test_the_whole_form_refuses_a_date_in_the_future(sender, ward_draft):
    page = page_text(sender.post(f"/handovers/{ward_draft}/edit",
                                 data={"child_birth_date": "1.1.2099",
                                       "author_date": FUTURE_TYPED, "preview": "1"}))
    assert error_of(page, "child_birth_date") == in_future("Date of birth")
    assert error_of(page, "author_date") == in_future("Date")
    assert in_future("Date of birth") in summary_lines(page)


def test_check_answers_lists_every_date_in_the_future(app, world, sender, ward_draft):
    content = ward_content()
    content.update({"child_identity_code": "", "child_birth_date": "2099-01-01",
                    "disclosure_consent_by": "guardians"})
    for key in DONE_DATES:
        content.update(CONDITIONS.get(key, {}))
        if key != "child_birth_date":
            content[key] = FUTURE
    save(app, world, ward_draft, content)
    lines = summary_lines(page_text(sender.get(f"/handovers/{ward_draft}/preview")))
    for label in DONE_DATES.values():
        # An ambiguous label ("Date") is named with its section first, as every problem is.
        assert any(line == in_future(label) or line.endswith(f"): {in_future(label)}")
                   for line in lines), (label, lines)


def test_a_draft_dated_in_the_future_is_not_sent(app, world, sender, ward_draft):
    save(app, world, ward_draft, future_content("child_birth_date", "2099-01-01"))
    response = sender.post(f"/handovers/{ward_draft}/send",
                           data={"submission_token": "a-token-of-sixteen-or-more"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/handovers/{ward_draft}/edit")
    page = page_text(sender.get(response.headers["Location"]))
    assert "Check the highlighted answers." in page
    with app.app_context():
        assert db.session.get(Handover, ward_draft).status == "draft"
    preview = summary_lines(page_text(sender.get(f"/handovers/{ward_draft}/preview")))
    assert in_future("Date of birth") in preview


@pytest.mark.parametrize("key", sorted(DONE_DATES))
def test_the_api_answers_422_for_a_date_in_the_future(client, world, api, key):
    body = {"form_key": WARD, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "child_welfare_necessary",
            "content": future_content(key)}
    answer = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert answer.status_code == 422, answer.json
    errors = {error["path"]: error["message"] for error in answer.json["errors"]}
    assert errors == {f"content.{key}": in_future(DONE_DATES[key])}


def test_the_api_does_not_send_a_stored_draft_dated_in_the_future(app, client, world, api,
                                                                  ward_draft):
    save(app, world, ward_draft, future_content("author_date"))
    answer = client.post(f"/api/v1/handovers/{ward_draft}/send",
                         headers=bearer(api["sending"]))
    assert answer.status_code == 422, answer.json
    messages = [error["message"] for error in answer.json["errors"]]
    assert in_future("Date") in messages
    with app.app_context():
        assert db.session.get(Handover, ward_draft).status == "draft"


def test_a_reply_receipt_cannot_be_received_tomorrow(app):
    with app.app_context():
        receipt = definition_of(WARD).reply_form("ward_receipt")
        field = next(f for f in receipt.fields() if f.key == "received_on")
        tomorrow = (content_rules.today() + timedelta(days=1)).isoformat()
        assert content_rules.value_problems(field, tomorrow)
        assert content_rules.value_problems(field, content_rules.today().isoformat()) == []


# -- the definition option ----------------------------------------------------------------------

def _definition(**date_field):
    return {
        "key": "dated", "version": 1,
        "title": {"fi": "T", "sv": "T", "en": "T"},
        "legal_bases": [{"key": "necessary", "label": {"fi": "V", "sv": "N", "en": "N"}}],
        "sections": [{"key": "s", "title": {"fi": "S", "sv": "S", "en": "S"}, "fields": [
            {"key": "when", "label": {"fi": "Milloin", "sv": "När", "en": "When"},
             **date_field}]}],
    }


def test_a_definition_may_say_a_date_is_not_after_today():
    definition = load_definition(_definition(type="date", not_after="today"))
    assert definition.field("when").not_after == "today"
    assert load_definition(_definition(type="date")).field("when").not_after is None


@pytest.mark.parametrize(("field", "problem"), [
    ({"type": "date", "not_after": "tomorrow"}, "not_after 'tomorrow' must be one of 'today'"),
    ({"type": "date", "not_after": True}, "not_after True must be one of 'today'"),
    ({"type": "text", "not_after": "today"}, "'not_after' only belongs to date fields"),
])
def test_the_checker_refuses_a_wrong_not_after(field, problem):
    with pytest.raises(DefinitionError) as refused:
        load_definition(_definition(**field))
    assert any(problem in found for found in refused.value.problems), refused.value.problems


# -- answers that apply only under another answer ---------------------------------------------

@pytest.mark.parametrize(("key", "condition"), [
    ("disclosure_consent_recorded",
     {"field": "disclosure_consent_by", "in": ["child", "guardians", "social_worker"]}),
    ("guardian_told_on", {"field": "guardian_told", "equals": "told"}),
    ("child_told_on", {"field": "child_told", "equals": "told"}),
])
def test_consent_and_telling_details_are_asked_only_where_they_apply(app, key, condition):
    with app.app_context():
        assert definition_of(WARD).field(key).show_if == condition


def test_hidden_consent_and_telling_details_are_not_sent(app, client, world, api):
    yesterday = (content_rules.today() - timedelta(days=1)).isoformat()
    filled = {**ward_content(), "disclosure_consent_by": "statutory",
              "disclosure_consent_recorded": "Suullisesti, kirjattu asiakaskertomukseen",
              "guardian_told": "to_be_told", "guardian_told_on": yesterday,
              "child_told": "not_told", "child_told_on": yesterday}
    body = {"form_key": WARD, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "child_welfare_necessary", "content": filled}
    made = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert made.status_code == 201, made.json
    sent = client.post(f"/api/v1/handovers/{made.json['id']}/send",
                       headers=bearer(api["sending"]))
    assert sent.status_code == 200, sent.json
    read = client.get(f"/api/v1/handovers/{made.json['id']}", headers=bearer(api["receiving"]))
    assert read.status_code == 200, read.json
    received = read.get_data(as_text=True)
    assert "asiakaskertomukseen" not in received
    assert "guardian_told_on" not in received and "child_told_on" not in received
    assert '"guardian_told"' in received, "the answer that hides them is there"
