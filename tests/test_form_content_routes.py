"""The teams around a child: who may send each built-in form and who gets a copy of it, and what
each copy shows, read as the demo's people read them.

- Family care and professional family homes send the ward form (OMA TIIMI: most children in
  care who are psychiatry clients live outside institutions); the outpatient clinic gets a copy.
- A foster carer's daycare form gives the responsible social worker a copy.
- The social worker's copy of the ward form shows medication: under a care order the worker
  may have to consent to treatment."""

import pytest
from lifecycle_support import login_as
from sqlalchemy import select

from handover.cli import cli, demo_handovers
from handover.formdefs.unit_kinds import CORE_UNIT_KINDS
from handover.services import accounts, routing
from handover.store.database import db
from handover.store.models import Handover

NEW_KINDS = ("professional_family_home", "outpatient_psychiatry", "education_department")


def test_the_new_kinds_are_core_kinds_with_labels_in_every_language(app):
    """Units of the new kinds can be made, and the kinds read in Finnish and Swedish."""
    from flask_babel import force_locale

    assert set(NEW_KINDS) <= set(CORE_UNIT_KINDS)
    with app.test_request_context(), force_locale("fi"):
        assert str(CORE_UNIT_KINDS["outpatient_psychiatry"]) == \
            "Lasten- tai nuorisopsykiatrian poliklinikka"
        assert str(CORE_UNIT_KINDS["education_department"]) == "Kunnan sivistys- tai opetustoimi"
    with app.test_request_context(), force_locale("sv"):
        assert str(CORE_UNIT_KINDS["professional_family_home"]) == "Professionellt familjehem"


@pytest.fixture
def demo(app, runner):
    """The demo's units and people (and its handovers)."""
    result = runner.invoke(cli, args=["demo"])
    assert result.exit_code == 0, result.output
    return app


def names(units):
    return {unit.name for unit in units}


#: (sending unit, form, the receivers and the copy units it is offered)
OFFERS = [
    (demo_handovers.FAMILY_CARE, "psychiatric_ward_preinfo", {demo_handovers.WARD},
     {demo_handovers.SOCIAL_WORK, demo_handovers.CLINIC}),
    (demo_handovers.FAMILY_HOME, "psychiatric_ward_preinfo", {demo_handovers.WARD},
     {demo_handovers.SOCIAL_WORK, demo_handovers.CLINIC}),
    (demo_handovers.FAMILY_CARE, "daycare_placed_child", {demo_handovers.DAYCARE},
     {demo_handovers.SOCIAL_WORK}),   # never another placement of the instance
    (demo_handovers.SOCIAL_WORK, "daycare_placed_child", {demo_handovers.DAYCARE},
     {demo_handovers.FAMILY_CARE, demo_handovers.FAMILY_HOME}),
    (demo_handovers.SOCIAL_WORK, "school_transfer", {demo_handovers.SCHOOL},
     {demo_handovers.INSTITUTION, demo_handovers.FAMILY_HOME, demo_handovers.FAMILY_CARE}),
]


def test_each_sender_is_offered_the_team_around_the_child(demo):
    """One demo for every case: seeding it is the slow part."""
    with demo.app_context():
        for sender, form_key, receivers, copies in OFFERS:
            unit = accounts.find_unit(sender)
            assert form_key in {d.key for d in routing.sendable_forms(unit)}, sender
            assert names(routing.allowed_receivers(form_key, unit)) == receivers, sender
            assert names(routing.allowed_copy_units(form_key, unit)) == copies, sender
        for name in (demo_handovers.CLINIC, demo_handovers.EDUCATION):
            sendable = {d.key for d in routing.sendable_forms(accounts.find_unit(name))}
            assert not sendable & {"psychiatric_ward_preinfo", "daycare_placed_child",
                                   "school_transfer"}


def read_as(app, email, form_key):
    with app.app_context():
        user = accounts.find_user(email)
        db.session.expunge(user)
        # the form's first demo handover, the one with the exchange
        handover_id = db.session.execute(select(Handover.id).where(
            Handover.submission_token == demo_handovers.token(form_key))).scalar_one()
    client = app.test_client()
    login_as(client, app, user)
    response = client.get(f"/handovers/{handover_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_copy_of_the_ward_form_shows_what_its_reader_needs(demo):
    """The social worker sees medication (consent to treatment); the outpatient clinic what
    continuing care needs and no more."""
    page = read_as(demo, demo_handovers.SOCIAL_WORKER, "psychiatric_ward_preinfo")
    assert "Melatoniini" in page and "Masennustila" in page
    assert "Tykkään piirtää" not in page  # the young person's own part stays with the ward
    assert "Haluan, että Iida saa tietää" in page  # ... but not what they chose to share

    page = read_as(demo, "poliklinikka@demo.handover.example", "psychiatric_ward_preinfo")
    assert "Melatoniini" in page and "Vetäytyy, ei tule syömään" in page
    content = demo_handovers.ward_content()
    for private in ("040 900 1001",  # the guardian's phone
                    content["young_person_about_me"],
                    content["restrictive_measure_list"][0]["measure_context"],
                    content["sleep"]):  # daily routines
        assert private not in page, private
