"""The data protection officer's review of the audit pages: a person searched for by name in
any form (decomposed letters, two spaces, "Surname, Given name"); a page past the last one
says so; a search by identity code names the searching user's unit and what it found; a draft
whose code was changed is in each child's report only for its own time, under a caption that
says what the rows are; and the child's report can be downloaded as a CSV file."""

import csv
import io
import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    FORM_KEY,
    access_for,
    content,
    draft_with_attachment,
    login_as,
    send_handover,
)
from lifecycle_support import child_report as report
from sqlalchemy import select
from support import create_user

from handover.services import audit_search, drafts
from handover.store import audit
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

OTHER_CHILD = "020594X903P"
SEARCHED = "Handovers searched by identity code"


def table_of(page):
    return page.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in page else ""


def cells_of(page):
    """Each row of the page's event table as its cells' texts."""
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)]
            for row in table_of(page).split("</tr>") if "<td" in row]


def auditor_of(app, world):
    auditor = app.test_client()
    login_as(auditor, app, world.users["auditor"])
    return auditor


# 3. The user filter reads a name however it was typed.

@pytest.fixture
def tiina(app, world):
    """Tiina Mäkelä of the sending unit, who did three things the log records."""
    with app.app_context():
        user = create_user("tiina.makela@example.test", name="Tiina Mäkelä",
                           memberships=[(world.unit("sending"), "sender")])
        for _ in range(3):
            audit.record("auth.login", actor=user)
        db.session.commit()
        return user.id


@pytest.mark.parametrize("typed", [
    "Mäkelä",
    "Ma\u0308kela\u0308",             # decomposed, as some systems paste it
    "Tiina  Mäkelä",                  # two spaces
    "Mäkelä, Tiina",                  # surname first
    "  MÄKELÄ\tTIINA ",
    "Tiina Ma\u0308kela\u0308",
])
def test_a_name_typed_in_any_form_or_order_finds_the_person(app, world, tiina, typed):
    _, table, _ = filtered(auditor_of(app, world), {"user": typed})
    assert table.count("Tiina Mäkelä") == 3, typed


@pytest.mark.parametrize("typed", ["Mäkelä Pekka", "Tiina Virtanen"])
def test_every_word_must_match(app, world, tiina, typed):
    _, table, _ = filtered(auditor_of(app, world), {"user": typed})
    assert "Tiina Mäkelä" not in table


def test_the_words_of_a_person_searched_for():
    assert audit_search.person_words("Ma\u0308kela\u0308,  TIINA  mäkelä") == [
        "mäkelä", "tiina"]
    assert audit_search.person_words(" , ") == []


