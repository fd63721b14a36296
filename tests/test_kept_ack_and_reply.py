"""A receiver's note on receipt or reply that the server refuses is not lost: the handover's
page comes back (400) with the text still in its field, the error summary linking to the field,
the message beside it and "Error:" first in the title. Line breaks count as one character, as
the textarea's ``maxlength`` counts them, although browsers send them as CR LF."""

import re

import lifecycle_support
import pytest
from lifecycle_support import FREE_TEXT_MARKER, handover, login_as, send_handover
from sqlalchemy import func, select

from handover.services import reading
from handover.services.reading import NOTE_MAX_LENGTH
from handover.services.replies import MESSAGE_MAX_LENGTH
from handover.store.database import db
from handover.store.models import AuditEvent, Reply

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world

NOTE = "Lapsen vastaanottaa omahoitaja Maija."
MESSAGE = "Lapsi nukkuu huonosti ja herää öisin."


@pytest.fixture
def receiver(app, client, world):
    """The id of a sent handover, the receiving unit's receiver logged in and having opened it."""
    with app.app_context():
        handover_id = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(f"/handovers/{handover_id}").status_code == 200
    return handover_id


def within_maxlength_as_browsers_send_it(text, limit):
    """``text`` repeated over lines to ``limit`` characters, as a textarea's ``maxlength``
    counts them (a line break is one), then with the CR LF line breaks a browser sends."""
    typed = ((text + "\n") * (limit // len(text) + 1))[:limit]
    return typed, typed.replace("\n", "\r\n")


def in_language(client, language):
    with client.session_transaction() as session:
        session["language"] = language


def viewed_events(app, handover_id):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.handover_id == handover_id,
            AuditEvent.action == "handover.viewed")).scalar()


def assert_shown_again_with_error(response, field_id, kept, title_error="Error:"):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert FREE_TEXT_MARKER in page, "not the handover's page"
    assert f"<title>{title_error}" in page
    summary = page.index('class="error-summary"')
    assert summary < page.index("<h1") and f'href="#{field_id}"' in page[summary:]
    assert f'id="{field_id}-error"' in page
    assert kept in page, "what was typed is gone"


@pytest.mark.parametrize("language, title_error", [("en", "Error:"), ("fi", "Virhe:")])
def test_too_long_note_is_kept_with_its_error(app, client, receiver, language, title_error):
    in_language(client, language)
    too_long = NOTE + "x" * NOTE_MAX_LENGTH
    response = client.post(f"/handovers/{receiver}/acknowledge", data={"note": too_long})
    assert_shown_again_with_error(response, "note", too_long, title_error)
    with app.app_context():
        assert handover(receiver).status != "acknowledged"


def test_note_within_maxlength_is_accepted_with_browser_line_breaks(app, client, receiver):
    typed, sent = within_maxlength_as_browsers_send_it(NOTE, NOTE_MAX_LENGTH)
    assert len(sent) > NOTE_MAX_LENGTH
    response = client.post(f"/handovers/{receiver}/acknowledge", data={"note": sent})
    assert response.status_code == 302
    with app.app_context():
        assert handover(receiver).status == "acknowledged"
        assert reading.acknowledgement_note(handover(receiver)) == typed


@pytest.mark.parametrize("message, error", [
    pytest.param("", "Write a message.", id="empty"),
    pytest.param("   ", "Write a message.", id="blank"),
    pytest.param(MESSAGE + "x" * MESSAGE_MAX_LENGTH,
                 "Write a message of at most 5000 characters.", id="too-long"),
])
def test_refused_reply_is_kept_with_its_error(app, client, receiver, message, error):
    response = client.post(f"/handovers/{receiver}/reply", data={"message": message})
    assert_shown_again_with_error(response, "message", message)
    assert error in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.execute(select(Reply.id).where(
            Reply.handover_id == receiver)).first()


def test_reply_within_maxlength_is_accepted_with_browser_line_breaks(app, client, receiver):
    _, sent = within_maxlength_as_browsers_send_it(MESSAGE, MESSAGE_MAX_LENGTH)
    assert len(sent) > MESSAGE_MAX_LENGTH
    response = client.post(f"/handovers/{receiver}/reply", data={"message": sent})
    assert response.status_code == 302
    assert MESSAGE in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("action, data", [
    ("acknowledge", {"note": "x" * (NOTE_MAX_LENGTH + 1)}),
    ("reply", {"message": ""}),
])
def test_page_shown_again_is_one_audited_read(app, client, receiver, action, data):
    """It shows the client's data again, so it is logged as a view, once, as the redirect's
    page was before."""
    before = viewed_events(app, receiver)
    assert client.post(f"/handovers/{receiver}/{action}", data=data).status_code == 400
    assert viewed_events(app, receiver) == before + 1


def test_the_other_form_on_the_page_starts_empty(app, client, receiver):
    page = client.post(f"/handovers/{receiver}/reply",
                       data={"message": "", "note": "not posted here"}).get_data(as_text=True)
    assert "not posted here" not in page
    assert 'id="note-error"' not in page


def test_a_refused_reply_keeps_the_basis_of_disclosure_chosen(app, client, receiver):
    page = client.get(f"/handovers/{receiver}").get_data(as_text=True)
    bases = re.findall(r'name="legal_basis" value="([^"]+)"', page)
    assert len(bases) > 1, "the test needs a form with a choice of bases"
    page = client.post(f"/handovers/{receiver}/reply",
                       data={"message": "", "legal_basis": bases[-1]}).get_data(as_text=True)
    checked = re.findall(r'name="legal_basis" value="([^"]+)" checked', page)
    assert checked == [bases[-1]]
