"""A unit lead adds and removes members of the units they lead, and nothing more: other units
are 404, accounts must already exist, and no system role can be given."""

import pytest

from handover.store.database import db
from handover.store.models import AuditEvent, Membership, User
from tests.support import create_unit, create_user, login


@pytest.fixture
def lead_setup(app, client):
    """Anna leads Majakka (unit 1); Osasto 3 (unit 2) is someone else's; Kaisa has an account."""
    with app.app_context():
        majakka = create_unit("Majakka")
        ward = create_unit("Osasto 3", "psychiatric_ward")
        lead = create_user("anna@example.fi", name="Anna Lehtonen",
                           memberships=[(majakka, "lead")])
        create_user("kaisa@example.fi", name="Kaisa Koskinen",
                    memberships=[(ward, "receiver")])
        login(client, lead)
    return client


def memberships_of(app, unit_id):
    with app.app_context():
        rows = db.session.query(Membership).filter_by(unit_id=unit_id).all()
        return sorted((row.user.email, row.role) for row in rows)


def test_lead_sees_own_units_members(lead_setup):
    page = lead_setup.get("/lead/units").get_data(as_text=True)
    assert "Majakka" in page and "Osasto 3" not in page
    page = lead_setup.get("/lead/units/1").get_data(as_text=True)
    assert "Anna Lehtonen" in page and "Kaisa Koskinen" not in page


def test_lead_adds_and_removes_member_of_own_unit(app, lead_setup):
    response = lead_setup.post("/lead/units/1/members",
                               data={"email": " KAISA@example.fi", "role": "sender"})
    assert response.status_code == 302
    assert memberships_of(app, 1) == [("anna@example.fi", "lead"), ("kaisa@example.fi", "sender")]
    with app.app_context():
        membership_id = db.session.query(Membership).filter_by(unit_id=1, role="sender").one().id
    assert lead_setup.post(f"/lead/units/1/members/{membership_id}/remove").status_code == 302
    assert memberships_of(app, 1) == [("anna@example.fi", "lead")]
    with app.app_context():
        events = db.session.query(AuditEvent).filter(AuditEvent.unit_id == 1).all()
        assert [e.action for e in events][-2:] == ["unit_lead.membership_added",
                                                   "unit_lead.membership_removed"]
        assert {e.actor_label for e in events[-2:]} == {"anna@example.fi"}


@pytest.mark.parametrize("path", [
    "/lead/units/2",
    "/lead/units/999",
])
def test_lead_gets_404_on_another_unit(lead_setup, path):
    assert lead_setup.get(path).status_code == 404


def test_lead_cannot_add_to_another_unit(app, lead_setup):
    response = lead_setup.post("/lead/units/2/members",
                               data={"email": "anna@example.fi", "role": "receiver"})
    assert response.status_code == 404
    assert memberships_of(app, 2) == [("kaisa@example.fi", "receiver")]


def test_lead_cannot_remove_member_of_another_unit_through_own_unit(app, lead_setup):
    with app.app_context():
        foreign_id = db.session.query(Membership).filter_by(unit_id=2).one().id
    assert lead_setup.post(f"/lead/units/1/members/{foreign_id}/remove").status_code == 404
    assert lead_setup.post(f"/lead/units/2/members/{foreign_id}/remove").status_code == 404
    assert memberships_of(app, 2) == [("kaisa@example.fi", "receiver")]


@pytest.mark.parametrize("data", [
    {"email": "nobody@example.fi", "role": "sender"},
    {"email": "kaisa@example.fi", "role": "admin"},
    {"email": "kaisa@example.fi", "role": ""},
    {"email": "anna@example.fi", "role": "lead"},
])
def test_lead_add_refuses_unknown_people_and_roles(app, lead_setup, data):
    response = lead_setup.post("/lead/units/1/members", data=data)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert memberships_of(app, 1) == [("anna@example.fi", "lead")]
    with app.app_context():
        assert not any(user.is_admin for user in db.session.query(User))


def test_lead_cannot_add_deactivated_user(app, lead_setup):
    with app.app_context():
        db.session.query(User).filter_by(email="kaisa@example.fi").one().active = False
        db.session.commit()
    response = lead_setup.post("/lead/units/1/members",
                               data={"email": "kaisa@example.fi", "role": "sender"})
    assert response.status_code == 400
    assert memberships_of(app, 1) == [("anna@example.fi", "lead")]


def test_lead_cannot_remove_own_lead_role(app, lead_setup):
    assert lead_setup.post("/lead/units/1/members/1/remove").status_code == 302
    assert memberships_of(app, 1) == [("anna@example.fi", "lead")]


def test_member_who_is_not_a_lead_gets_404(app, client):
    with app.app_context():
        unit = create_unit("Majakka")
        login(client, create_user("sender@example.fi", memberships=[(unit, "sender")]))
    assert client.get("/lead/units").status_code == 404
    assert client.get("/lead/units/1").status_code == 404
