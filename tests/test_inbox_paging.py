"""The inbox and outbox pages merge one newest-first query per unit (and one for copies) so a
page costs the same however many handovers are stored: the merge must still give one list,
newest first, each handover once, in pages of 20, with the right count of pages."""

import re
from datetime import timedelta

import pytest

from handover.store.database import db
from handover.store.models import Handover, HandoverCopy
from handover.store.models.base import utcnow
from tests.support import create_unit, create_user, login


def _handover(sender, receiver, sent_at, *, status="acknowledged", form_key="some_form"):
    """A sent handover whose content retention already erased (no keys needed to list it)."""
    handover = Handover(form_key=form_key, form_version=1, status=status,
                        sender_unit_id=sender.id, receiver_unit_id=receiver.id,
                        created_by_id=1, sent_at=sent_at, erased_at=sent_at)
    db.session.add(handover)
    db.session.flush()
    return handover


def _listed(client, path):
    html = client.get(path).get_data(as_text=True)
    return [int(i) for i in re.findall(r'href="/handovers/(\d+)"', html)], html


@pytest.fixture
def inbox_world(app):
    """Anna reads two receiving units and a copy unit; 45 handovers reach her, one of them
    both received and copied, plus handovers for others and a draft that must not show."""
    with app.app_context():
        sending, ward, clinic, copies, other = (
            create_unit(name) for name in ("Sending", "Ward", "Clinic", "Copies", "Other"))
        anna = create_user("anna@example.fi", memberships=[
            (ward, "receiver"), (clinic, "receiver"), (copies, "receiver")])
        sam = create_user("sam@example.fi", memberships=[(sending, "sender")])
        anna.language = sam.language = "en"
        start = utcnow() - timedelta(days=1)
        expected = []
        for number in range(45):
            sent_at = start + timedelta(minutes=number)
            if number % 3 == 0:
                handover = _handover(sending, ward, sent_at)
            elif number % 3 == 1:
                handover = _handover(sending, clinic, sent_at, form_key="other_form")
            else:
                handover = _handover(sending, other, sent_at)
                db.session.add(HandoverCopy(handover_id=handover.id, unit_id=copies.id))
            expected.append(handover.id)
            _handover(sending, other, sent_at)  # not Anna's
        both = _handover(sending, ward, start + timedelta(hours=2))
        db.session.add(HandoverCopy(handover_id=both.id, unit_id=copies.id))
        expected.append(both.id)
        _handover(sending, ward, None, status="draft")
        db.session.commit()
        return list(reversed(expected))


def _user(email):
    from handover.store.models import User

    return db.session.query(User).filter_by(email=email).one()


def test_inbox_pages_are_newest_first_without_duplicates(app, client, inbox_world):
    expected = inbox_world
    with app.app_context():
        login(client, _user("anna@example.fi"))
        pages = [_listed(client, f"/handovers/inbox?page={n}") for n in (1, 2, 3)]
    assert [ids for ids, _ in pages] == [expected[:20], expected[20:40], expected[40:]]
    assert "Page 1 of 3" in pages[0][1]
    assert 'href="/handovers/inbox?page=2&amp;after=' in pages[0][1]
    assert "?page=4" not in pages[2][1]  # the last page has no "Older"
    # Each page is titled apart (WCAG 2.4.2): the browser's tabs and history tell them apart.
    titles = [re.search(r"<title>(.*?)</title>", html).group(1) for _, html in pages]
    assert [title.split(" – ")[0] for title in titles] == ["Inbox", "Inbox, page 2",
                                                            "Inbox, page 3"]


def test_form_filter_offers_every_installed_form_by_its_title(app, client, inbox_world):
    from handover.plugins.manager import registry

    with app.app_context():
        login(client, _user("anna@example.fi"))
        _, html = _listed(client, "/handovers/inbox")
        installed = {d.key: d.title_in("en") for d in registry().all_definitions()}
    assert installed
    for key, title in installed.items():
        assert f'<option value="{key}" >{title}</option>' in html


