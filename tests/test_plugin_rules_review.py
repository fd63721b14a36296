"""What a child-welfare professional's review of the built-in plugins' rules found, read as the
sender reads it (the checks the preview and the send run, `drafts.validate_content`, and the
preview page itself):

- Only a decision in force restricts information, and only about the person it names: a
  decision that has ended is refused on its row ("remove the row or record the new decision")
  and restricts nothing; a decision about a grandparent does not let a parent (or a ward
  visitor) be marked as getting no information (`plugins/restrictions.py`).
- A school does not send the school transfer of a child whose location is hidden, nor copy it
  to the placement; the social worker does (`plugins/school_transfer.py`, told the sender's
  kind by ``validate_form``'s ``sender_kind``).
- A foster carer's daycare form, and a school's school transfer, are copied to the social
  worker only, not to every other family-care unit or placement of the instance. The plugins
  register those rules, and the forms' own ``[routing]`` names only social work as the
  sender."""

from datetime import timedelta

import lifecycle_support
import pytest
from handover.builtin_plugins import restrictions
from lifecycle_support import login_as
from support import create_unit, page_text, summary_lines

from handover.cli import demo_handovers
from handover.formdefs.content import today as today_in_finland
from handover.plugins.manager import registry
from handover.services import definition_of, drafts
from handover.services.routing import RouteRefused, allowed_copy_units, check_route
from handover.store.database import db
from handover.store.models import Handover, Unit

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

WARD, DAYCARE, SCHOOL = "psychiatric_ward_preinfo", "daycare_placed_child", "school_transfer"
SOCIAL_WORK = "child_welfare_social_work"
SENDER = {WARD: "child_welfare_institution", DAYCARE: SOCIAL_WORK, SCHOOL: SOCIAL_WORK}
CONTENT = {WARD: demo_handovers.ward_content, DAYCARE: demo_handovers.daycare_content,
           SCHOOL: demo_handovers.school_content}

ENDED = {
    "fi": "Päätös ei ole enää voimassa: poista rivi tai kirjaa uusi päätös.",
    "sv": "Beslutet gäller inte längre: ta bort raden eller ange ett nytt beslut.",
    "en": "The decision is no longer in force: remove the row or record the new decision.",
}
GUARDIAN_NEEDS_DECISION = (
    "Only a contact-restriction decision can restrict a guardian's right to information. "
    "Record the decision (its date, what it covers and until when) under Contact restrictions, "
    "write the guardian's name under Whom the restriction concerns and choose that it covers "
    "information, or mark that the guardian receives information.")
VISITOR_NEEDS_DECISION = (
    "\"No contact and no information\" needs a contact-restriction decision that covers "
    "information and names this person. Record it under Contact restrictions, with the "
    "person's name under Whom the restriction concerns.")
SCHOOL_MAY_NOT_SEND = {
    "fi": "Lapsen sijoituspaikka on salattu: tämän tiedonsiirron lähettää lapsen "
          "sosiaalityöntekijä, ei koulu.",
    "sv": "Barnets placeringsplats är hemlig: den här överlämningen skickas av barnets "
          "socialarbetare, inte av skolan.",
    "en": "The child's placement is hidden: the child's social worker sends this handover, "
          "not the school.",
}


def days(offset):
    return (today_in_finland() + timedelta(days=offset)).isoformat()


def decision(whom, *, scope=("information",), decided=-10, until=100):
    """A contact-restriction decision about ``whom``, dated ``decided`` days from today and in
    force until ``until`` days from today."""
    return {"restriction_whom": whom, "restriction_scope": list(scope),
            "restriction_what": "Tietoja lapsesta ei anneta.",
            "restriction_decision_date": days(decided), "restriction_until": days(until)}


def problems(app, form_key, content, language="en", sender=None):
    with app.app_context():
        return drafts.validate_content(definition_of(form_key), content,
                                       sender or SENDER[form_key], language)


def with_guardian_restricted(form_key, right="none"):
    """The demo content with its first guardian getting no information; (content, name)."""
    content = CONTENT[form_key]()
    content["guardians"][0]["guardian_information_right"] = right
    return content, content["guardians"][0]["guardian_name"]


# -- A. Only a decision in force, naming the person, restricts information --------------------

@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("form_key", [WARD, DAYCARE, SCHOOL])
def test_a_decision_that_has_ended_is_refused_on_its_row(app, form_key, language):
    content = CONTENT[form_key]()
    content["contact_restrictions"].append(
        decision("Isoäiti, Helmi Virtanen", scope=["meetings"], decided=-200, until=-1))
    row = len(content["contact_restrictions"]) - 1
    assert problems(app, form_key, content, language) == {
        f"contact_restrictions.{row}.restriction_until": [ENDED[language]]}


def test_a_decision_is_in_force_on_its_last_day(app):
    content, guardian = with_guardian_restricted(DAYCARE)
    content["contact_restrictions"] = [decision(guardian, decided=-200, until=0)]
    assert problems(app, DAYCARE, content) == {}


