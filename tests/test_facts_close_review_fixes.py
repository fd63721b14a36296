"""What a reviewer found on the reading, reply and list pages, checked as the people concerned
see them:

- the key facts never cut a safety row: each person who may not fetch the child, and each
  contact restriction with the date it is valid until, is a line of its own, without the long
  label of what a ban on fetching rests on (read in the section, to which "Read all" leads);
- closing a handover asks first, on a page of its own that works without JavaScript;
- the daycare's and the school's receipts rest on their own act by default;
- the reply-form page names the child and the handover, read and audited as a list row;
- finding a child's handovers says which the user's units sent and which they received, and
  the outbox offers the search too;
- a copy unit's list says nothing of replies (it gets no thread);
- the return page's hint names the option as it reads ("Other reason").
"""

import re
import secrets
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, access_for, login_as, send_handover
from sqlalchemy import func, select
from support import create_unit, create_user

from handover.cli import demo_handovers
from handover.services import drafts, reading, replies, sending
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

SECOND_BARRED = {
    "no_fetch_name": "Jari Vieras", "no_fetch_relation": "äidin entinen puoliso",
    "no_fetch_reason": "not_authorised",
    "no_fetch_details": "Ei kuulu lapsen hakijoihin. Jos hän tulee päiväkotiin, älä luovuta "
                        "lasta; uhkaavassa tilanteessa soita hätänumeroon 112.",
}
BASIS_LABEL_EN = "A contact-restriction decision (Child Welfare Act, ss. 62–63"


def seen(html):
    """Text as a reader sees it: tags gone, entities read, spaces folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def fact_lines(page, label):
    """The lines of the key fact ``label`` as shown (line breaks or list items apart)."""
    found = re.search(rf'<dt class="govuk-summary-list__key">{re.escape(label)}</dt>\s*'
                      r"<dd[^>]*>(.*?)</dd>", page, re.S)
    assert found, f"no key fact {label!r}"
    value = re.sub(r'<a class="govuk-link[^"]*" href="#content-[^"]*">.*?</a>', "",
                   found.group(1), flags=re.S)
    return [line for line in (seen(part) for part in re.split(r"<br\s*/?>|</li>", value))
            if line]


def audit_count(app, action, handover_id=None):
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        if handover_id is not None:
            query = query.where(AuditEvent.handover_id == handover_id)
        return db.session.execute(query).scalar()


@pytest.fixture
def schools(app, world):
    """A daycare and a school, each with a receiver; the world's social-work unit (``copy``)
    sends to them."""
    with app.app_context():
        for name, kind in (("daycare", "daycare"), ("school", "school")):
            unit = create_unit(f"{name.title()} unit", kind=kind, email="")
            world.units[name] = unit
            user = create_user(f"{name}.receiver@example.test",
                               memberships=[(unit, "receiver")])
            world.users[f"{name}_receiver"] = user
            for item in (unit, user):
                db.session.refresh(item)
                db.session.expunge(item)
    return world


def send_from_social_work(world, form_key, receiver, content):
    sender = world.user("copy_sender")
    draft = drafts.start(sender, world.unit("copy"), form_key, world.unit(receiver), [],
                         "child_welfare_necessary")
    drafts.save(sender, draft, content)
    return sending.send(sender, draft, secrets.token_urlsafe(16)).id


@pytest.fixture
def daycare_handover(app, schools):
    """The demo's daycare handover, with a second person who may not fetch the child."""
    content = demo_handovers.daycare_content()
    content["may_not_fetch"] = [*content["may_not_fetch"], SECOND_BARRED]
    with app.app_context():
        return send_from_social_work(schools, "daycare_placed_child", "daycare", content)


# --- 1. the key facts -----------------------------------------------------------------------


def test_each_person_who_may_not_fetch_is_a_whole_line_of_the_key_facts(app, client, schools,
                                                                       daycare_handover):
    login_as(client, app, schools.users["daycare_receiver"])
    page = client.get(f"/handovers/{daycare_handover}").get_data(as_text=True)
    barred = fact_lines(page, "May not fetch the child")
    assert barred == [
        "Tero Kuvitelma, isä. Jos isä tulee päiväkotiin, älä luovuta lasta; soita "
        "perhehoitajalle ja sosiaalityöntekijälle.",
        "Jari Vieras, äidin entinen puoliso. Ei kuulu lapsen hakijoihin. Jos hän tulee "
        "päiväkotiin, älä luovuta lasta; uhkaavassa tilanteessa soita hätänumeroon 112.",
    ]
    assert BASIS_LABEL_EN not in seen(page.split('id="content-')[0])  # not among the facts
    assert "…" not in " ".join(barred)
    # What the ban rests on is in the section, to which the fact leads.
    assert re.search(r'<dd[^>]*>[^<]*Tero Kuvitelma[^<]*(<br>[^<]*)*<a [^>]*'
                     r'href="#content-pickup"', page)
    assert "A contact-restriction decision (Child Welfare Act, ss. 62–63" in page


