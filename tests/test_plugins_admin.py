"""The Plugins page: an admin sees every plugin with its source, forms, routing table and load
error, and can switch a plugin off and on (audited); nobody else learns the page exists."""

import re

import pytest
from formdef_samples import install_plugins
from support import create_unit, create_user, login

from handover.plugins.manager import registry
from handover.store.database import db
from handover.store.models import AuditEvent


@pytest.fixture
def admin_client(app, client):
    """A client logged in as an administrator."""
    with app.app_context():
        admin = create_user("admin@example.fi", admin=True)
        login(client, admin)
    return client


def test_admin_sees_the_example_plugin_with_its_routing_table(admin_client):
    page = admin_client.get("/admin/plugins/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "health_check" in html
    assert "1.0.0" in html
    with admin_client.application.app_context():
        title = registry().get("placement_health_check", 1).title_in("fi")
    assert f"<li>{title}: versiot 1</li>" in html
    assert "placement_health_check" not in html, "forms by their titles, never their keys"
    # sender kind -> receiver kind, the plugin's kind with its own label in the page language
    assert '<td class="govuk-table__cell">Terveyspalvelu (terveystarkastukset)</td>' in html
    assert '<th scope="col"' in html


def _routing_rows(html):
    """(form, senders, receivers, copies, plugin) of each row of the one routing table."""
    table = html.split('id="routing-title"', 1)[1].split("</table>", 1)[0]
    return [tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(
        r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody", 1)[1], re.S)]


def test_one_routing_table_names_every_form_and_which_kinds_send_it_to_which(app, admin_client):
    """Every plugin's routing on one table, by form title and unit-kind labels; a plugin
    switched off keeps its rows, marked."""
    admin_client.post("/admin/plugins/health_check/disable")
    html = admin_client.get("/admin/plugins/").get_data(as_text=True)
    assert html.count('<table') == 1
    rows = _routing_rows(html)
    with app.app_context():
        forms = {d.key: d.title_in("fi") for d in registry().all_definitions()}
    ward = forms["psychiatric_ward_preinfo"]
    assert (ward, "Lastensuojelulaitos, Ammatillinen perhekoti, Perhehoito",
            "Psykiatrinen osasto",
            "Lastensuojelun sosiaalityö, Lasten- tai nuorisopsykiatrian poliklinikka",
            "psychiatric_ward") in rows
    assert any(row[0] == forms["placement_health_check"]
               and row[4] == "health_check (pois käytöstä)" for row in rows)
    shown = " ".join(" ".join(row[:4]) for row in rows)   # all but the plugin's name
    assert not any(key in shown for key in forms) and "_" not in shown


def test_a_failed_plugin_shows_its_load_error(instance_path, database_backend, request):
    install_plugins(instance_path, "broken_import")
    request.getfixturevalue("app")
    client = request.getfixturevalue("admin_client")
    html = client.get("/admin/plugins/").get_data(as_text=True)
    assert "RuntimeError: this plugin is broken at import" in html
    # The reason is the plugin's and Python's English, marked so on a Finnish page (a screen
    # reader reads it in English), and the page says so in Finnish.
    assert re.search(r'<pre class="plugin-error" lang="en">[^<]*RuntimeError: this plugin is '
                     r"broken at import", html)
    assert "Syy on englanniksi lisäosan kehittäjää varten." in html


def test_disabling_the_example_removes_its_form_from_what_a_sender_may_choose(app, admin_client):
    from handover.services.routing import sendable_forms

    with app.app_context():
        social = create_unit("Sosiaalityö", "child_welfare_social_work")
        assert "placement_health_check" in [d.key for d in sendable_forms(social)]
    response = admin_client.post("/admin/plugins/health_check/disable")
    assert response.status_code == 302
    with app.app_context():
        assert "placement_health_check" not in [d.key for d in sendable_forms(social)]
        assert registry().get("placement_health_check", 1).key == "placement_health_check"
        event = db.session.query(AuditEvent).filter_by(action="plugins.disabled").one()
        assert event.actor_label == "admin@example.fi"
        assert "health_check" in event.detail
    admin_client.post("/admin/plugins/health_check/enable")
    with app.app_context():
        assert "placement_health_check" in [d.key for d in sendable_forms(social)]
        assert db.session.query(AuditEvent).filter_by(action="plugins.enabled").count() == 1


def test_switching_an_unknown_plugin_is_404(admin_client):
    assert admin_client.post("/admin/plugins/nothing/disable").status_code == 404


def test_a_non_admin_gets_404(app, client):
    with app.app_context():
        unit = create_unit("Sosiaalityö", "child_welfare_social_work")
        user = create_user("worker@example.fi", memberships=[(unit, "sender")])
        login(client, user)
    assert client.get("/admin/plugins/").status_code == 404
    assert client.post("/admin/plugins/health_check/disable").status_code == 404
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="plugins.disabled").count() == 0


def test_an_anonymous_visitor_does_not_see_the_page(client):
    response = client.get("/admin/plugins/")
    assert response.status_code in (302, 404)
    assert "health_check" not in response.get_data(as_text=True)


def test_switching_needs_a_csrf_token(app, admin_client):
    import re

    app.config["WTF_CSRF_ENABLED"] = True  # logged in already; from now on tokens count
    assert admin_client.post("/admin/plugins/health_check/disable").status_code == 400
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="plugins.disabled").count() == 0
    html = admin_client.get("/admin/plugins/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', html)
    # The test client speaks https (PREFERRED_URL_SCHEME), so Flask-WTF also wants a referrer.
    response = admin_client.post("/admin/plugins/health_check/disable",
                                 data={"csrf_token": token.group(1)},
                                 headers={"Referer": "https://localhost/admin/plugins/"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="plugins.disabled").count() == 1
