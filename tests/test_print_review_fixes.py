"""What a reviewer found printing and checking handovers: every printed page of the print view
names the child and the handover (the reading page's own print too), the print view lists the
attached files the reader may see, and "Check answers" lists the draft's files with a link to
change them."""

import re
from html import unescape

import lifecycle_support
from lifecycle_support import CHILD_NAME, access_for, content, login_as

from handover.services import attachments, drafts, sending

app_config = lifecycle_support.app_config
world = lifecycle_support.world

PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj <<>> endobj\ntrailer<<>>\n%%EOF\n"


def seen(html):
    """The text as a reader sees it: tags gone, spaces folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def element(html, pattern):
    """The first element whose opening tag matches ``pattern``, with its contents."""
    found = re.search(r"<(\w+)[^>]*" + pattern + r"[^>]*>.*?</\1>", html, flags=re.S)
    assert found, pattern
    return found.group(0)


def page(client, app, world, person, path):
    login_as(client, app, world.users[person])
    response = client.get(path)
    assert response.status_code == 200, (person, path, response.status_code)
    return response.get_data(as_text=True)


def draft_with_file(world):
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                         world.unit("receiving"), [world.unit("copy")], "lsl_disclosure")
    drafts.save(sender, draft, content())
    attachments.add(access_for(world, "sending_sender", draft.id, "attach"), sender,
                    "liite.pdf", PDF)
    return draft


def sent_with_file(app, world):
    with app.app_context():
        draft = draft_with_file(world)
        return sending.send(world.user("sending_sender"), draft, "t-print-file").id


def test_every_printed_page_names_the_child_and_the_handover(app, world):
    hid = sent_with_file(app, world)
    for person in ("receiving_receiver", "sending_sender", "copy_receiver"):
        printed = page(app.test_client(), app, world, person, f"/handovers/{hid}/print")
        header = seen(element(printed, r'class="print-header"'))
        heading = seen(element(printed, r'class="govuk-heading-l hv-handover-title"'))
        assert f"#{hid}" in header and "Confidential" in header, (person, header)
        # The header names the child as the page's heading names them to this reader.
        assert (CHILD_NAME in header) == (CHILD_NAME in heading), (person, header, heading)
        if person != "copy_receiver":
            assert header.startswith(f"{CHILD_NAME} – "), header
    # The reading page, printed with the browser's own command: the same line, print only.
    reading = page(app.test_client(), app, world, "receiving_receiver", f"/handovers/{hid}")
    header = element(reading, r'class="print-header print-only" hidden')
    assert seen(header).startswith(f"{CHILD_NAME} – ") and f"#{hid}" in seen(header)


def test_the_print_view_lists_the_files_the_reading_page_lists(app, world):
    hid = sent_with_file(app, world)
    for person in ("receiving_receiver", "sending_sender"):
        printed = page(app.test_client(), app, world, person, f"/handovers/{hid}/print")
        files = seen(element(printed, r'aria-labelledby="attachments-title"'))
        assert re.fullmatch(r"Attachments liite\.pdf \(application/pdf, [^)]+\)", files), files
    # A copy unit gets no files on the reading page, nor on paper.
    for path in (f"/handovers/{hid}", f"/handovers/{hid}/print"):
        shown = page(app.test_client(), app, world, "copy_receiver", path)
        assert "liite.pdf" not in shown and "attachments-title" not in shown, path


def test_check_answers_lists_the_files_with_a_link_to_change_them(app, client, world):
    with app.app_context():
        draft_id = draft_with_file(world).id
    preview = page(client, app, world, "sending_sender", f"/handovers/{draft_id}/preview")
    files = element(preview, r'aria-labelledby="attachments-title"')
    assert re.fullmatch(r"Attachments Change ?: Attachments liite\.pdf \(application/pdf, [^)]+\)",
                        seen(files)), seen(files)
    change = re.search(r'<a [^>]*href="([^"]+)"[^>]*>\s*Change', files).group(1)
    assert change == f"/handovers/{draft_id}/edit#attachments-title"
    assert client.get(change.split("#")[0]).status_code == 200
    # The "Send" button is still there, under the files.
    assert preview.index("liite.pdf") < preview.index(">Send</button>")
