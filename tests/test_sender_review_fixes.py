"""What a reviewer found filling a draft: the whole-form page (and a section page open in two
tabs) saved every field as the page had loaded it, over what a colleague or another tab had
saved meanwhile; an attachment over the upload limit on a fill page lost its way back and did
not name the limit; on the whole-form page "Remove" threw away unsaved typing, every button
read just "Remove", and sizes read "10240.0 kB". Each test reads what the user sees, and
posts what a browser posts: every field of the page's form as the page holds it."""

import json
import re
from html import unescape
from html.parser import HTMLParser

import lifecycle_support
import pytest
from lifecycle_support import login_as
from support import page_text, stored_content
from werkzeug.datastructures import MultiDict

from handover.services import attachments as attachment_service
from handover.services import drafts, policy
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

PDF = b"%PDF-1.4\n" + b"x" * 64 + b"\n%%EOF\n"


class _FormReader(HTMLParser):
    """The fields a browser would post from the form with ``form_id`` (inputs inside it and
    those tied to it with ``form=``), as the page holds them; no buttons, no files."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []
        self._textarea = self._select = None
        self._options = []

    def _ours(self, attrs):
        return self.inside if "form" not in attrs else attrs["form"] == self.form_id

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif tag == "input" and self._ours(attrs) and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("radio", "checkbox") and "checked" not in attrs:
                return
            self.fields.append((attrs["name"], attrs.get("value", "on" if kind in (
                "radio", "checkbox") else "")))
        elif tag == "textarea" and self._ours(attrs) and attrs.get("name"):
            self._textarea = [attrs["name"], ""]
        elif tag == "select" and self._ours(attrs) and attrs.get("name"):
            self._select, self._options = attrs["name"], []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value", ""), "selected" in attrs))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            value = self._textarea[1].replace("\r\n", "\n")   # as a browser reads it
            self.fields.append((self._textarea[0], value[1:] if value.startswith("\n")
                                else value))
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if chosen or self._options:
                self.fields.append((self._select, (chosen or [self._options[0][0]])[0]))
            self._select = None


def form_fields(page, form_id):
    reader = _FormReader(form_id)
    reader.feed(page)
    return reader.fields


def section_form_fields(page):
    """A section page's form has no id: read it as if it had."""
    return form_fields(page.replace('enctype="multipart/form-data" novalidate data-keep-typing',
                                    'id="section-form" enctype="multipart/form-data" '
                                    'novalidate data-keep-typing', 1), "section-form")


def changed(fields, **values):
    """``fields`` with some values changed (as typed into the page)."""
    out = [(name, values.pop(name)) if name in values else (name, value)
           for name, value in fields]
    return MultiDict(out + list(values.items()))


def flashes(page):
    """The messages at the top of the page, as read."""
    return [unescape(text) for text in re.findall(r'<p class="flash flash--\w+">([^<]*)</p>', page)]


def also_changed_message(page):
    return next((text for text in flashes(page) if "Someone else also changed" in text), None)


@pytest.fixture
def sender(app, client, world):
    return login_as(client, app, world.users["sending_sender"])


@pytest.fixture
def colleague(app, world):
    """A second browser: the other tab, or a colleague of the same unit."""
    other = app.test_client()
    return login_as(other, app, world.users["sending_sender"])


def section_post(client, draft_id, section, **values):
    """Open a section page and save it with ``values`` typed in it."""
    page = client.get(f"/handovers/{draft_id}/sections/{section}").get_data(as_text=True)
    return client.post(f"/handovers/{draft_id}/sections/{section}",
                       data=changed(section_form_fields(page), to_tasks="1", **values))


# -- 1. A page left open saves only what was changed on it -----------------------------------

def test_an_open_whole_form_page_keeps_what_was_saved_in_another_tab(
        app, sender, colleague, ward_draft):
    section_post(sender, ward_draft, "child", child_name="Alkuperäinen Nimi")
    first_tab = sender.get(f"/handovers/{ward_draft}/edit").get_data(as_text=True)
    loaded = form_fields(first_tab, "fill-form")
    assert "Alkuperäinen Nimi" not in dict(loaded).get("loaded_digests", ""), "no values"

    section_post(colleague, ward_draft, "child", child_name="Korjattu Nimi",
                 child_identity_code="010594Y9032")
    section_post(colleague, ward_draft, "health", diagnoses="F32.1 masennus",
                 allergies="pähkinä")

    response = sender.post(f"/handovers/{ward_draft}/edit", data=changed(
        loaded, author_name="Sanna Sosiaalityöntekijä", save="1"), follow_redirects=True)
    page = page_text(response)
    assert "Draft saved." in flashes(page)
    assert also_changed_message(page) is None, "no one else changed the author"
    saved = stored_content(app, ward_draft)
    assert saved["child_name"] == "Korjattu Nimi"
    assert saved["child_identity_code"] == "010594Y9032"
    assert saved["diagnoses"] == "F32.1 masennus" and saved["allergies"] == "pähkinä"
    assert saved["author_name"] == "Sanna Sosiaalityöntekijä"
    again = sender.get(f"/handovers/{ward_draft}/edit").get_data(as_text=True)
    assert 'value="Korjattu Nimi"' in again and "pähkinä" in again