def test_the_daycares_key_facts_say_who_may_fetch_the_child(app, client, schools,
                                                            daycare_handover):
    """The person handing the child over at the door needs who may fetch as much as who may
    not. (The ward's visitors and the school's fetchers stay in their sections: the key facts
    of those forms fill the first screen already, tests/browser/test_reading_first_screen.py.)
    """
    login_as(client, app, schools.users["daycare_receiver"])
    page = client.get(f"/handovers/{daycare_handover}").get_data(as_text=True)
    assert [line.split(",")[0] for line in fact_lines(page, "May bring and fetch the child")] \
        == ["Liisa Järvinen", "Pekka Järvinen"]


def test_a_contact_restriction_keeps_the_date_it_is_valid_until(app, client, schools,
                                                                daycare_handover):
    with app.app_context():
        until = drafts.content_of(db.session.get(Handover, daycare_handover))[
            "contact_restrictions"][0]["restriction_until"]
    year, month, day = (int(part) for part in until.split("-"))
    login_as(client, app, schools.users["daycare_receiver"])
    page = client.get(f"/handovers/{daycare_handover}").get_data(as_text=True)
    # Whom, what and until when; what the decision covers and its date are in the section.
    [restriction] = fact_lines(page, "Contact restrictions")
    assert restriction == (
        "Isä, Tero Kuvitelma. Tapaamiset vain valvottuina perhekeskuksessa joka toinen viikko. "
        "Isä ei tapaa Ellaa päiväkodissa eikä hae häntä. Tietojen antamista ei ole rajoitettu. "
        f"Valid until {day}.{month}.{year}")
    assert re.search(r'<dd[^>]*>[^<]*Isä, Tero Kuvitelma[^<]*<a [^>]*'
                     r'href="#content-protection"', page)


# --- 2. closing asks first --------------------------------------------------------------------


def test_closing_asks_first_on_a_page_of_its_own_and_cancel_goes_back(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "")
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    # The handover's page only leads to the confirmation: no form there closes it.
    assert f'action="/handovers/{hid}/close"' not in page
    assert re.search(rf'<a [^>]*href="/handovers/{hid}/close"[^>]*>Close the handover</a>', page)

    confirm = client.get(f"/handovers/{hid}/close")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    text = seen(html)
    assert re.search(rf"<title>Close handover #{hid}\? – Handover</title>", html)
    assert "Close the handover?" in text
    assert "neither your unit nor the sender can write replies any more" in text
    assert re.search(r"The content and its attachments are erased on \d[\d./]*\d\. The log "
                     r"of who saw and did what is kept\.", text)
    assert "Closing cannot be undone." in text
    assert re.search(rf'<form method="post" action="/handovers/{hid}/close"', html)
    assert re.search(rf'<a class="govuk-link" href="/handovers/{hid}">Cancel</a>', html)
    with app.app_context():
        assert db.session.get(Handover, hid).closed_at is None  # asking closes nothing
    assert audit_count(app, "handover.closed", hid) == 0

    closed = client.post(f"/handovers/{hid}/close", follow_redirects=True)
    assert "The handover was closed" in closed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Handover, hid).closed_at is not None
    assert audit_count(app, "handover.closed", hid) == 1
    # Closed: the confirmation is no longer offered; the handover's page says why.
    again = client.get(f"/handovers/{hid}/close")
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/handovers/{hid}")


def test_the_confirmation_speaks_finnish_and_refuses_the_sender(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "")
    login_as(client, app, world.users["receiving_receiver"])
    with client.session_transaction() as session:
        session["language"] = "fi"
    text = seen(client.get(f"/handovers/{hid}/close").get_data(as_text=True))
    assert "Suljetaanko tiedonsiirto?" in text
    assert "Sulkemista ei voi perua." in text
    sender = app.test_client()
    login_as(sender, app, world.users["sending_sender"])
    # The sender reads the handover, so it is not "not found": the page says who closes it.
    refused = sender.get(f"/handovers/{hid}/close")
    assert refused.status_code == 303
    assert refused.headers["Location"].endswith(f"/handovers/{hid}")


# --- 3. the receipts' own act ------------------------------------------------------------------