def filtered(client, query):
    response = client.get("/audit/", query_string=query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page, table_of(page), response


# 5. A page past the last one.

def test_a_page_past_the_last_says_so_and_links_to_the_last_page(app, world, monkeypatch):
    monkeypatch.setattr(audit_search, "PER_PAGE", 2)
    with app.app_context():
        send_handover(world)
        events = db.session.execute(select(AuditEvent.id)).all()
    pages = -(-len(events) // 2)
    assert pages > 1
    auditor = auditor_of(app, world)
    page, table, _ = filtered(auditor, {"page": "99999999999999"})
    assert table == ""
    assert "No events match" not in page
    assert (f"There is no page 99999999999999: the events that match are on pages 1 to "
            f"{pages}.") in page
    assert f'href="/audit/?page={pages}"' in page and "Go to the last page" in page
    assert 'href="/audit/"' in page and "Go to the first page" in page
    # The filters are kept in the links; a search that found nothing still says so.
    page, _, _ = filtered(auditor, {"page": "5", "action": "handover.sent"})
    assert "There is no page 5: the events that match fit on one page." in page
    assert "Go to the last page" not in page
    assert 'href="/audit/?action=handover.sent"' in page
    page, _, _ = filtered(auditor, {"page": "5", "action": "handover.sent",
                                    "since": "1.1.2000", "until": "2.1.2000"})
    assert "No events match" in page and "There is no page" not in page


def test_a_page_past_the_last_in_finnish(app, world):
    with app.app_context():
        send_handover(world)
    auditor = auditor_of(app, world)
    auditor.post("/language", data={"language": "fi", "next": "/"})
    page, _, _ = filtered(auditor, {"page": "7"})
    assert "Sivua 7 ei ole" in page and "Siirry ensimmäiselle sivulle" in page


# 2. A search by identity code names the searcher's unit and what it found.

def test_a_search_names_the_searchers_unit_and_what_it_found(app, world):
    searcher = app.test_client()
    login_as(searcher, app, world.users["sending_sender"])
    searcher.post("/handovers/find", data={"identity_code": OTHER_CHILD})
    with app.app_context():
        [event] = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.searched")).scalars()
        assert event.unit_id == world.units["sending"].id
    auditor = auditor_of(app, world)
    _, table, _ = filtered(auditor, {"unit": world.units["sending"].id,
                                     "action": "handover.searched"})
    assert f"{SEARCHED}: nothing found" in table
    _, table, _ = filtered(auditor, {"unit": world.units["receiving"].id,
                                     "action": "handover.searched"})
    assert SEARCHED not in table


def test_a_search_that_found_something_says_how_many(app, world):
    with app.app_context():
        send_handover(world)
    searcher = app.test_client()
    login_as(searcher, app, world.users["receiving_receiver"])
    searcher.post("/handovers/find", data={"identity_code": CHILD_CODE})
    _, table, _ = filtered(auditor_of(app, world), {"action": "handover.searched"})
    assert f"{SEARCHED}: 1 found" in table
    _, rows = report(auditor_of(app, world))
    assert [row[3] for row in rows if row[3].startswith(SEARCHED)] == [f"{SEARCHED}: 1 found"]


def test_a_search_by_someone_of_several_units_is_found_by_each(app, world):
    with app.app_context():
        user = create_user("two.units@example.test", name="Two Units", memberships=[
            (world.unit("sending"), "sender"), (world.unit("copy"), "receiver")])
        user_id = user.id
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    searcher = app.test_client()
    login_as(searcher, app, user)
    searcher.post("/handovers/find", data={"identity_code": OTHER_CHILD})
    with app.app_context():
        [event] = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.searched", AuditEvent.actor_id == user_id)).scalars()
        assert event.unit_id is None
    auditor = auditor_of(app, world)
    for unit, finds in (("sending", True), ("copy", True), ("receiving", False),
                        ("other", False)):
        _, table, _ = filtered(auditor, {"unit": world.units[unit].id,
                                         "action": "handover.searched"})
        assert ("Two Units" in table) is finds, unit


# 1. A draft whose code was changed: each child's report has it for its own time.

def recoded_draft(app, world):
    """The reviewer's repro: a draft saved with one child's code, a PDF attached and
    downloaded, the code changed to another child's, previewed, discarded."""
    draft_id = draft_with_attachment(app, world, CHILD_CODE)
    with app.app_context():
        sender = world.user("sending_sender")
        draft = db.session.get(Handover, draft_id)
        drafts.save(sender, draft, content(child_identity_code=OTHER_CHILD))
        drafts.open_for_editing(access_for(world, "sending_sender", draft.id, "edit"), sender,
                                page="preview")
        draft_id = draft.id
        drafts.discard(sender, db.session.get(Handover, draft_id))
        return draft_id


def happened(rows, handover_id):
    return [row[3].split(" ×")[0] for row in rows if row[4] == f"#{handover_id}"]


def test_a_recoded_draft_is_in_each_childs_report_only_for_its_own_time(app, world):
    draft = recoded_draft(app, world)
    page, first = report(auditor_of(app, world), CHILD_CODE)
    first_events = happened(first, draft)
    assert "Draft saved" in first_events
    assert any("ttachment" in what for what in first_events), first_events
    assert "Draft opened" not in first_events      # the preview, after the code changed
    assert "Draft deleted" not in first_events
    page, second = report(auditor_of(app, world), OTHER_CHILD)
    second_events = happened(second, draft)
    assert "Draft saved" in second_events and "Draft deleted" in second_events
    assert "Draft opened" in second_events
    assert not any("ttachment" in what for what in second_events), second_events
    assert len(first_events) + len(second_events) >= 6


def test_a_recoded_drafts_events_are_captioned_as_draft_events(app, world):
    draft = recoded_draft(app, world)
    for code in (CHILD_CODE, OTHER_CHILD):
        page, _ = report(auditor_of(app, world), code)
        assert "0 handovers found." in page
        assert "Searches for this child" not in page
        assert "Events on drafts while they named this child" in page
        assert f"given another identity code or none: #{draft}." in page


def test_a_search_beside_a_recoded_draft_is_captioned_as_both(app, world):
    draft = recoded_draft(app, world)
    searcher = app.test_client()
    login_as(searcher, app, world.users["receiving_receiver"])
    searcher.post("/handovers/find", data={"identity_code": CHILD_CODE})
    page, rows = report(auditor_of(app, world), CHILD_CODE)
    assert ("Events on drafts while they named this child, and searches for this child, "
            "oldest first") in page
    assert happened(rows, draft)


def test_a_sent_handover_whose_draft_had_another_code_first(app, world):
    """Saved with the wrong child's code, corrected, sent: the sent handover is the second
    child's and lists every event since the correction; the first child's report keeps only
    the saves and reads before it, as a draft that is no handover of theirs."""
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content(child_identity_code=OTHER_CHILD))
        drafts.open_for_editing(access_for(world, "sending_sender", draft.id, "edit"), sender)
        drafts.save(sender, draft, content())
        from handover.services import sending
        sent = sending.send(sender, draft, "token-for-the-test-1234", now=None).id
    page, wrong = report(auditor_of(app, world), OTHER_CHILD)
    assert "Draft saved" in happened(wrong, sent)
    assert "Handover sent" not in happened(wrong, sent)
    assert "Events on drafts while they named this child, oldest first" in page
    page, right = report(auditor_of(app, world), CHILD_CODE)
    assert "Handover sent" in happened(right, sent)
    assert "Events on these handovers" in page and f"#{sent}:" in page
    assert happened(right, sent).count("Draft saved") == 1


def test_a_handover_with_no_naming_event_keeps_all_its_events(app, world):
    """A draft whose row names the child though no save named them in its event (saved
    before saves did): every event of it is the child's."""
    from handover.security import crypto

    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        draft.identity_hash = crypto.identity_hash(CHILD_CODE)
        db.session.commit()
        drafts.open_for_editing(access_for(world, "sending_sender", draft.id, "edit"), sender)
        draft_id = draft.id
    _, rows = report(auditor_of(app, world))
    assert {"Draft created", "Draft opened"} <= set(happened(rows, draft_id))
    _, rows = report(auditor_of(app, world), OTHER_CHILD)
    assert not happened(rows, draft_id)


# 4. The report as a CSV file.

def download(client, code=CHILD_CODE, language="en"):
    client.post("/language", data={"language": language, "next": "/"})
    return client.post("/audit/child-report/download", data={"identity_code": code})


def test_the_report_downloads_as_csv_excel_opens(app, world):
    with app.app_context():
        user = create_user("aino@example.test", name="Äinö Åström",
                           memberships=[(world.unit("sending"), "sender")])
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    searcher = app.test_client()
    login_as(searcher, app, user)
    searcher.post("/handovers/find", data={"identity_code": CHILD_CODE})
    auditor = auditor_of(app, world)
    page, rows = report(auditor)
    assert "Download the events (CSV file)" in page
    assert "/audit/child-report/download" in page and CHILD_CODE not in page.split(
        "/audit/child-report/download")[0].split("<form")[-1]
    response = download(auditor)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    assert CHILD_CODE not in disposition and CHILD_CODE[:6] not in disposition
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Time", "Who", "Unit", "What happened", "Handover", "Outcome",
                        "Client address"]
    # The rows the page showed ("—" for nothing, an empty cell in the file), then the view.
    assert [row[1:5] for row in table[1:len(rows) + 1]] == [
        [cell if cell != "—" else "" for cell in row[1:5]] for row in rows]
    assert table[-1][3] == "Report for one child viewed"
    assert ["Äinö Åström", "Sending unit", f"{SEARCHED}: nothing found"] in [
        row[1:4] for row in table[1:]]


