"""What a reviewer found reading handovers in the demo, as the people concerned see it: a closed
handover says it is closed (by whom, when, and why no reply can be written), on its page and in
the lists; a return leaves no empty entry in the sender's thread; the list filter reaches
returned and closed handovers; a copy unit is not asked to acknowledge; a withdrawn handover's
row says what it is; and the print view carries the thread."""

import re
from datetime import timedelta
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import CHILD_NAME, access_for, handover, login_as, send_handover

from handover.services import closing, reading, replies, returning, updates
from handover.store.database import db
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
WITHDRAWN = lifecycle_support.WITHDRAWN
world = lifecycle_support.world

UPDATE = {"child_name": CHILD_NAME, "child_identity_code": lifecycle_support.CHILD_CODE,
          "change_kind": "moved", "effective_date": "2026-12-01",
          "details": "Uusi sijoituspaikka, yhteystiedot sosiaalityöstä"}


def seen(html):
    """The page's text as a reader sees it: tags, scripts and styles gone, spaces folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def page_of(client, app, world, person, path):
    login_as(client, app, world.users[person])
    response = client.get(path)
    assert response.status_code == 200, (person, path, response.status_code)
    return response.get_data(as_text=True)


def _links_to(row, handover_id):
    """Whether a list row links to ``handover_id`` (to its thread, when a message is new)."""
    return re.search(rf'href="/handovers/{handover_id}(#thread)?"', row) is not None


def row_of(html, handover_id):
    """The text of the list row that links to ``handover_id``."""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if _links_to(row, handover_id):
            return seen(row)
    raise AssertionError(f"no row of #{handover_id}")


def cells_of(html, handover_id):
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if _links_to(row, handover_id):
            return {label: seen(cell) for label, cell in re.findall(
                r'<td[^>]*data-label="([^"]+)"[^>]*>(.*?)</td>', row, flags=re.S)}
    raise AssertionError(f"no row of #{handover_id}")


@pytest.fixture
def closed_handover(app, world):
    """Sent, acknowledged with a note and a reply, then closed by the ward's receiver."""
    with app.app_context():
        hid = send_handover(world)
        receiver = world.user("receiving_receiver")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            receiver, "Omahoitaja Minna")
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"), receiver,
                            "Huone 12 on valmiina", None)
        closing.close(access_for(world, "receiving_receiver", hid, "close"), receiver)
    return hid


@pytest.mark.parametrize("person", ["receiving_receiver", "sending_sender"])
def test_a_closed_handover_says_who_closed_it_and_why_no_reply_can_be_written(
        app, client, world, closed_handover, person):
    page = page_of(client, app, world, person, f"/handovers/{closed_handover}")
    text = seen(page)
    closer = f"{world.users['receiving_receiver'].name}, Receiving unit"
    assert re.search(rf"This handover was closed on \S+ \S+ by {closer}\. Its thread has "
                     r"ended: no more replies can be written\.", text), text
    assert re.search(rf"Status Received, closed .*Closed \S+ \S+ by {closer}", text)
    assert "Huone 12 on valmiina" in text
    assert "No more replies can be written: the handover was closed." in text
    assert "Send reply" not in text


def test_a_copy_unit_is_told_the_handover_is_closed_without_a_persons_name(
        app, client, world, closed_handover):
    text = seen(page_of(client, app, world, "copy_receiver", f"/handovers/{closed_handover}"))
    assert re.search(r"This handover was closed on \S+ \S+ by Receiving unit\.", text), text
    assert world.users["receiving_receiver"].name not in text


def test_the_lists_say_a_handover_is_closed_and_filter_by_it(app, client, world,
                                                             closed_handover):
    with app.app_context():
        still_open = send_handover(world)
    inbox = page_of(client, app, world, "receiving_receiver", "/handovers/inbox")
    assert cells_of(inbox, closed_handover)["Status"].startswith("Received, replied, closed")
    closed_only = client.get("/handovers/inbox?status=closed").get_data(as_text=True)
    assert f'href="/handovers/{closed_handover}"' in closed_only
    assert f'href="/handovers/{still_open}"' not in closed_only
    outbox = page_of(app.test_client(), app, world, "sending_sender", "/handovers/outbox")
    assert cells_of(outbox, closed_handover)["Status"].startswith("Received, replied, closed")