@pytest.mark.parametrize(("receiver", "form_key", "reply_key", "content", "basis", "label"), [
    ("daycare", "daycare_placed_child", "daycare_receipt", demo_handovers.daycare_content,
     "ecec_act_40_41", "Early Childhood Education and Care Act (540/2018), ss. 40–41"),
    ("school", "school_transfer", "school_receipt", demo_handovers.school_content,
     "basic_education_act_40_41", "Basic Education Act (628/1998), ss. 40–41"),
])
def test_a_daycare_or_school_receipt_rests_on_its_own_act_by_default(
        app, client, schools, receiver, form_key, reply_key, content, basis, label):
    with app.app_context():
        hid = send_from_social_work(schools, form_key, receiver, content())
    login_as(client, app, schools.users[f"{receiver}_receiver"])
    page = client.get(f"/handovers/{hid}/reply/{reply_key}").get_data(as_text=True)
    offered = re.findall(r'name="legal_basis" value="([^"]+)"( checked)?', page)
    assert offered[0] == (basis, " checked")
    assert [value for value, checked in offered if checked] == [basis]
    assert "child_welfare_necessary" not in [value for value, _checked in offered]
    assert label in page


# --- 4. the reply form names the child ---------------------------------------------------------


def test_the_reply_form_names_the_child_and_the_handover_audited_as_a_list_row(
        app, client, schools, daycare_handover):
    login_as(client, app, schools.users["daycare_receiver"])
    before = audit_count(app, "handover.listed", daycare_handover)
    page = client.get(f"/handovers/{daycare_handover}/reply/daycare_receipt").get_data(
        as_text=True)
    title = seen(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
    assert title == ("The daycare's acknowledgement and invitation to a start meeting – "
                     "Ella Kuvitelma, A child in care in early childhood education and care "
                     f"#{daycare_handover} – Handover")
    heading = seen(re.search(r"<h1\b.*?</h1>", page, re.S).group(0))
    assert heading == ("Ella Kuvitelma – A child in care in early childhood education and care "
                       f"#{daycare_handover} The daycare's acknowledgement and invitation to a "
                       "start meeting")
    # Reading the child's name is audited once for the page, as a list row showing it is.
    assert audit_count(app, "handover.listed", daycare_handover) == before + 1


# --- 5. finding: sent or received ---------------------------------------------------------------


def test_the_outbox_offers_the_search_and_finds_say_sent_or_received(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])   # a sender only
    outbox = client.get("/handovers/outbox").get_data(as_text=True)
    assert '<form method="post" action="/handovers/find"' in outbox
    assert 'name="identity_code"' in outbox

    found = client.post("/handovers/find", data={"identity_code": CHILD_CODE}).get_data(
        as_text=True)
    assert "Handovers sent by your units" in found
    assert "Handovers received" not in found
    row = seen(re.search(rf'<tr\b(?:(?!</tr>).)*href="/handovers/{hid}".*?</tr>', found,
                         re.S).group(0))
    assert "Receiving unit: Receiving unit" in row
    assert "Sending unit" not in row

    receiver = app.test_client()
    login_as(receiver, app, world.users["receiving_receiver"])
    found = receiver.post("/handovers/find", data={"identity_code": CHILD_CODE}).get_data(
        as_text=True)
    assert "Handovers received" in found and "Handovers sent by your units" not in found
    assert "Sending unit: Sending unit" in seen(found)


# --- 6. a copy unit hears nothing of replies ----------------------------------------------------


def status_cell(page, handover_id):
    for row in re.findall(r"<tr\b.*?</tr>", page, flags=re.S):
        if f'href="/handovers/{handover_id}"' in row:
            return seen(re.search(r'<td[^>]*data-label="Status"[^>]*>(.*?)</td>', row,
                                  re.S).group(1))
    raise AssertionError(f"no row of #{handover_id}")


def test_a_copy_units_inbox_does_not_say_the_handover_was_replied_to(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        receiver = world.user("receiving_receiver")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            receiver, "")
        replies.add_message(access_for(world, "receiving_receiver", hid, "reply"), receiver,
                            "Omahoitaja on Minna.")
    login_as(client, app, world.users["receiving_receiver"])
    assert status_cell(client.get("/handovers/inbox").get_data(as_text=True),
                       hid).startswith("Received, replied")
    copy = app.test_client()
    login_as(copy, app, world.users["copy_receiver"])
    status = status_cell(copy.get("/handovers/inbox").get_data(as_text=True), hid)
    assert status.startswith("Received")
    assert "replied" not in status


# --- 7. the return hint -------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "hint", "option"), [
    ("en", "Required when the reason is “Other reason”.", "Other reason"),
    ("fi", "Pakollinen, jos syy on ”Muu syy”.", "Muu syy"),
    ("sv", "Obligatorisk om orsaken är ”Annan orsak”.", "Annan orsak"),
])
def test_the_return_hint_names_the_option_as_it_reads(app, client, world, language, hint,
                                                      option):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    with client.session_transaction() as session:
        session["language"] = language
    text = seen(client.get(f"/handovers/{hid}/return").get_data(as_text=True))
    assert hint in text
    assert option in text