def test_a_decision_that_has_ended_does_not_restrict_information(app):
    content, guardian = with_guardian_restricted(DAYCARE)
    content["contact_restrictions"] = [decision(guardian, decided=-200, until=-1)]
    assert problems(app, DAYCARE, content) == {
        "contact_restrictions.0.restriction_until": [ENDED["en"]],
        "guardians.0.guardian_information_right": [GUARDIAN_NEEDS_DECISION]}


@pytest.mark.parametrize("right", ["limited", "none"])
@pytest.mark.parametrize("form_key", [WARD, DAYCARE, SCHOOL])
def test_a_grandparents_decision_does_not_restrict_a_parents_information(app, form_key, right):
    content, _guardian = with_guardian_restricted(form_key, right)
    content["contact_restrictions"] = [decision("Isoäiti, Helmi Virtanen")]
    assert problems(app, form_key, content) == {
        "guardians.0.guardian_information_right": [GUARDIAN_NEEDS_DECISION]}
    found = problems(app, form_key, content, "fi")["guardians.0.guardian_information_right"]
    assert "kirjoita huoltajan nimi kohtaan Kehen rajoitus kohdistuu" in found[0]
    found = problems(app, form_key, content, "sv")["guardians.0.guardian_information_right"]
    assert "skriv vårdnadshavarens namn under Vem begränsningen gäller" in found[0]


@pytest.mark.parametrize("form_key", [WARD, DAYCARE, SCHOOL])
def test_a_decision_in_force_naming_the_guardian_is_accepted(app, form_key):
    content, guardian = with_guardian_restricted(form_key)
    first, last = guardian.split()
    # Case and white space do not matter; the name may be part of a longer "whom".
    content["contact_restrictions"] = [decision("Isoäiti, Helmi Virtanen"),
                                       decision(f"Vanhempi:  {first.upper()}\t {last.lower()}")]
    assert problems(app, form_key, content) == {}


def test_the_guardians_name_may_hold_the_decisions_whom(app):
    """Either contains the other: "Testinen" on the decision names "Marko Testinen (isä)"."""
    content, _guardian = with_guardian_restricted(SCHOOL)
    content["guardians"][0]["guardian_name"] = "Marko Testinen (isä)"
    content["contact_restrictions"] = [decision("marko testinen")]
    assert problems(app, SCHOOL, content) == {}


def test_each_restricted_guardian_needs_a_decision_of_their_own(app):
    content = demo_handovers.daycare_content()
    for row in content["guardians"]:
        row["guardian_information_right"] = "none"
    mother, father = (row["guardian_name"] for row in content["guardians"])
    content["contact_restrictions"] = [decision(f"Äiti, {mother}")]
    assert problems(app, DAYCARE, content) == {
        "guardians.1.guardian_information_right": [GUARDIAN_NEEDS_DECISION]}
    content["contact_restrictions"].append(decision(f"Isä, {father}"))
    assert problems(app, DAYCARE, content) == {}


@pytest.mark.parametrize(("whom", "name", "named"), [
    ("Isä, Timo Esimerkki", "Timo Esimerkki", True),
    ("  isä,   timo  ESIMERKKI ", "timo esimerkki", True),
    ("Timo", "Timo Esimerkki", True),
    ("Isoäiti, Helmi Virtanen", "Timo Esimerkki", False),
    ("Ari", "Marika Testinen", False),           # whole words, not letters inside a name
    ("Isä, Timo Esimerkki", "", False),
    ("", "Timo Esimerkki", False),
])
def test_whom_a_decision_names(whom, name, named):
    assert restrictions.names_person(whom, name) is named


def test_a_ward_visitor_gets_no_information_only_under_a_decision_naming_them(app):
    content = demo_handovers.ward_content()
    content["ward_contact_persons"].append({
        "contact_person_name": "Timo Esimerkki", "contact_person_relation": "isä",
        "contact_permission": "no_information"})
    content["contact_restrictions"].append(decision("Isoäiti, Helmi Virtanen"))
    assert problems(app, WARD, content) == {
        "ward_contact_persons.2.contact_permission": [VISITOR_NEEDS_DECISION]}
    content["contact_restrictions"].append(decision("Timo Esimerkki", decided=-200, until=-1))
    ended = len(content["contact_restrictions"]) - 1
    assert problems(app, WARD, content) == {
        f"contact_restrictions.{ended}.restriction_until": [ENDED["en"]],
        "ward_contact_persons.2.contact_permission": [VISITOR_NEEDS_DECISION]}
    content["contact_restrictions"][ended] = decision("isä  timo esimerkki")
    assert problems(app, WARD, content) == {}


def save(app, world, draft_id, content):
    with app.app_context():
        drafts.save(world.user("sending_sender"), db.session.get(Handover, draft_id), content)


