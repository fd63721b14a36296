"""The administrators' unit list, a unit's page and a lead's unit page read a fixed number of
statements however many units and members there are (310 units took a statement each), and a
lead's own lead role is kept by the service, not only by the page."""

import pytest
from lifecycle_support import login_as
from support import create_unit, create_user, statements_during

from handover.services import accounts
from handover.store.database import db
from handover.store.models import Membership


def _statements_of(app, client, path):
    with app.app_context():
        page, statements = statements_during(lambda: client.get(path))
    assert page.status_code == 200
    return len(statements)


def _members(unit, count, start):
    for number in range(start, start + count):
        create_user(f"member{number}@example.fi", memberships=[(unit, "receiver")])


def test_the_unit_list_and_a_units_page_cost_the_same_with_more(app, admin_client):
    with app.app_context():
        ward = create_unit("Osasto 1", "psychiatric_ward")
        _members(ward, 2, 0)
        ward_id = ward.id
    _statements_of(app, admin_client, "/admin/units")      # the first request's own work
    units_few = _statements_of(app, admin_client, "/admin/units")
    unit_few = _statements_of(app, admin_client, f"/admin/units/{ward_id}")
    with app.app_context():
        for number in range(8):
            create_unit(f"Koulu {number}", "school")
        _members(db.session.get(type(ward), ward_id), 8, 2)
    assert _statements_of(app, admin_client, "/admin/units") == units_few
    assert _statements_of(app, admin_client, f"/admin/units/{ward_id}") == unit_few


def test_a_leads_unit_page_costs_the_same_with_more_members(app, client):
    with app.app_context():
        ward = create_unit("Osasto 1", "psychiatric_ward")
        lead_id = create_user("lead@example.fi", memberships=[(ward, "lead")]).id
        _members(ward, 2, 0)
        ward_id = ward.id
    login_as(client, app, type("Lead", (), {"id": lead_id}))
    _statements_of(app, client, f"/lead/units/{ward_id}")
    few = _statements_of(app, client, f"/lead/units/{ward_id}")
    with app.app_context():
        _members(db.session.get(type(ward), ward_id), 8, 2)
    assert _statements_of(app, client, f"/lead/units/{ward_id}") == few


def test_a_lead_cannot_remove_their_own_lead_role_through_the_service(app):
    with app.app_context():
        ward = create_unit("Osasto 1", "psychiatric_ward")
        lead = create_user("lead@example.fi", memberships=[(ward, "lead")])
        own = db.session.query(Membership).filter_by(user_id=lead.id).one()
        with pytest.raises(accounts.AccountError, match="own lead role"):
            accounts.remove_membership(own, actor=lead, by="unit_lead")
        assert db.session.query(Membership).filter_by(user_id=lead.id).count() == 1