def test_count_stops_at_the_limit_but_paging_goes_on(app, client, inbox_world, monkeypatch):
    """A unit with years of handovers is not counted row by row on every page view: beyond
    the limit the pager says "more than", and "Older" keeps working to the very last page."""
    from handover.services import listing

    monkeypatch.setattr(listing, "COUNT_LIMIT", 30)
    expected = inbox_world
    with app.app_context():
        login(client, _user("anna@example.fi"))
        first, html = _listed(client, "/handovers/inbox")
        third, last_html = _listed(client, "/handovers/inbox?page=3")
    assert first == expected[:20] and third == expected[40:]
    assert "Page 1 of more than 2" in html
    assert "Page 3 of more than 2" in last_html
    assert "?page=4" not in last_html and 'href="/handovers/inbox?page=2"' in last_html


def test_inbox_filter_by_form_counts_only_that_form(app, client, inbox_world):
    expected = inbox_world
    with app.app_context():
        login(client, _user("anna@example.fi"))
        ids, html = _listed(client, "/handovers/inbox?form=other_form")
        wanted = [i for i in expected if db.session.get(Handover, i).form_key == "other_form"]
    assert ids == wanted and len(wanted) == 15
    assert "Page 1 of" not in html  # one page: no pager


def test_inbox_filter_by_status_leaves_out_the_others(app, client, inbox_world):
    with app.app_context():
        login(client, _user("anna@example.fi"))
        ids, _ = _listed(client, "/handovers/inbox?status=sent")
    assert ids == []


def test_outbox_lists_the_units_sent_handovers_page_by_page(app, client, inbox_world):
    with app.app_context():
        login(client, _user("sam@example.fi"))
        first, html = _listed(client, "/handovers/outbox")
        last, _ = _listed(client, "/handovers/outbox?page=5")
        sent = db.session.query(Handover).filter(Handover.status != "draft").count()
    assert len(first) == 20 and f"Page 1 of {-(-sent // 20)}" in html
    assert len(last) == sent - 80


def _older_link(html):
    return re.search(r'href="(/handovers/[a-z]+\?page=\d+&amp;after=[^"]+)">Older', html).group(
        1).replace("&amp;", "&")


@pytest.mark.parametrize("box, email", [("inbox", "anna@example.fi"),
                                        ("outbox", "sam@example.fi")])
def test_older_lists_what_follows_even_when_reading_took_the_first_page_out_of_the_filter(
        app, client, inbox_world, box, email):
    """Working through "sent" opens each handover of the first page, which leaves "sent": the
    next page must still begin with the 21st, not skip twenty never shown (an offset counted
    again would)."""
    with app.app_context():
        mine = [db.session.get(Handover, i) for i in inbox_world]
        for handover in mine:
            handover.status = "sent"
        db.session.commit()
        login(client, _user(email))
        wanted = []    # every handover that matches, page by page, before anyone reads one
        for number in range(1, 10):
            wanted += _listed(client, f"/handovers/{box}?status=sent&page={number}")[0]
        first, html = _listed(client, f"/handovers/{box}?status=sent")
        for handover_id in first:            # the nurse opens each of the first page
            db.session.get(Handover, handover_id).status = "opened"
        db.session.commit()
        second, html = _listed(client, _older_link(html))
    assert first == wanted[:20]
    assert second == wanted[20:40]
    # Where she is in her walk, and no "of N": 26 still match "sent", which would read "page 2
    # of 2" with a third page to come. The way back is to the newest: "Newer" by offset would
    # show what still matches now, not what she saw.
    assert "Page 2<" in html and "Page 2 of" not in html
    back = f'href="/handovers/{box}?status=sent">Back to the newest<'
    assert back in html and ">Newer<" not in html
    third, html = _listed(client, _older_link(html))
    assert third == wanted[40:60]
    assert "Page 3<" in html and back in html
    assert (">Older<" in html) == (len(wanted) > 60)