def test_the_download_is_audited_and_in_the_childs_report(app, world):
    auditor = auditor_of(app, world)
    assert download(auditor).status_code == 200
    with app.app_context():
        [detail] = db.session.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "audit.child_report")).scalars()
        assert '"format": "csv"' in detail and CHILD_CODE not in detail
    _, rows = report(auditor)
    assert "Report for one child downloaded" in [row[3] for row in rows]


def test_the_download_is_post_only_and_refuses_a_bad_code(app, world):
    auditor = auditor_of(app, world)
    assert auditor.get(f"/audit/child-report/download?identity_code={CHILD_CODE}"
                       ).status_code == 405
    response = download(auditor, "010594Y9033")
    assert response.status_code == 400 and response.mimetype == "text/html"
    with app.app_context():
        assert not db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "audit.child_report")).first()
    other = app.test_client()
    login_as(other, app, world.users["admin"])
    assert download(other).status_code == 404


def test_the_download_in_finnish(app, world):
    with app.app_context():
        send_handover(world)
    text = download(auditor_of(app, world), language="fi").get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Aika;Kuka;")
    assert "Luonnos tallennettu" in text


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(app):
    from datetime import UTC, datetime

    from handover.services.access_report import EventRow
    from handover.web.audit_log import report_csv

    now = datetime(2026, 3, 14, 12, tzinfo=UTC)
    row = EventRow(first_at=now, last_at=now, action="auth.login_failed", label="Sign-in failed",
                   count=1, person='=HYPERLINK("http://example.test")', person_detail="",
                   unit_id=None, handover_id=None, outcome="Refused", client_address="")
    with app.test_request_context("/"):
        text = report_csv([row], {})
    [_header, cells] = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")),
                                       delimiter=";"))
    assert cells[1] == "'=HYPERLINK(\"http://example.test\")"


def test_the_files_times_say_their_offset_from_utc(app):
    """3.30 on the last Sunday of October happens twice in Finland: two views an hour apart
    read the same in the file, which leaves the page that says whose time it is."""
    from datetime import UTC, datetime

    from handover.services.access_report import EventRow
    from handover.web.audit_log import report_csv

    def row(at):
        return EventRow(first_at=at, last_at=at, action="handover.printed", label="Printed",
                        count=1, person="Tiina", person_detail="", unit_id=None,
                        handover_id=7, outcome="Done", client_address="")

    summer = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)    # 3.30 EEST
    winter = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)    # 3.30 EET
    with app.test_request_context("/"):
        text = report_csv([row(summer), row(winter)], {})
    times = [cells[0] for cells in csv.reader(io.StringIO(text.removeprefix("\ufeff")),
                                               delimiter=";")][1:]
    assert times[0].endswith("UTC+3") and times[1].endswith("UTC+2")
    assert times[0].removesuffix(" UTC+3") == times[1].removesuffix(" UTC+2")