def test_the_preview_says_why_the_ward_form_cannot_be_sent(app, client, world, ward_draft):
    """What the sender sees on the check-answers page: the ended decision on its row, and the
    guardian whom no decision in force names; with the decision renewed, the send button."""
    content, guardian = with_guardian_restricted(WARD)
    content["contact_restrictions"] = [decision(guardian, decided=-400, until=-3),
                                       decision("Isoäiti, Helmi Virtanen")]
    save(app, world, ward_draft, content)
    login_as(client, app, world.users["sending_sender"])
    preview = page_text(client.get(f"/handovers/{ward_draft}/preview"))
    assert "This handover cannot be sent yet" in preview
    lines = summary_lines(preview)
    assert any(ENDED["en"] in line for line in lines), lines
    assert any(GUARDIAN_NEEDS_DECISION in line for line in lines), lines
    assert f'action="/handovers/{ward_draft}/send"' not in preview

    content["contact_restrictions"][0] = decision(guardian, decided=-3, until=365)
    save(app, world, ward_draft, content)
    preview = page_text(client.get(f"/handovers/{ward_draft}/preview"))
    assert "This handover cannot be sent yet" not in preview
    assert f'action="/handovers/{ward_draft}/send"' in preview


# -- B. A school does not send the transfer of a child whose location is hidden ---------------

@pytest.mark.parametrize("flag", ["location_hidden", "non_disclosure"])
def test_the_social_worker_sends_a_school_transfer_whose_location_is_hidden(app, flag):
    content = demo_handovers.school_content()
    content.update(location_hidden="no", non_disclosure="no")
    content[flag] = "yes"
    assert problems(app, SCHOOL, content, sender=SOCIAL_WORK) == {}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("flag", ["location_hidden", "non_disclosure"])
def test_a_school_may_not_send_a_school_transfer_whose_location_is_hidden(app, flag, language):
    content = demo_handovers.school_content()
    content.update(location_hidden="no", non_disclosure="no")
    content[flag] = "yes"
    assert problems(app, SCHOOL, content, language, sender="school") == {
        flag: [SCHOOL_MAY_NOT_SEND[language]]}


# -- C. A foster carer's and a school's copies go to the social worker only --------------------

def test_the_plugins_register_a_copy_to_the_social_worker_for_their_other_senders(app):
    with app.app_context():
        rules = {(rule.form, rule.senders): rule for owner in ("daycare", "school_transfer")
                 for rule in registry().rules_registered_by(owner)}
    carers = rules[(DAYCARE, ("family_care", "professional_family_home"))]
    assert (carers.receivers, carers.copies) == (("daycare",), (SOCIAL_WORK,))
    school = rules[(SCHOOL, ("school",))]
    assert (school.receivers, school.copies) == (("school",), (SOCIAL_WORK,))


@pytest.fixture
def units(app):
    """Two of each kind that sends or gets a copy of the daycare and school forms."""
    kinds = {"social": SOCIAL_WORK, "family": "family_care",
             "home": "professional_family_home", "institution": "child_welfare_institution",
             "daycare": "daycare", "school": "school"}
    with app.app_context():
        made = {f"{name}_{number}": create_unit(f"{name.title()} {number}", kind).id
                for name, kind in kinds.items() for number in (1, 2)}
    return made


def unit(units, name):
    return db.session.get(Unit, units[name])


def copies_offered(units, form_key, sender):
    """The names of the units the copy picker offers ``sender`` for ``form_key``."""
    return {offered.name for offered in allowed_copy_units(form_key, unit(units, sender))}


def test_the_social_worker_may_copy_the_placement(app, units):
    with app.app_context():
        assert {"Family 1", "Family 2", "Home 1", "Home 2"} <= copies_offered(
            units, DAYCARE, "social_1")
        assert {"Social 1", "Institution 1", "Family 1", "Home 1"} <= copies_offered(
            units, SCHOOL, "social_2")


def test_a_foster_carers_daycare_form_is_copied_to_the_social_worker_only(app, units):
    with app.app_context():
        assert copies_offered(units, DAYCARE, "social_1") == {
            "Family 1", "Family 2", "Home 1", "Home 2"}
        for sender in ("family_1", "home_1"):
            assert copies_offered(units, DAYCARE, sender) == {"Social 1", "Social 2"}
            check_route(DAYCARE, unit(units, sender), unit(units, "daycare_1"),
                        [unit(units, "social_1")])
        with pytest.raises(RouteRefused):  # another foster family's placement stays unseen
            check_route(DAYCARE, unit(units, "family_1"), unit(units, "daycare_1"),
                        [unit(units, "family_2")])


def test_a_schools_school_transfer_is_copied_to_the_social_worker_only(app, units):
    with app.app_context():
        assert copies_offered(units, SCHOOL, "school_1") == {"Social 1", "Social 2"}
        check_route(SCHOOL, unit(units, "school_1"), unit(units, "school_2"),
                    [unit(units, "social_1")])
        with pytest.raises(RouteRefused):  # the school does not tell where the child lives
            check_route(SCHOOL, unit(units, "school_1"), unit(units, "school_2"),
                        [unit(units, "family_1")])
