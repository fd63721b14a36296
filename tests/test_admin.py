"""An administrator manages units, users and memberships through the web pages; nobody else even
learns that the pages exist, and statistics never show content."""

import re
from datetime import UTC, datetime

import pytest

from handover.security.passwords import verify_password
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, Membership, Unit, User
from tests.support import PASSWORD, create_unit, create_user, login, totp_code

ADMIN_PAGES = ["/admin/units", "/admin/users", "/admin/users/new", "/admin/statistics",
               "/admin/units/1", "/admin/users/1"]


@pytest.fixture
def admin_client(app, client):
    """A client logged in as an administrator (user id 1, unit id 1 exists)."""
    with app.app_context():
        create_unit("Demo: Lastensuojelulaitos Majakka")
        login(client, create_user("admin@example.fi", name="Ylläpitäjä", admin=True))
    return client


def temporary_password_in(response):
    return re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True))[1]


def actions(app):
    with app.app_context():
        return [event.action for event in db.session.query(AuditEvent).order_by(AuditEvent.id)]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_staff_user_gets_404_on_admin_pages(app, client, page):
    with app.app_context():
        unit = create_unit("Koulu Kivikko", "school")
        login(client, create_user("lead@example.fi", auditor=True,
                                  memberships=[(unit, "lead")]))
    assert client.get(page).status_code == 404
    with app.app_context():
        assert db.session.query(Unit).count() == 1


@pytest.mark.parametrize("page, data", [
    ("/admin/units", {"unit-name": "X", "unit-kind": "school"}),
    ("/admin/users/new", {"email": "x@example.fi", "name": "X", "admin": "y"}),
    ("/admin/users/1/active", {"active": "0"}),
    ("/admin/users/1/reset-password", {}),
])
def test_staff_user_cannot_post_admin_actions(app, client, page, data):
    with app.app_context():
        create_unit("Koulu Kivikko", "school")
        login(client, create_user("staff@example.fi"))
        password_hash = db.session.get(User, 1).password_hash
    assert client.post(page, data=data).status_code == 404
    with app.app_context():
        assert db.session.query(Unit).count() == 1 and db.session.query(User).count() == 1
        assert db.session.get(User, 1).active
        assert db.session.get(User, 1).password_hash == password_hash


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_render(admin_client, page):
    assert admin_client.get(page).status_code == 200


def test_admin_creates_and_edits_unit(app, admin_client):
    response = admin_client.post("/admin/units", data={
        "unit-name": "Päiväkoti Satakieli", "unit-kind": "daycare",
        "unit-organisation": "Kivikylän kaupunki", "unit-email": "Satakieli@Example.fi"})
    assert response.status_code == 302
    with app.app_context():
        unit = db.session.query(Unit).filter_by(name="Päiväkoti Satakieli").one()
        assert (unit.kind, unit.organisation, unit.email) == (
            "daycare", "Kivikylän kaupunki", "satakieli@example.fi")
    assert "Päiväkoti Satakieli" in admin_client.get("/admin/units").get_data(as_text=True)
    response = admin_client.post(f"/admin/units/{unit.id}", data={
        "unit-name": "Päiväkoti Satakieli (Kivikylä)", "unit-kind": "daycare"})
    assert response.status_code == 302
    admin_client.post(f"/admin/units/{unit.id}/active", data={"active": "0"})
    with app.app_context():
        unit = db.session.get(Unit, unit.id)
        assert unit.name == "Päiväkoti Satakieli (Kivikylä)" and not unit.is_active
    assert actions(app)[-3:] == ["admin.unit_created", "admin.unit_updated",
                                 "admin.unit_deactivated"]