def test_a_field_changed_on_both_keeps_this_pages_value_and_says_so(
        app, sender, colleague, ward_draft):
    section_post(sender, ward_draft, "child", child_name="Alkuperäinen Nimi")
    loaded = form_fields(sender.get(f"/handovers/{ward_draft}/edit").get_data(as_text=True),
                         "fill-form")
    section_post(colleague, ward_draft, "child", child_name="Korjattu Nimi")
    section_post(colleague, ward_draft, "health", allergies="pähkinä")
    response = sender.post(f"/handovers/{ward_draft}/edit", data=changed(
        loaded, child_name="Oikea Nimi", save="1"), follow_redirects=True)
    page = page_text(response)
    message = also_changed_message(page)
    assert message, "the page says a colleague changed it too"
    assert "Child's name" in message and "Allergies" not in message
    saved = stored_content(app, ward_draft)
    assert saved["child_name"] == "Oikea Nimi", "this person's answer is kept"
    assert saved["allergies"] == "pähkinä"


def test_the_background_save_follows_the_same_rule(app, sender, colleague, ward_draft):
    section_post(sender, ward_draft, "child", child_name="Alkuperäinen Nimi")
    loaded = form_fields(sender.get(f"/handovers/{ward_draft}/edit").get_data(as_text=True),
                         "fill-form")
    section_post(colleague, ward_draft, "child", child_name="Korjattu Nimi")
    response = sender.post(f"/handovers/{ward_draft}/edit", data=changed(
        loaded, author_name="Sanna", background_save="1"))
    answer = response.get_json()
    assert answer["saved"] is True and answer["also_changed"] == []
    saved = stored_content(app, ward_draft)
    assert saved["child_name"] == "Korjattu Nimi" and saved["author_name"] == "Sanna"
    # The script puts the new digests in the page: the next save of more typing is no conflict.
    fields = changed(loaded, author_name="Sanna S", loaded_digests=answer["digests"],
                     background_save="1")
    assert sender.post(f"/handovers/{ward_draft}/edit", data=fields).get_json()[
        "also_changed"] == []
    assert stored_content(app, ward_draft)["child_name"] == "Korjattu Nimi"


def test_a_section_page_open_in_two_tabs_keeps_the_other_tabs_answers(
        app, sender, colleague, ward_draft):
    section_post(sender, ward_draft, "health", diagnoses="F32.1")
    first_tab = section_form_fields(
        sender.get(f"/handovers/{ward_draft}/sections/health").get_data(as_text=True))
    section_post(colleague, ward_draft, "health", allergies="pähkinä", diagnoses="F32.1 ja F41")
    response = sender.post(f"/handovers/{ward_draft}/sections/health", data=changed(
        first_tab, somatic_illnesses="astma", to_tasks="1"))
    assert response.status_code == 302
    saved = stored_content(app, ward_draft)
    assert saved["allergies"] == "pähkinä" and saved["diagnoses"] == "F32.1 ja F41"
    assert saved["somatic_illnesses"] == "astma"

    # Both tabs changed the diagnoses: this tab's answer is kept, and the page says so.
    response = sender.post(f"/handovers/{ward_draft}/sections/health", data=changed(
        first_tab, diagnoses="F32.1 tarkennettu", to_tasks="1"), follow_redirects=True)
    page = page_text(response)
    message = also_changed_message(page)
    assert message and "Diagnoses" in message and "Allergies" not in message
    assert "<h1" in page and 'name="diagnoses"' in page, "stays on the section to check it"
    assert stored_content(app, ward_draft)["diagnoses"] == "F32.1 tarkennettu"


def test_the_digests_reveal_no_value_and_differ_between_drafts(app, sender, world, ward_draft):
    with app.app_context():
        other = drafts.start(world.user("sending_sender"), world.unit("sending"),
                             "psychiatric_ward_preinfo", world.unit("receiving"), [],
                             "child_welfare_necessary").id
    for draft_id in (ward_draft, other):
        section_post(sender, draft_id, "child", child_name="Sama Nimi")
    digests = [json.loads(unescape(dict(form_fields(sender.get(
        f"/handovers/{draft_id}/edit").get_data(as_text=True), "fill-form"))["loaded_digests"]))
        for draft_id in (ward_draft, other)]
    assert digests[0]["child_name"] != digests[1]["child_name"]
    assert all(len(value) <= 16 for value in digests[0].values())
    assert "Sama" not in json.dumps(digests)


