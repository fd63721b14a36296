"""What a review sending malformed input to every route found: a file's number to remove
beyond any id (twenty digits), or not in ASCII digits, answered 500, and on PostgreSQL the
error page itself failed (its statements ran in the aborted transaction) and the browser got
the bare English page. The number is now no attachment (404), and the error page rolls the
request's transaction back before it is shown."""

import lifecycle_support
import pytest
from lifecycle_support import empty_draft, login_as
from sqlalchemy import text

from handover.services import attachments as attachment_service
from handover.store.database import db
from tests.support import stored_content

app_config = lifecycle_support.app_config
world = lifecycle_support.world

TYPED = "Typed before removing: sleeps only with the lamp on"


@pytest.fixture
def on_a_section(app, client, world):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    return draft_id


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "²", "١", "", "x"])
def test_removing_a_file_by_a_number_no_file_has_is_404(app, client, on_a_section, value):
    response = client.post(f"/handovers/{on_a_section}/sections/health",
                           data={"health_notes": TYPED, "remove_attachment": value})
    assert response.status_code == 404
    assert stored_content(app, on_a_section)["health_notes"] == TYPED, "the typing was saved"


def test_a_failed_statement_still_gets_the_services_own_error_page(app, client, on_a_section,
                                                                  monkeypatch):
    """A statement the database refuses, in the middle of a request (here a cast PostgreSQL
    refuses; SQLite casts anything, so it raises after it)."""
    def failing(*_args, **_kwargs):
        db.session.execute(text("SELECT CAST('not a number' AS INTEGER)"))
        raise RuntimeError("the statement above failed on PostgreSQL already")

    monkeypatch.setattr(attachment_service, "remove", failing)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(f"/handovers/{on_a_section}/sections/health",
                           data={"health_notes": TYPED, "remove_attachment": "1"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on the server. Nothing you saved has been lost." in page
    assert "Internal Server Error" not in page