@pytest.mark.parametrize("data, message", [
    ({"unit-name": "", "unit-kind": "school"}, "unit-name"),
    ({"unit-name": "Koulu", "unit-kind": "prison"}, "unit-kind"),
    ({"unit-name": "Demo: Lastensuojelulaitos Majakka", "unit-kind": "school"}, "unit-name"),
])
def test_invalid_unit_shows_error_summary(app, admin_client, data, message):
    response = admin_client.post("/admin/units", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in page and f'href="#{message}"' in page
    with app.app_context():
        assert db.session.query(Unit).count() == 1


def test_admin_creates_user_who_must_change_temporary_password(app, admin_client, client):
    response = admin_client.post("/admin/users/new", data={
        "email": " Tiina.Makela@Example.FI", "name": "Tiina Mäkelä"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    temporary = temporary_password_in(response)
    with app.app_context():
        user = db.session.query(User).filter_by(email="tiina.makela@example.fi").one()
        assert user.must_change_password and not user.is_admin and user.totp_secret is None
        assert verify_password(user.password_hash, temporary)
    assert temporary not in admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "admin.user_created" in actions(app)


@pytest.mark.parametrize("data, field", [
    ({"email": "admin@EXAMPLE.fi", "name": "Duplicate"}, "email"),
    ({"email": "no-at-sign", "name": "Broken"}, "email"),
    ({"email": "ok@example.fi", "name": ""}, "name"),
])
def test_invalid_user_shows_error_summary(app, admin_client, data, field):
    response = admin_client.post("/admin/users/new", data=data)
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page and f'href="#{field}"' in page
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_admin_searches_users_by_name_or_email(app, admin_client):
    with app.app_context():
        create_user("kaisa@example.fi", name="Kaisa Koskinen")
        create_user("juha@example.fi", name="Juha Virtanen")
    page = admin_client.get("/admin/users?q=koski").get_data(as_text=True)
    assert "Kaisa Koskinen" in page and "Juha Virtanen" not in page
    page = admin_client.get("/admin/users?q=JUHA@").get_data(as_text=True)
    assert "Juha Virtanen" in page and "Kaisa Koskinen" not in page
    page = admin_client.get("/admin/users?q=%25").get_data(as_text=True)  # "%" is literal
    assert "Juha Virtanen" not in page and "Kaisa Koskinen" not in page


def test_admin_adds_and_removes_membership(app, admin_client):
    with app.app_context():
        user = create_user("nurse@example.fi", name="Tiina")
        ward = create_unit("Osasto 3", "psychiatric_ward")
        user_id, ward_id = user.id, ward.id
    response = admin_client.post(f"/admin/users/{user_id}/memberships",
                                 data={"unit": ward_id, "role": "receiver"})
    assert response.status_code == 302
    again = admin_client.post(f"/admin/users/{user_id}/memberships",
                              data={"unit": ward_id, "role": "receiver"})
    assert again.status_code == 400 and 'class="error-summary"' in again.get_data(as_text=True)
    with app.app_context():
        membership = db.session.query(Membership).filter_by(user_id=user_id).one()
        assert (membership.unit_id, membership.role) == (ward_id, "receiver")
    admin_client.post(f"/admin/users/{user_id}/memberships/{membership.id}/remove")
    with app.app_context():
        assert db.session.query(Membership).filter_by(user_id=user_id).count() == 0
    assert actions(app)[-2:] == ["admin.membership_added", "admin.membership_removed"]


def test_membership_of_another_user_cannot_be_removed_through_this_user(app, admin_client):
    with app.app_context():
        unit = db.session.get(Unit, 1)
        victim = create_user("victim@example.fi", memberships=[(unit, "sender")])
        other = create_user("other@example.fi")
        membership_id, other_id = victim.memberships[0].id, other.id
    response = admin_client.post(f"/admin/users/{other_id}/memberships/{membership_id}/remove")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Membership, membership_id) is not None


def test_deactivated_users_open_session_dies_at_once(app, admin_client):
    from flask.testing import FlaskClient

    with app.app_context():
        user = create_user("leaver@example.fi")
        user_id = user.id
        victim_client = FlaskClient(app, app.response_class, use_cookies=True)
        login(victim_client, user)
    assert victim_client.get("/").status_code == 200
    response = admin_client.post(f"/admin/users/{user_id}/active", data={"active": "0"})
    assert response.status_code == 302
    refused = victim_client.get("/")
    assert refused.status_code == 302 and "/login" in refused.location
    with app.app_context():
        assert db.session.get(User, user_id).active is False
    assert "admin.user_deactivated" in actions(app)
    admin_client.post(f"/admin/users/{user_id}/active", data={"active": "1"})
    with app.app_context():
        assert db.session.get(User, user_id).active is True


def test_admin_cannot_deactivate_themselves(app, admin_client):
    admin_client.post("/admin/users/1/active", data={"active": "0"})
    with app.app_context():
        assert db.session.get(User, 1).active is True
    assert admin_client.get("/admin/users").status_code == 200


@pytest.mark.parametrize("reset_two_factor", [False, True])
def test_password_reset_forces_new_password_at_next_login(app, admin_client, client,
                                                          reset_two_factor):
    from flask.testing import FlaskClient

    with app.app_context():
        user = create_user("forgetful@example.fi")
        user_id, secret = user.id, user.totp_secret
        victim_client = FlaskClient(app, app.response_class, use_cookies=True)
        login(victim_client, user)
    data = {"reset_two_factor": "y"} if reset_two_factor else {}
    response = admin_client.post(f"/admin/users/{user_id}/reset-password", data=data)
    temporary = temporary_password_in(response)
    assert victim_client.get("/").status_code == 302  # the old session ended
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.must_change_password
        assert not verify_password(user.password_hash, PASSWORD)
        assert user.totp_secret == (None if reset_two_factor else secret)
    fresh = FlaskClient(app, app.response_class, use_cookies=True)
    step = fresh.post("/login", data={"email": "forgetful@example.fi", "password": temporary})
    assert step.status_code == 302
    if reset_two_factor:
        assert "/login/enrol" in step.location
        return
    with app.app_context():
        code = totp_code(db.session.get(User, user_id))
    landed = fresh.post("/login/totp", data={"code": code})
    assert landed.status_code == 302 and landed.location.endswith("/account/password")
    assert fresh.get("/").location.endswith("/account/password")


def test_statistics_show_counts_and_no_content(app, admin_client):
    with app.app_context():
        unit = db.session.get(Unit, 1)
        for status in ("sent", "sent", "acknowledged"):
            db.session.add(Handover(
                form_key="psychiatric_ward_preinfo", form_version=1, status=status,
                sender_unit_id=unit.id, receiver_unit_id=unit.id, created_by_id=1,
                legal_basis="child_welfare_act_necessary", content=b"SECRET-CONTENT",
                summary=b"SECRET-SUMMARY", sent_at=datetime.now(UTC)))
        db.session.commit()
    page = admin_client.get("/admin/statistics").get_data(as_text=True)
    row = re.search(r"<th scope=\"row\">Esitietolomake lasten- tai nuorisopsykiatrian "
                    r"osastolle</th>(.*?)</tr>", page, re.S)[1]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "2"]  # acknowledged, sent
    assert "SECRET" not in page and "child_welfare_act_necessary" not in page
    assert "psychiatric_ward_preinfo" not in page, "the form by its title, not its key"


def test_statistics_name_a_form_whose_plugin_is_gone_in_words(app, admin_client):
    with app.app_context():
        db.session.add(Handover(
            form_key="old_hospital_form", form_version=3, status="sent", sender_unit_id=1,
            receiver_unit_id=1, created_by_id=1, legal_basis="x", content=b"SECRET",
            summary=b"SECRET", sent_at=datetime.now(UTC)))
        db.session.commit()
    page = admin_client.get("/admin/statistics").get_data(as_text=True)
    assert '<th scope="row">Old hospital form</th>' in page and "old_hospital_form" not in page
