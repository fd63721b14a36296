"""The plugins' cross-field rules are asked one way, by the fill page as by the send
(`drafts.plugin_problems`): they see the content without what the field rules refused, and a
field with a message of its own gets no second one from a plugin. Before, the page handed the
plugins the refused answer too, and listed messages the send would not."""

import lifecycle_support
from lifecycle_support import FORM_KEY
from werkzeug.datastructures import MultiDict

from handover.plugins.manager import registry
from handover.services import drafts
from handover.web import formbuilder

app_config = lifecycle_support.app_config
world = lifecycle_support.world

PLUGIN_MESSAGE = "A non-disclosure marking hides the location: answer yes."


def test_the_fill_page_and_the_send_list_the_same_messages(app, world):
    typed = {"child_name": "Testi Lapsi", "non_disclosure": "yes", "location_hidden": "maybe"}
    with app.test_request_context(method="POST"):
        definition = registry().get(FORM_KEY)
        form = formbuilder.build_form(definition, "en", formdata=MultiDict(typed))
        assert not form.validate()
        on_page = [str(message) for message in form["location_hidden"].errors]
        at_send = drafts.validate_content(definition, typed, None, "en")["location_hidden"]
    assert PLUGIN_MESSAGE not in on_page and PLUGIN_MESSAGE not in at_send
    assert len(on_page) == len(at_send) == 1
