"""Not fetching is not losing information rights: a daycare (or a ward) is told who may not fetch
the child apart from whose information is restricted, and a form records a guardian as getting
less information only with a contact-restriction decision (date, what it covers, until when).

Each case starts from the demo handover a domain expert reviewed and changes one thing; the
checks are the ones the preview and the send run (`drafts.validate_content`)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from handover.cli import demo_handovers
from handover.formdefs import content_values
from handover.formdefs.content import today as today_in_finland
from handover.services import definition_of, drafts

WARD, DAYCARE, SCHOOL = "psychiatric_ward_preinfo", "daycare_placed_child", "school_transfer"
SENDER = {WARD: "child_welfare_institution", DAYCARE: "child_welfare_social_work",
          SCHOOL: "child_welfare_social_work"}
CONTENT = {WARD: demo_handovers.ward_content, DAYCARE: demo_handovers.daycare_content,
           SCHOOL: demo_handovers.school_content}


def problems(app, form_key, content, language="en"):
    with app.app_context():
        return drafts.validate_content(definition_of(form_key), content, SENDER[form_key],
                                       language)


def decision(**changes):
    row = {"restriction_whom": "Isä", "restriction_scope": ["information"],
           "restriction_what": "Tietoja lapsesta ei anneta isälle.",
           "restriction_decision_date": (today_in_finland() - timedelta(days=10)).isoformat(),
           "restriction_until": (today_in_finland() + timedelta(days=100)).isoformat()}
    return {**row, **changes}


@pytest.mark.parametrize("form_key", [WARD, DAYCARE, SCHOOL])
def test_the_demo_handovers_pass_every_check(app, form_key):
    assert problems(app, form_key, CONTENT[form_key]()) == {}


def test_may_not_fetch_is_about_fetching_only(app):
    with app.app_context():
        field = definition_of(DAYCARE).field("may_not_fetch")
    assert field.label == {"fi": "Eivät saa hakea lasta", "sv": "Får inte hämta barnet",
                           "en": "May not fetch the child"}
    reason = next(sub for sub in field.fields if sub.key == "no_fetch_reason")
    assert reason.required and "contact_restriction" in [c.value for c in reason.choices]
    assert "does not by itself restrict" in field.help["en"]


def test_a_parent_barred_from_fetching_keeps_a_guardians_information_right(app):
    """The demo: the father may not fetch Ella under a meetings-only decision; he is a guardian
    with full information rights, and that is accepted as it is."""
    content = demo_handovers.daycare_content()
    barred = {row["no_fetch_name"] for row in content["may_not_fetch"]}
    guardians = {row["guardian_name"]: row for row in content["guardians"]}
    assert barred <= set(guardians)
    assert all(guardians[name]["guardian_information_right"] == "full" for name in barred)
    assert problems(app, DAYCARE, content) == {}


@pytest.mark.parametrize("right", ["limited", "none"])
@pytest.mark.parametrize("form_key", [WARD, DAYCARE, SCHOOL])
def test_restricting_a_guardians_information_needs_a_decision_covering_it(app, form_key, right):
    content = CONTENT[form_key]()
    content["guardians"][0]["guardian_information_right"] = right
    guardian = content["guardians"][0]["guardian_name"]  # the decision must name the guardian
    content["contact_restrictions"] = [decision(restriction_whom=guardian,
                                                restriction_scope=["meetings"])]
    found = problems(app, form_key, content, "fi")
    assert list(found) == ["guardians.0.guardian_information_right"]
    assert "yhteydenpidon rajoittamista koskeva päätös" in found[
        "guardians.0.guardian_information_right"][0]

    content["contact_restrictions"] = [decision(restriction_whom=guardian)]
    assert problems(app, form_key, content) == {}


@pytest.mark.parametrize(("missing", "message"), [
    ("restriction_scope", "Select at least one: What the decision covers"),
    ("restriction_decision_date", "Enter the date of the decision"),
    ("restriction_until", "Enter the date the restriction is valid until"),
])
def test_a_restriction_without_its_date_scope_or_end_is_refused(app, missing, message):
    content = demo_handovers.daycare_content()
    content["contact_restrictions"] = [decision(**{missing: [] if missing.endswith("scope")
                                                   else None})]
    assert problems(app, DAYCARE, content) == {f"contact_restrictions.0.{missing}": [message]}


def test_a_restriction_cannot_end_before_it_was_decided_nor_be_decided_later_than_today(app):
    content = demo_handovers.daycare_content()
    today = today_in_finland()
    content["contact_restrictions"] = [
        decision(restriction_decision_date=(today - timedelta(days=5)).isoformat(),
                 restriction_until=(today - timedelta(days=6)).isoformat()),
        decision(restriction_decision_date=(today + timedelta(days=1)).isoformat())]
    assert problems(app, DAYCARE, content) == {
        "contact_restrictions.0.restriction_until": [
            "The restriction cannot end before the date of the decision."],
        "contact_restrictions.1.restriction_decision_date": [
            "The date of the decision cannot be in the future."]}


class _HalfPastMidnightInHelsinki(datetime):
    """6 December 2026 00:30 in Finland, while a server clock on UTC still says 5 December."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 12, 5, 22, 30, tzinfo=UTC).astimezone(tz)


def test_a_date_is_in_the_future_by_the_day_in_finland_not_by_the_servers_clock(app,
                                                                                 monkeypatch):
    # `content.today` reads the clock where it lives, in `content_values`.
    monkeypatch.setattr(content_values, "datetime", _HalfPastMidnightInHelsinki)
    finnish_today, finnish_tomorrow = date(2026, 12, 6), date(2026, 12, 7)

    def decided_on(day, form_key=DAYCARE):
        content = CONTENT[form_key]()
        content["contact_restrictions"] = [decision(  # about the demo's restricted guardian
            restriction_whom=content["contact_restrictions"][0]["restriction_whom"],
            restriction_decision_date=day.isoformat(),
            restriction_until=(day + timedelta(days=100)).isoformat())]
        return problems(app, form_key, content)

    for form_key in (WARD, DAYCARE, SCHOOL):
        assert decided_on(finnish_today, form_key) == {}
        assert decided_on(finnish_tomorrow, form_key) == {
            "contact_restrictions.0.restriction_decision_date": [
                "The date of the decision cannot be in the future."]}
    school = CONTENT[SCHOOL]()
    school.update(support_model="reform_2025", support_decision_date=finnish_today.isoformat())
    assert problems(app, SCHOOL, school) == {}
    ward = CONTENT[WARD]()
    ward.update(restrictive_measures_used="yes", restrictive_measure_list=[
        {**(ward.get("restrictive_measure_list") or [{}])[0],
         "measure_last_date": finnish_today.isoformat()}])
    assert problems(app, WARD, ward) == {}


def test_a_ward_visitor_gets_no_information_only_under_a_decision(app):
    content = demo_handovers.ward_content()
    content["ward_contact_persons"].append({
        "contact_person_name": "Timo Esimerkki", "contact_person_relation": "isä",
        "contact_permission": "no_information"})
    found = problems(app, WARD, content, "sv")
    assert list(found) == ["ward_contact_persons.2.contact_permission"]
    assert "beslut om begränsning av kontakter" in found[
        "ward_contact_persons.2.contact_permission"][0]
    content["contact_restrictions"].append(decision(restriction_whom="Isä, Timo Esimerkki"))
    assert problems(app, WARD, content) == {}
