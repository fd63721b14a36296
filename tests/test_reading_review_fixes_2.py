"""What a second reviewer found on a sent handover's page, as its readers see it: the note on
receipt is typed before pressing "Acknowledge receipt" and has its own label and limit; notes
and messages keep their line breaks (escaped); the sender finds who acknowledged and their note
near the top (a copy unit never); each reply form's reply is titled, its sections one heading
level below it with ids of its own; a refused reply keeps its text and says why; the reply
controls are not printed; and "Reply sent." is shown in the thread, where the page lands."""

import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import access_for, login_as, send_handover

from handover.services import closing, reading, replies
from handover.services.reading import NOTE_MAX_LENGTH

app_config = lifecycle_support.app_config
world = lifecycle_support.world

NOTE = "Omahoitaja Minna\nHoitoneuvottelu <torstaina>"
MESSAGE = "Huone 12 on valmiina\nTuokaa lääkkeet & vaatteet"


def seen(html):
    """The page's text as a reader sees it: tags, scripts and styles gone, spaces folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def page_of(client, app, world, person, path):
    login_as(client, app, world.users[person])
    response = client.get(path)
    assert response.status_code == 200, (person, path, response.status_code)
    return response.get_data(as_text=True)


def acknowledged(app, world, note=NOTE):
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), note)
    return hid


def test_the_note_comes_before_the_acknowledge_button_with_its_own_label(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    page = page_of(client, app, world, "receiving_receiver", f"/handovers/{hid}")
    form = page[page.index('id="acknowledge"'):].split("</form>")[0]
    assert form.index('name="note"') < form.index(">Acknowledge receipt</button>")
    assert re.search(r'<label[^>]*for="note"[^>]*>\s*Note on receipt \(optional\)', form)
    reply_label = re.search(r'<label[^>]*for="message"[^>]*>(.*?)</label>', page, re.S)
    assert seen(reply_label.group(1)) == "Message"


def test_a_too_long_note_is_told_its_limit(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    response = client.post(f"/handovers/{hid}/acknowledge",
                           data={"note": "x" * (NOTE_MAX_LENGTH + 1)})
    assert response.status_code == 400
    assert f"Write a note of at most {NOTE_MAX_LENGTH} characters." in seen(
        response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/handovers/{hid}", "/handovers/{hid}/print"])
def test_the_note_and_messages_keep_their_line_breaks_escaped(app, client, world, path):
    hid = acknowledged(app, world)
    with app.app_context():
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"),
                            world.user("receiving_receiver"), MESSAGE, None)
    page = page_of(client, app, world, "sending_sender", path.format(hid=hid))
    assert "Omahoitaja Minna<br>Hoitoneuvottelu &lt;torstaina&gt;" in page
    assert "Huone 12 on valmiina<br>Tuokaa lääkkeet &amp; vaatteet" in page
    assert "<torstaina>" not in page


@pytest.mark.parametrize("path", ["/handovers/{hid}", "/handovers/{hid}/print"])
@pytest.mark.parametrize("person", ["sending_sender", "receiving_receiver"])
def test_who_acknowledged_and_the_note_are_near_the_top(app, client, world, person, path):
    hid = acknowledged(app, world)
    page = page_of(client, app, world, person, path.format(hid=hid))
    receipt = page.index('<section class="govuk-inset-text hv-receipt"')
    assert receipt < page.index('class="content-section"'), "after the whole record"
    text = seen(page[receipt:page.index("</section>", receipt)])
    name = world.users["receiving_receiver"].name
    assert re.fullmatch(rf"Receipt acknowledged Acknowledged \S+ \S+ by {re.escape(name)}, "
                        r"Receiving unit "
                        r"Note on receipt Omahoitaja Minna Hoitoneuvottelu <torstaina>", text), text


def test_a_copy_unit_sees_neither_the_note_nor_who_acknowledged(app, client, world):
    hid = acknowledged(app, world)
    for path in (f"/handovers/{hid}", f"/handovers/{hid}/print"):
        text = seen(page_of(app.test_client(), app, world, "copy_receiver", path))
        assert "Omahoitaja Minna" not in text and "Receipt acknowledged" not in text
        assert world.users["receiving_receiver"].name not in text


def test_a_receipt_without_a_note_says_so(app, client, world):
    hid = acknowledged(app, world, note="")
    text = seen(page_of(client, app, world, "sending_sender", f"/handovers/{hid}"))
    assert "Note on receipt No note was written." in text


@pytest.mark.parametrize("path", ["/handovers/{hid}", "/handovers/{hid}/print"])
def test_two_replies_of_one_form_are_titled_with_ids_of_their_own(app, client, world, path):
    with app.app_context():
        hid = send_handover(world)
        for nurse in ("Minna Osasto", "Pekka Osasto"):
            replies.add_form_reply(access_for(world, "receiving_receiver", hid, "reply_form"),
                                   world.user("receiving_receiver"), "ward_reply",
                                   {"primary_nurse": nurse}, None)
    page = page_of(client, app, world, "sending_sender", path.format(hid=hid))
    thread = page[page.index('id="thread-title"'):]
    articles = re.findall(r'<article class="reply"[^>]*>(.*?)</article>', thread, re.S)
    assert len(articles) == 2
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id twice"
    for article, nurse in zip(articles, ("Minna Osasto", "Pekka Osasto"), strict=True):
        assert seen(re.search(r"<h3[^>]*>(.*?)</h3>", article, re.S).group(1)).startswith(
            "Ward's reply – Receiving unit, ")
        assert "<h2" not in article
        heading = re.search(r'<section class="content-section" aria-labelledby="([^"]+)">\s*'
                            r'<h4[^>]*id="([^"]+)"[^>]*>Reception</h4>', article)
        assert heading and heading.group(1) == heading.group(2) != "content-reception"
        assert nurse in seen(article)


def test_a_reply_to_a_handover_closed_meanwhile_shows_the_text_to_copy(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    page = page_of(client, app, world, "sending_sender", f"/handovers/{hid}")
    assert "Send reply" in page
    with app.app_context():
        receiver = world.user("receiving_receiver")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            receiver, "")
        closing.close(access_for(world, "receiving_receiver", hid, "close"), receiver)
    response = client.post(f"/handovers/{hid}/reply", data={"message": MESSAGE})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # Why: who closed it and when (the sender cannot know why the thread stopped).
    assert re.search(r"Your reply was not sent: The receiving unit closed this handover on "
                     r"\d+\.\d+\.\d+: its thread has ended and no more replies can be "
                     r"written\.", seen(page))
    assert 'href="#reply-refused"' in page
    box = re.search(r'<textarea[^>]*id="unsent-reply"[^>]*readonly[^>]*>(.*?)</textarea>',
                    page, re.S)
    assert box and unescape(box.group(1)) == MESSAGE
    assert "No more replies can be written: the handover was closed." in seen(page)
    with app.app_context():
        assert [r.kind for r in lifecycle_support.handover(hid).replies] == []


def test_a_reply_the_service_refuses_keeps_its_text_and_says_why(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    response = client.post(f"/handovers/{hid}/reply",
                           data={"message": MESSAGE, "legal_basis": "not-on-the-list"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("Your reply was not sent: Choose the basis of disclosure from the list."
            in seen(page))
    box = re.search(r'<textarea[^>]*name="message"[^>]*>(.*?)</textarea>', page, re.S)
    assert unescape(box.group(1)).strip() == MESSAGE
    assert "Send reply" in page


def test_the_reply_controls_are_not_printed(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    page = page_of(client, app, world, "receiving_receiver", f"/handovers/{hid}")
    thread = page[page.index('id="thread-title"'):]
    hidden = thread[thread.index('<div class="no-print">'):]
    for control in ("Answer with: Ward's reply", 'name="message"', 'name="legal_basis"',
                    "Send reply"):
        assert control in unescape(hidden.split("</form>")[0]), control


def test_reply_sent_is_said_in_the_thread_where_the_page_lands(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    response = client.post(f"/handovers/{hid}/reply", data={"message": MESSAGE})
    assert response.status_code == 302 and response.location.endswith("#thread")
    page = client.get(response.location).get_data(as_text=True)
    thread = page[page.index('id="thread"'):]
    assert re.search(r'<div class="flashes" role="status"><p class="flash flash--success">'
                     r"Reply sent\.</p>", thread)
    # Once on the page, and first in its title, which a screen reader reads on landing.
    body = page[page.index("</head>"):]
    assert body.count("Reply sent.") == 1
    assert re.search(r"<title>Reply sent\. – ", page)


def test_a_reply_form_the_service_refuses_keeps_what_was_filled_and_says_why(
        app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    response = client.post(f"/handovers/{hid}/reply/ward_reply",
                           data={"primary_nurse": "Minna Osasto",
                                 "legal_basis": "not-on-the-list"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("Your reply was not sent: Choose the basis of disclosure from the list."
            in seen(page))
    assert 'value="Minna Osasto"' in page


def test_a_reply_form_to_a_handover_closed_meanwhile_keeps_what_was_filled(
        app, client, world):
    with app.app_context():
        hid = send_handover(world)
        receiver = world.user("receiving_receiver")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            receiver, "")
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(f"/handovers/{hid}/reply/ward_reply").status_code == 200
    with app.app_context():
        closing.close(access_for(world, "receiving_receiver", hid, "close"),
                      world.user("receiving_receiver"))
    response = client.post(f"/handovers/{hid}/reply/ward_reply",
                           data={"primary_nurse": "Minna Osasto"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # Why: who closed it and when (the sender cannot know why the thread stopped).
    assert re.search(r"Your reply was not sent: The receiving unit closed this handover on "
                     r"\d+\.\d+\.\d+: its thread has ended and no more replies can be "
                     r"written\.", seen(page))
    assert "What you typed is still in the form below" in seen(page)
    assert 'value="Minna Osasto"' in page
