"""The outage page never reaches for the logged-in user: neither when the database failed while
loading them nor when it failed later in the request, after they were loaded (and then expired
by the rollback). Either way it is the full page, shown as to a visitor, and the user is still
logged in on the next request."""

from flask_login import current_user
from sqlalchemy.exc import OperationalError

from tests.support import create_unit, create_user, login


def test_outage_after_the_user_was_loaded_shows_the_page_as_to_a_visitor(app, client):
    def fails_late():
        assert current_user.name == "Omahoitaja"
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    app.add_url_rule("/fails-late", view_func=fails_late)
    with app.app_context():
        ward = create_unit("Osasto 4", kind="psychiatric_ward")
        login(client, create_user("omahoitaja@example.fi", memberships=[(ward, "receiver")]))

    response = client.get("/fails-late")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert 'class="site-header"' in page and 'lang="fi"' in page, "the full page, not the bare one"
    assert "Omahoitaja" not in page

    response = client.get("/")
    assert response.status_code == 200
    assert "Omahoitaja" in response.get_data(as_text=True)