# -- 2. A post over the upload limit from a fill page names the limit and leads back --------

@pytest.fixture
def small_post_limit(app, monkeypatch):
    """The server's limits on a post (12 MB, and 64 MB on a fill page) made small, so that
    the test posts little; the attachment limit stays 10 MB."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    monkeypatch.setitem(app.config, "FILL_PAGE_MAX_CONTENT_LENGTH", 256 * 1024)
    return b"%PDF-1.4\n" + b"x" * (300 * 1024)


@pytest.mark.parametrize("page", ["sections/health", "edit"])
def test_a_file_over_the_servers_limit_names_the_limit_and_leads_back(
        app, sender, ward_draft, page, small_post_limit):
    from io import BytesIO

    address = f"/handovers/{ward_draft}/{page}"
    fields = section_form_fields(sender.get(address).get_data(as_text=True)) if "sections" in \
        page else form_fields(sender.get(address).get_data(as_text=True), "fill-form")
    data = changed(fields, allergies="pähkinä", attach="1")
    data["file"] = (BytesIO(small_post_limit), "lausunto.pdf")
    response = sender.post(address, data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    page_html = response.get_data(as_text=True)
    text = page_text(response)
    assert "at most 10 MB is allowed" in text
    back = re.search(r'<a class="govuk-link" href="([^"]+)">Back to the page you were filling '
                     r'in</a>', page_html)
    assert back and back.group(1).startswith(address + "#"), "leads back to the same page"


def test_the_fill_pages_tell_the_script_the_largest_file(app, sender, ward_draft):
    for address in (f"/handovers/{ward_draft}/edit", f"/handovers/{ward_draft}/sections/health"):
        page = sender.get(address).get_data(as_text=True)
        assert 'data-max-bytes="10485760"' in page
        message = re.search(r'<p class="govuk-error-message" id="[^"]+-too-large" '
                            r'data-file-too-large hidden>(.*?)</p>', page, re.S)
        assert message and "at most 10 MB is allowed" in message.group(1)


@pytest.mark.parametrize("page", ["sections/health", "edit"])
def test_a_file_over_the_servers_general_limit_is_refused_and_the_typing_saved(
        app, sender, ward_draft, page, monkeypatch):
    """Without JavaScript nothing stops a large file before it is sent: a fill page's post is
    read past the server's general limit, so the file is refused by the attachment limit and
    what was typed beside it is saved."""
    from io import BytesIO

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 100 * 1024)
    address = f"/handovers/{ward_draft}/{page}"
    fields = section_form_fields(sender.get(address).get_data(as_text=True)) if "sections" in \
        page else form_fields(sender.get(address).get_data(as_text=True), "fill-form")
    data = changed(fields, allergies="pähkinä ja maito", attach="1")
    data["file"] = (BytesIO(b"%PDF-1.4\n" + b"x" * (300 * 1024)), "lausunto.pdf")
    response = sender.post(address, data=data, content_type="multipart/form-data",
                           follow_redirects=True)
    assert response.status_code != 413
    assert "lausunto.pdf" not in page_text(sender.get(address))
    assert "pähkinä ja maito" in sender.get(address).get_data(as_text=True)


@pytest.mark.parametrize("content_type", ["multipart/form-data",
                                          "application/x-www-form-urlencoded"])
def test_a_text_too_long_to_read_is_not_called_a_file(app, sender, ward_draft, content_type,
                                                      monkeypatch):
    """Hundreds of pages pasted into one field: the page said the file was too large, and
    no file had been chosen."""
    monkeypatch.setitem(app.config, "MAX_FORM_MEMORY_SIZE", 64 * 1024)
    address = f"/handovers/{ward_draft}/sections/health"
    response = sender.post(address, data={"allergies": "pähkinä " * 20000, "continue": "1"},
                           content_type=content_type)
    assert response.status_code == 413
    text = page_text(response)
    assert "A text on the page is too long to be read: one field may hold at most 64 kB." in text
    assert "The file is too large" not in text
    assert "Back to the page you were filling in" in text


def test_a_413_elsewhere_stays_the_plain_page(app, sender, small_post_limit):
    response = sender.post("/language", data={"x": "y" * (300 * 1024)})
    assert response.status_code == 413
    assert "Back to the page you were filling in" not in page_text(response)


# -- 3. Remove on the fill pages saves the typing first, names its file, sizes read well ------

def attach(app, world, draft_id, name, size):
    with app.app_context():
        granted = policy.require(world.user("sending_sender"), draft_id, "attach")
        data = PDF[:-7] + b"x" * max(size - len(PDF), 0) + PDF[-7:]
        return attachment_service.add(granted, world.user("sending_sender"), name, data).id


def attachment_ids(app, draft_id):
    with app.app_context():
        return [a.id for a in db.session.get(Handover, draft_id).attachments]


def test_remove_on_the_whole_form_keeps_the_typing_and_names_its_file(
        app, sender, world, ward_draft):
    first = attach(app, world, ward_draft, "lausunto.pdf", 2000)
    second = attach(app, world, ward_draft, "hoitosuunnitelma.pdf", 3000)
    page = sender.get(f"/handovers/{ward_draft}/edit").get_data(as_text=True)
    buttons = re.findall(r'<button[^>]*name="remove_attachment"[^>]*>(.*?)</button>', page, re.S)
    names = [re.sub(r"<[^>]+>", "", button).strip() for button in buttons]
    assert names == ["Remove lausunto.pdf", "Remove hoitosuunnitelma.pdf"]
    button = re.search(rf'<button[^>]*name="remove_attachment" value="{first}"[^>]*>',
                       page).group(0)
    assert 'form="fill-form"' in button and "formaction=" in button

    fields = changed(form_fields(page, "fill-form"), child_name="Kirjoitettu Nimi",
                     remove_attachment=str(first))
    response = sender.post(f"/handovers/{ward_draft}/edit", data=fields, follow_redirects=True)
    assert "File removed." in flashes(page_text(response))
    assert stored_content(app, ward_draft)["child_name"] == "Kirjoitettu Nimi", "typing saved"
    assert attachment_ids(app, ward_draft) == [second]


def test_remove_on_a_section_page_keeps_the_typing(app, sender, world, ward_draft):
    only = attach(app, world, ward_draft, "lausunto.pdf", 2000)
    page = sender.get(f"/handovers/{ward_draft}/sections/health").get_data(as_text=True)
    buttons = re.findall(r'<button[^>]*name="remove_attachment"[^>]*>(.*?)</button>', page, re.S)
    assert [re.sub(r"<[^>]+>", "", b).strip() for b in buttons] == ["Remove lausunto.pdf"]
    response = sender.post(f"/handovers/{ward_draft}/sections/health", data=changed(
        section_form_fields(page), allergies="pähkinä", remove_attachment=str(only)),
        follow_redirects=True)
    assert "File removed." in flashes(page_text(response))
    assert stored_content(app, ward_draft)["allergies"] == "pähkinä"
    assert attachment_ids(app, ward_draft) == []


@pytest.mark.parametrize(("language", "large", "small"), [
    ("fi", "9,8 Mt", "2 kt"), ("sv", "9,8 MB", "2 kB"), ("en", "9.8 MB", "2 kB")])
def test_sizes_read_in_the_pages_language(app, sender, world, ward_draft, language, large,
                                          small):
    attach(app, world, ward_draft, "iso.pdf", int(9.8 * 1024 * 1024))
    attach(app, world, ward_draft, "pieni.pdf", 2048)
    with sender.session_transaction() as session:
        session["language"] = language
    for address in (f"/handovers/{ward_draft}/edit", f"/handovers/{ward_draft}/sections/health",
                    f"/handovers/{ward_draft}/tasks"):
        text = page_text(sender.get(address))
        assert f"application/pdf, {large})" in text and f"application/pdf, {small})" in text
        assert "10035.2 kB" not in text and ".0 kB" not in text


def test_the_413_page_and_the_warning_read_in_finnish(app, sender, colleague, ward_draft,
                                                       small_post_limit):
    from io import BytesIO

    with sender.session_transaction() as session:
        session["language"] = "fi"
    address = f"/handovers/{ward_draft}/sections/health"
    loaded = section_form_fields(sender.get(address).get_data(as_text=True))
    section_post(colleague, ward_draft, "health", allergies="pähkinä")
    response = sender.post(address, data=changed(loaded, allergies="maito", to_tasks="1"),
                           follow_redirects=True)
    message = also_changed_message(page_text(response).replace(
        "Joku muu muutti myös", "Someone else also changed"))
    assert message and "allerg" in message.lower()
    data = changed(loaded, attach="1")
    data["file"] = (BytesIO(small_post_limit), "lausunto.pdf")
    text = page_text(sender.post(address, data=data, content_type="multipart/form-data"))
    assert "Suurin sallittu koko on 10 Mt" in text
    assert "Takaisin täyttämällesi sivulle" in text