def test_a_return_leaves_no_empty_entry_in_the_senders_thread(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        receiver = world.user("receiving_receiver")
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"), receiver,
                            "Tarkistamme paikkatilanteen", None)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"), receiver,
                            "other", "Lapsi tulee osastolle 5")
    page = page_of(client, app, world, "sending_sender", f"/handovers/{hid}")
    thread = seen(page[page.index('id="thread"'):])
    headings = [seen(h) for h in re.findall(r'<article class="reply"[^>]*>\s*<h3[^>]*>(.*?)</h3>',
                                            page, flags=re.S)]
    # The receiver's message keeps its unit though that unit no longer has the handover; the
    # return's explanation is no reply of nobody's: it stands with the return, with its reason.
    assert headings == [f"Receiving unit, {world.users['receiving_receiver'].name} – "
                        + headings[0].rsplit(" – ", 1)[1]]
    assert "Tarkistamme paikkatilanteen" in thread
    assert "Lapsi tulee osastolle 5" not in thread
    text = seen(page)
    assert re.search(r"Returned by Receiving unit on \S+ \S+ Reason: Other reason "
                     r"Lapsi tulee osastolle 5", text), text
    printed = seen(client.get(f"/handovers/{hid}/print").get_data(as_text=True))
    assert re.search(r"Returned by Receiving unit on \S+ \S+ Reason: Other reason "
                     r"Lapsi tulee osastolle 5", printed), printed
    assert not re.search(r"(^|– )\s*,", printed)


@pytest.mark.parametrize("list_page", ["/handovers/inbox", "/handovers/outbox"])
def test_the_status_filter_offers_returned_and_closed(app, client, world, list_page):
    person = "receiving_receiver" if list_page.endswith("inbox") else "sending_sender"
    page = page_of(client, app, world, person, list_page)
    options = dict(re.findall(r'<option value="([^"]*)"\s*>([^<]*)</option>',
                              page[page.index('id="filter-status"'):].split("</select>")[0]))
    assert options == {"": "All", "sent": "Sent", "opened": "Opened",
                       "acknowledged": "Received", "closed": "Closed",
                       "returned": "Returned to sender", "withdrawn": "Withdrawn"}


def test_a_sender_lists_the_returned_handovers_waiting_for_them(app, client, world):
    with app.app_context():
        returned = send_handover(world)
        other = send_handover(world)
        returning.give_back(access_for(world, "receiving_receiver", returned, "return"),
                            world.user("receiving_receiver"), "wrong_unit", "")
    page = page_of(client, app, world, "sending_sender", "/handovers/outbox?status=returned")
    assert 'value="returned" selected' in page
    assert cells_of(page, returned)["Status"].startswith("Returned to sender")
    assert f'href="/handovers/{other}"' not in page


def test_a_copy_unit_sees_no_date_to_acknowledge_by_and_new_until_it_opens_its_copy(
        app, client, world):
    with app.app_context():
        hid = send_handover(world)
        handover(hid).due_at = utcnow() - timedelta(hours=1)   # overdue, too
        handover(hid).opened_at = utcnow()   # the receiving unit's opening is not the copy's
        db.session.commit()
    copy_inbox = page_of(client, app, world, "copy_receiver", "/handovers/inbox")
    cells = cells_of(copy_inbox, hid)
    assert cells["Acknowledge by"] == "—"
    assert "New" in cells["Child"] and "Overdue" not in cells["Status"]
    copy_page = seen(client.get(f"/handovers/{hid}").get_data(as_text=True))
    assert "Acknowledge by" not in copy_page and "Overdue" not in copy_page
    copy_inbox = client.get("/handovers/inbox").get_data(as_text=True)
    assert "New" not in cells_of(copy_inbox, hid)["Child"]   # opened by its unit now
    with app.app_context():
        handover(hid).opened_at = None
        unread = send_handover(world)
        handover(unread).erased_at = utcnow()   # unopened, then erased: nothing left to read
        db.session.commit()
    copy_inbox = client.get("/handovers/inbox").get_data(as_text=True)
    assert "New" not in cells_of(copy_inbox, unread)["Child"]

    receiver = app.test_client()
    cells = cells_of(page_of(receiver, app, world, "receiving_receiver", "/handovers/inbox"),
                     hid)
    assert re.search(r"\d", cells["Acknowledge by"]) and "New" in cells["Child"]
    assert "Overdue" in cells["Status"]
    assert "Acknowledge by" in seen(receiver.get(f"/handovers/{hid}").get_data(as_text=True))


