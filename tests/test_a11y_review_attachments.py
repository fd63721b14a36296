"""Accessibility review: a refused file is told as any field's error (WCAG 3.3.1, 4.1.3), and
Enter in a field saves instead of adding a row.

A: on the whole-form page and on a section page, "Attach" with no file or with one too large
answers 400 with the same page: "Error:" first in the title, the error summary linking to the
file input, the message beside the input (named by aria-describedby, the input marked invalid),
what was typed kept.
B: a fill page's first submit button (the one Enter presses) is its main button, not "Add a
row"."""

import io
import re

import lifecycle_support
import pytest
from lifecycle_support import empty_draft, login_as
from sqlalchemy import func, select

from handover.store.database import db
from handover.store.models import Attachment
from tests.support import error_of, error_summary, stored_content

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

TYPED = "Typed before attaching: sleeps only with the lamp on"

#: Each fill page and the id of its file input.
PAGES = [("edit", "file"), ("sections/health", "attachment-file")]


def _attach(app, client, world, page, upload):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    data = {"health_notes": TYPED, "attach": "1"}
    if upload is not None:
        data["file"] = upload
    response = client.post(f"/handovers/{draft_id}/{page}", data=data,
                           content_type="multipart/form-data")
    return draft_id, response


def _input(page, input_id):
    found = re.search(rf'<input[^>]*\bid="{input_id}"[^>]*>', page)
    assert found, f"no input #{input_id}"
    return found.group(0)


@pytest.mark.parametrize("page,input_id", PAGES)
@pytest.mark.parametrize("upload,message", [
    (None, "Choose a file to attach."),
    #: Small enough to stay in memory (a post over 500 kB is spooled to a file): the limit is
    #: set to 1 kB below, which the message rounds up to 1 MB.
    (lambda: (io.BytesIO(b"%PDF-1.4\n" + b"0" * 2048), "big.pdf"),
     "The file is too large: at most 1 MB is allowed."),
])
def test_a_refused_file_is_an_error_at_the_file_input(app, client, world, page, input_id,
                                                      upload, message):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    draft_id, response = _attach(app, client, world, page, upload and upload())
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r"<title>\s*Error:", html)
    assert f'href="#{input_id}"' in error_summary(response)
    assert message in error_summary(response)
    assert error_of(html, input_id) == message
    file_input = _input(html, input_id)
    assert 'aria-invalid="true"' in file_input
    assert f"{input_id}-error" in re.search(r'aria-describedby="([^"]*)"', file_input).group(1)
    assert TYPED in html and stored_content(app, draft_id)["health_notes"] == TYPED
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Attachment)).scalar() == 0


@pytest.mark.parametrize("page,input_id", PAGES)
def test_a_page_without_a_refusal_shows_no_file_error(app, client, world, page, input_id):
    draft_id = empty_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    html = client.get(f"/handovers/{draft_id}/{page}").get_data(as_text=True)
    assert "error-summary" not in html and error_of(html, input_id) is None
    assert "aria-invalid" not in _input(html, input_id)


@pytest.mark.parametrize("page,main", [("edit", 'name="save"'),
                                       ("sections/guardians", 'name="continue"')])
def test_enter_in_a_field_presses_the_main_button(app, client, world, ward_draft, page, main):
    """The ward form's guardians are a repeating group: its "Add a row" button, before the
    main button, must not be the first (the one Enter presses)."""
    login_as(client, app, world.users["sending_sender"])
    html = client.get(f"/handovers/{ward_draft}/{page}").get_data(as_text=True)
    form = html[html.index('<form method="post" action="/handovers/'):]
    assert 'name="add_row"' in form
    first = re.search(r'<button type="submit"[^>]*>', form).group(0)
    assert main in first


@pytest.mark.parametrize("who, page", [("receiving_receiver", "reply/ward_receipt"),
                                       ("sending_sender", "update")])
def test_enter_in_a_form_that_sends_to_another_unit_sends_nothing(app, client, world, who, page):
    """A reply and a placement update go to other units: Enter in a field neither adds a row nor
    sends before the writer has checked. A browser does not submit a form whose first submit
    button is disabled (HTML's implicit submission)."""
    from test_inbox_and_receipt import sent

    handover_id = sent(app, world)
    login_as(client, app, world.users[who])
    html = client.get(f"/handovers/{handover_id}/{page}").get_data(as_text=True)
    form = html[html.index('<form method="post" novalidate>'):]
    first = re.search(r'<button type="submit"[^>]*>', form).group(0)
    assert " disabled" in first and 'aria-hidden="true"' in first
    buttons = re.findall(r'<button type="submit"[^>]*>', form)
    assert any(" disabled" not in button for button in buttons[1:]), "the real button works"
