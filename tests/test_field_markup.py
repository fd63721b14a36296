"""Every input's label, help and error texts are tied to it (WCAG 1.3.1, 3.3.1): the field macro
points aria-describedby at texts that exist, marks an input with an error aria-invalid, and
keeps the required flag."""

from html.parser import HTMLParser

import lifecycle_support
from lifecycle_support import FORM_KEY, content, login_as, send_handover

from handover.services import drafts

app_config = lifecycle_support.app_config
world = lifecycle_support.world


class _Elements(HTMLParser):
    """Attributes of every element with an id, and the text inside each."""

    def __init__(self, page):
        super().__init__()
        self.by_id, self.text, self._open = {}, {}, []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.by_id[attributes["id"]] = {"tag": tag, **attributes}
            self.text[attributes["id"]] = ""
            self._open.append(attributes["id"])

    def handle_data(self, data):
        for element_id in self._open:
            self.text[element_id] += data

    def handle_endtag(self, tag):
        if self._open and self.by_id[self._open[-1]]["tag"] == tag:
            self._open.pop()


def _described_by(elements, element_id):
    return elements.by_id[element_id].get("aria-describedby", "").split()


def test_an_answer_with_an_error_is_marked_and_points_at_its_message(app, client, world):
    with app.app_context():
        sender = world.user("sending_sender")
        draft_id = drafts.start(sender, world.unit("sending"), FORM_KEY,
                                world.unit("receiving"), [], "lsl_disclosure").id
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{draft_id}/edit",
                           data={**content(child_name=""), "preview": "1"})
    assert response.status_code == 400
    elements = _Elements(response.get_data(as_text=True))
    name = elements.by_id["child_name"]
    assert name["aria-invalid"] == "true" and "required" in name
    assert _described_by(elements, "child_name") == ["child_name-error"]
    assert elements.text["child_name-error"].strip()
    assert "aria-invalid" not in elements.by_id["child_identity_code"]


def test_help_text_is_tied_to_its_input(app, client, world):
    with app.app_context():
        handover_id = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    elements = _Elements(client.get(f"/handovers/{handover_id}").get_data(as_text=True))
    assert _described_by(elements, "note") == ["note-help"]
    assert "note to the sender" in elements.text["note-help"]
    assert "aria-invalid" not in elements.by_id["note"]
    message = elements.by_id["message"]
    assert "required" in message and "aria-describedby" not in message


def test_a_label_is_escaped_like_any_text(app):
    """Written out by the macro, a label is escaped as WTForms escapes it, lazy or not."""
    from flask import render_template_string
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, StringField

    from handover.web.form_base import HandoverForm

    class Form(HandoverForm):
        text = StringField(lazy_gettext("Name <b>here</b>"))
        tick = BooleanField(lazy_gettext("Agree <i>now</i>"))

    with app.test_request_context("/"):
        page = render_template_string(
            '{% from "macros/forms.html" import field %}{{ field(form.text) }}'
            '{{ field(form.tick) }}', form=Form())
    assert "Name &lt;b&gt;here&lt;/b&gt;" in page and "<b>" not in page
    assert "Agree &lt;i&gt;now&lt;/i&gt;" in page and "<i>" not in page