def test_a_withdrawn_row_names_the_child_to_its_sender_and_says_withdrawn_to_the_receiver(
        app, client, world):
    with app.app_context():
        hid = send_handover(world)
    sender = page_of(client, app, world, "sending_sender", f"/handovers/{hid}")
    assert client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN).status_code == 302
    # The sender's unit keeps the content until the retention rule erases it: its page shows
    # the child, and so does its list.
    assert CHILD_NAME in seen(client.get(f"/handovers/{hid}").get_data(as_text=True))
    cells = cells_of(client.get("/handovers/outbox").get_data(as_text=True), hid)
    assert cells["Child"] == CHILD_NAME and cells["Status"].startswith("Withdrawn")
    receiver = page_of(app.test_client(), app, world, "receiving_receiver", "/handovers/inbox")
    cells = cells_of(receiver, hid)
    # With the reason its sender chose, so that the ward knows whether to expect it again.
    assert cells["Child"] == ("Withdrawn by the sender before it was opened. "
                              "Reason: It was sent to the wrong unit.")
    assert CHILD_NAME not in row_of(receiver, hid) and sender


def test_the_print_view_carries_the_thread_the_reader_sees(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        receiver = world.user("receiving_receiver")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            receiver, "Omahoitaja Minna, hoitoneuvottelu torstaina")
        replies.add_form_reply(access_for(world, "receiving_receiver", hid, "reply_form"),
                               receiver, "ward_reply", {"primary_nurse": "Minna Osasto"}, None)
        replies.add_message(access_for(world, "sending_sender", hid, "reply"),
                            world.user("sending_sender"), "Kiitos, tuomme lääkkeet", None)
        updates.send_update(access_for(world, "sending_sender", hid, "update"),
                            world.user("sending_sender"), dict(UPDATE), language="en")
    for person in ("receiving_receiver", "sending_sender"):
        printed = page_of(app.test_client(), app, world, person, f"/handovers/{hid}/print")
        text = seen(printed)
        assert "Note on receipt Omahoitaja Minna, hoitoneuvottelu torstaina" in text
        thread = seen(printed[printed.index('<h2 class="govuk-heading-m" id="thread-title"'):])
        assert thread.startswith("Replies ")
        assert re.search(r"Receiving unit, [^–]+ – \S+ \S+ Reception Primary nurse Minna Osasto",
                         thread), thread
        assert re.search(r"Sending unit, [^–]+ – \S+ \S+ Kiitos, tuomme lääkkeet", thread)
        assert "The placement has changed: an update was sent Update #" in text
    copy = seen(page_of(app.test_client(), app, world, "copy_receiver",
                        f"/handovers/{hid}/print"))
    assert "Replies" not in copy and "Minna Osasto" not in copy


def test_withdrawing_asks_why_and_keeps_the_question_until_answered(app, client, world):
    """The reason is asked on the confirmation page; posted without one, the page comes back
    with an error summary and nothing is withdrawn; the reason chosen is told to the receiving
    unit on the handover's page and logged with the withdrawal (its key, no text)."""
    from lifecycle_support import handover
    from sqlalchemy import select

    from handover.store.database import db
    from handover.store.models import AuditEvent

    with app.app_context():
        hid = send_handover(world)
    page_of(client, app, world, "sending_sender", f"/handovers/{hid}")
    question = client.get(f"/handovers/{hid}/withdraw").get_data(as_text=True)
    assert "Why is the handover withdrawn?" in question
    assert 'value="corrected"' in question and 'value="wrong_child"' in question
    refused = client.post(f"/handovers/{hid}/withdraw", data={})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="error-summary"' in text
    assert 'href="#reason"' in text and "Choose why the handover is withdrawn." in text
    assert client.post(f"/handovers/{hid}/withdraw",
                       data={"reason": "made-up"}).status_code == 400
    with app.app_context():
        assert handover(hid).status == "sent"
    assert client.post(f"/handovers/{hid}/withdraw",
                       data={"reason": "corrected"}).status_code == 302
    with app.app_context():
        assert handover(hid).withdrawal_reason == "corrected"
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.withdrawn")).scalar_one()
        assert '"reason": "corrected"' in event.detail
    receiver = page_of(app.test_client(), app, world, "receiving_receiver", f"/handovers/{hid}")
    assert "The sender withdrew this handover on" in receiver
    assert "Reason: Something in it was wrong: a corrected handover follows." in receiver
