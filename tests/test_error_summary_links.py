"""Every link of an error summary reaches an element of its page: a radio or checkbox question
too, whose inputs WTForms numbers "<question>-0", "-1", ... while the summary (and the
check-answers page) link to "#<question>". A link to no element moves neither the focus nor
the view, with or without JavaScript."""

import re
from html.parser import HTMLParser

import lifecycle_support
import pytest
from lifecycle_support import login_as, send_handover

from handover.services import definition_of, drafts

app_config = lifecycle_support.app_config
world = lifecycle_support.world

WARD_FORM = "psychiatric_ward_preinfo"


class ElementIds(HTMLParser):
    """{id: tag name} of every element of a page."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id:
            self.tags[element_id] = tag


def summary_links(page):
    """The targets ("#..." or a path with "#...") of the error summary's links."""
    summary = re.search(r'<div class="error-summary".*?</ul>', page, re.S)
    assert summary, "the page has an error summary"
    links = re.findall(r'<a href="([^"]*#[^"]+)"', summary.group(0))
    assert links, "the summary links its problems"
    return [link.replace("&amp;", "&") for link in links]


def missing_targets(page):
    tags = ElementIds(page).tags
    return [link for link in summary_links(page) if link.split("#", 1)[1] not in tags]


def ward_draft(app, world):
    """An empty draft of the psychiatric ward's form (radios: the placement basis)."""
    with app.app_context():
        basis = definition_of(WARD_FORM).legal_bases[0]
        return drafts.start(world.user("sending_sender"), world.unit("sending"), WARD_FORM,
                            world.unit("receiving"), [], getattr(basis, "value", basis.key)).id


def section_check_page(app, client, world):
    draft_id = ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    return client.get(f"/handovers/{draft_id}/sections/placement?check=1")


def whole_form_preview(app, client, world):
    draft_id = ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    return client.post(f"/handovers/{draft_id}/edit", data={"preview": "1"})


def choose_form_page(app, client, world):
    login_as(client, app, world.users["sending_sender"])
    return client.post("/handovers/new", data={})


def return_page(app, client, world):
    with app.app_context():
        handover_id = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    return client.post(f"/handovers/{handover_id}/return", data={})


def placement_update_page(app, client, world):
    with app.app_context():
        handover_id = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    return client.post(f"/handovers/{handover_id}/update", data={})


def account_language_page(app, client, world):
    login_as(client, app, world.users["sending_sender"])
    return client.post("/account", data={"language": "xx"})


def client_scopes_page(app, client, world):
    login_as(client, app, world.users["admin"])
    return client.post("/admin/clients", data={"name": "Ward EHR"})


def webhook_events_page(app, client, world):
    login_as(client, app, world.users["admin"])
    return client.post("/admin/webhooks", data={"endpoint-url": "https://example.test/hook"})


PAGES = {
    "section check": section_check_page,
    "whole-form preview": whole_form_preview,
    "choose form": choose_form_page,
    "return": return_page,
    "placement update": placement_update_page,
    "account language": account_language_page,
    "client scopes": client_scopes_page,
    "webhook events": webhook_events_page,
}


@pytest.mark.parametrize("page_name", PAGES)
def test_every_error_summary_link_reaches_an_element_of_its_page(app, client, world,
                                                                 page_name):
    page = PAGES[page_name](app, client, world).get_data(as_text=True)
    assert missing_targets(page) == [], "the summary links to ids no element has"


@pytest.mark.parametrize("page_name, question", [
    ("section check", "placement_basis"),
    ("choose form", "choice"),
    ("return", "reason"),
    ("placement update", "change_kind"),
    ("account language", "language"),
    ("client scopes", "scopes"),
    ("webhook events", "endpoint-events"),
])
def test_a_choice_questions_link_lands_on_its_first_option(app, client, world, page_name,
                                                          question):
    """GOV.UK's pattern: the first radio or checkbox carries the question's id, so the link
    focuses it and the question's legend scrolls into view."""
    page = PAGES[page_name](app, client, world).get_data(as_text=True)
    assert f"#{question}" in summary_links(page)
    first_option = re.search(rf'<input [^>]*id="{re.escape(question)}"[^>]*>', page)
    assert first_option and re.search(r'type="(radio|checkbox)"', first_option.group(0))
    assert re.search(rf'<label [^>]*for="{re.escape(question)}"', page), "its label follows"


def test_check_answers_links_reach_their_inputs_on_the_section_pages(app, client, world):
    """The check-answers page links each problem to its section page's input, anchors of
    radio questions and of repeating groups' rows included."""
    draft_id = ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    links = summary_links(client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True))
    assert any(link.endswith("#placement_basis") for link in links)
    missing = []
    for link in links:
        path, anchor = link.split("#", 1)
        if anchor not in ElementIds(client.get(path).get_data(as_text=True)).tags:
            missing.append(link)
    assert missing == [], "check answers links to ids its section pages lack"
