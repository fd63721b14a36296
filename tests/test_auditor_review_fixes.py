"""The auditor's review: a draft is in the child's access report from its first save with the
child's identity code (colleagues opening it, its attachments, its preview), and stays there
when it is discarded or its code changes; the audit log names the child only by the keyed
hash. The audit log's filters never fall back to the whole log; every time on the report page
is written one way, and English dates put the day first as the forms do."""

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
from support import raw_database

from handover.security import crypto
from handover.services import drafts
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
sent = lifecycle_support.sent

#: Another child (valid code), and the reviewer's child of the repro.
OTHER_CHILD = "020594X903P"
DAYCARE_CHILD = "010516B903X"


def what_happened_on(rows, handover_id):
    """The labels (without a fold's ×n) of the report's rows on ``handover_id``."""
    return {row[3].split(" ×")[0] for row in rows if row[4] == f"#{handover_id}"}


def auditor_of(app, world):
    auditor = app.test_client()
    login_as(auditor, app, world.users["auditor"])
    return auditor



def test_a_saved_draft_and_its_reads_are_in_the_childs_report_before_it_is_sent(
        app, client, world, database_backend):
    """The reviewer's repro: a social worker saves a draft with the child's code, attaches a
    file, downloads it and opens the preview; the auditor's report for the child lists the
    draft and each of those events, and another child's report none of them."""
    draft = draft_with_attachment(app, world)
    login_as(client, app, world.users["sending_sender"])
    assert client.get(f"/handovers/{draft}/preview").status_code == 200

    page, rows = report(auditor_of(app, world))
    assert "1 handover found." in page and f"#{draft}:" in page
    assert {"Draft saved", "Attachment added", "Attachment downloaded",
            "Draft opened"} <= what_happened_on(rows, draft)
    _, other_rows = report(auditor_of(app, world), OTHER_CHILD)
    assert not what_happened_on(other_rows, draft)
    with app.app_context():
        assert db.session.get(Handover, draft).identity_hash == crypto.identity_hash(CHILD_CODE)
        assert CHILD_CODE.encode() not in raw_database(database_backend)


def test_the_reviewers_daycare_child_has_the_draft_in_the_report(app, world):
    draft = draft_with_attachment(app, world, DAYCARE_CHILD)
    page, rows = report(auditor_of(app, world), DAYCARE_CHILD)
    assert "1 handover found." in page
    assert "Attachment downloaded" in what_happened_on(rows, draft)


def test_a_discarded_draft_stays_in_the_childs_report(app, world, database_backend):
    """The draft's row is gone, but who opened it and its attachment, and who deleted it,
    is still in the child's report; the discard names the child by the keyed hash only."""
    draft = draft_with_attachment(app, world)
    with app.app_context():
        drafts.discard(world.user("sending_sender"), db.session.get(Handover, draft))
        [discarded] = db.session.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "handover.draft_discarded")).scalars()
        assert crypto.identity_hash(CHILD_CODE) in discarded and CHILD_CODE not in discarded
        assert CHILD_CODE.encode() not in raw_database(database_backend)

    _, rows = report(auditor_of(app, world))
    assert {"Draft saved", "Attachment added", "Attachment downloaded",
            "Draft deleted"} <= what_happened_on(rows, draft)
    _, other_rows = report(auditor_of(app, world), OTHER_CHILD)
    assert not what_happened_on(other_rows, draft)


def test_a_draft_discarded_after_a_save_before_the_fix_still_names_the_child(app, world):
    """A draft last saved before drafts kept the hash has the code only in its content: its
    discard still names the child (read from the sealed content), so the report finds it."""
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        draft_id = draft.id
        draft.identity_hash = None          # as an older save left it
        db.session.commit()
        drafts.discard(sender, db.session.get(Handover, draft_id))
    _, rows = report(auditor_of(app, world))
    assert "Draft deleted" in what_happened_on(rows, draft_id)


def test_a_drafts_code_changed_or_removed_keeps_it_in_each_childs_report(app, world):
    """Typed with one child's code, then another's, then none: the hash follows the content,
    and each child's report keeps the draft it once named."""
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        drafts.save(sender, draft, content(child_identity_code=OTHER_CHILD))
        assert draft.identity_hash == crypto.identity_hash(OTHER_CHILD)
        drafts.save(sender, draft, content(child_identity_code=""))
        assert draft.identity_hash is None
        draft_id = draft.id
    for code in (CHILD_CODE, OTHER_CHILD):
        _, rows = report(auditor_of(app, world), code)
        assert "Draft saved" in what_happened_on(rows, draft_id), code


def test_a_sent_handover_keeps_the_hash_the_draft_had(app, world):
    with app.app_context():
        sent = send_handover(world)
        assert db.session.get(Handover, sent).identity_hash == crypto.identity_hash(CHILD_CODE)


def test_a_draft_is_not_found_by_a_search_of_the_childs_handovers(app, client, world):
    """The hash on a draft reaches the auditor's report only: a search by the child's code
    still lists sent handovers, never someone's unsent draft."""
    draft = draft_with_attachment(app, world)
    login_as(client, app, world.users["sending_sender"])
    page = client.post("/handovers/find", data={"identity_code": CHILD_CODE})
    assert f"/handovers/{draft}\"" not in page.get_data(as_text=True)


# The audit log's filters (defect 2).

def filtered(client, query, language="en"):
    """The audit log page for ``query``: the page, its event table, its fields' messages."""
    client.post("/language", data={"language": language, "next": "/"})
    response = client.get(f"/audit/?{query}")
    page = response.get_data(as_text=True)
    table = page.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in page else ""
    messages = [unescape(re.sub(r"<[^>]+>", "", message)).strip() for message in
                re.findall(r'<p class="field__error"[^>]*>(.*?)</p>', page, re.S)]
    return page, table, messages


@pytest.fixture
def two_handovers(app, world):
    with app.app_context():
        return send_handover(world), send_handover(world)


def test_one_invalid_filter_shows_no_events_rather_than_the_whole_log(
        app, client, world, two_handovers):
    """The reviewer's repro: a handover number the form cannot read beside a user filter
    gave the error and then the newest events of everyone."""
    login_as(client, app, world.users["auditor"])
    page, table, messages = filtered(client, "handover=abc&user=omahoitaja")
    assert messages == ["Enter the number of a handover, for example 1234."]
    assert table == "" and "Events, newest first" not in page
    assert "Correct the filters above to see the events." in page
    assert 'value="omahoitaja"' in page   # what was typed is kept for correcting


def test_a_handover_number_with_a_hash_is_read_as_the_number(app, client, world,
                                                             two_handovers):
    first, second = two_handovers
    login_as(client, app, world.users["auditor"])
    _, table, messages = filtered(client, f"handover=%23{second}")
    assert messages == []
    assert f"#{second}<" in table and f"#{first}<" not in table
    _, table, messages = filtered(client, "handover=%23")
    assert messages == ["Enter the number of a handover, for example 1234."] and table == ""


@pytest.mark.parametrize("query, message", [
    ("handover=0", "Enter the number of a handover, for example 1234."),
    ("handover=7x", "Enter the number of a handover, for example 1234."),
    ("since=31.2.2026", "Enter a date, for example 31.12.2015."),
    ("until=yesterday", "Enter a date, for example 31.12.2015."),
    ("unit=999999", "Choose one of the options."),
    ("action=handover.nothing_such", "Choose one of the options."),
    ("user=" + "a" * 255, "Enter at most 254 characters."),
])
def test_each_filter_refused_says_so_in_the_apps_words_and_shows_nothing(
        app, client, world, two_handovers, query, message):
    login_as(client, app, world.users["auditor"])
    _, table, messages = filtered(client, query)
    assert messages == [message]
    assert table == ""


def test_a_period_ending_before_it_starts_is_refused_on_the_to_date(app, client, world,
                                                                    two_handovers):
    login_as(client, app, world.users["auditor"])
    page, table, messages = filtered(client, "since=6.12.2026&until=5.12.2026")
    assert messages == ["Enter a date on or after the From date."]
    assert table == ""
    assert re.search(r'id="until-error">Enter a date on or after the From date\.<', page)
    _, _, messages = filtered(client, "since=6.12.2026&until=6.12.2026")
    assert messages == []


@pytest.mark.parametrize("language, words", [
    ("fi", "Anna sama tai myöhempi päivämäärä kuin alkupäivämäärä."),
    ("sv", "Ange samma eller ett senare datum än startdatumet."),
])
def test_the_new_messages_are_in_finnish_and_swedish(app, client, world, language, words):
    login_as(client, app, world.users["auditor"])
    _, _, messages = filtered(client, "since=6.12.2026&until=5.12.2026", language)
    assert messages == [words]


# One way of writing a date and time (defect 3).

#: A time as the report page writes each one ("medium"): "6 Dec 2026, 18.24.45" in English,
#: "6 dec. 2026 18.24.45" in Swedish, "6.12.2026 18.24.45" in Finnish.
MEDIUM = {"en": r"\d{1,2}\.\d{1,2}\.\d{4}, \d{1,2}\.\d{2}\.\d{2}",
          "sv": r"\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}\.\d{2}\.\d{2}",
          "fi": r"\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}\.\d{2}\.\d{2}"}
#: How a date is never written: 06/12/2026 is the 12th of June to many readers.
SLASHED = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}")


@pytest.mark.parametrize("language", ["en", "sv", "fi"])
def test_the_report_page_writes_every_time_one_way(app, world, language, sent):
    """The handover's sending time and the events' times on the access report read alike
    (the reviewer saw "06/12/2026, 18.23" beside "6 Dec 2026, 18.24.45")."""
    page, rows = report(auditor_of(app, world), language=language)
    [sent_line] = re.findall(rf"<li>#{sent}:(.*?)</li>", page, re.S)
    assert re.search(rf", {MEDIUM[language]}$", unescape(sent_line).strip()), sent_line
    assert rows and all(re.fullmatch(MEDIUM[language], time.strip())
                        for row in rows for time in row[0].split(" – "))
    assert not SLASHED.search(page)


def test_english_staff_pages_write_dates_day_first_as_the_forms_do(app, client, world, sent):
    login_as(client, app, world.users["sending_sender"])   # English (lifecycle_support)
    page = client.get("/handovers/outbox").get_data(as_text=True)
    assert not SLASHED.search(page)
    assert re.search(r"\b\d{1,2}\.\d{1,2}\.\d{4}, \d{1,2}\.\d{2}\b", page)


@pytest.mark.parametrize("language, written", [
    ("en", "6.12.2026, 18.23 | 6.12.2026 | 6.12.2026, 18.23.45"),
    ("fi", "6.12.2026 18.23 | 6.12.2026 | 6.12.2026 18.23.45"),
    ("sv", "6.12.2026 18.23 | 6.12.2026 | 6.12.2026 18.23.45"),
])
def test_system_dates_are_unambiguous_in_every_language(app, language, written):
    from datetime import UTC, datetime

    from flask import session

    moment = datetime(2026, 12, 6, 16, 23, 45, tzinfo=UTC)   # 18.23.45 in Helsinki
    with app.test_request_context("/"):
        session["language"] = language
        assert app.jinja_env.from_string(
            "{{ v|datetimeformat('short') }} | {{ v|dateformat('short') }}"
            " | {{ v|datetimeformat('medium') }}").render(v=moment) == written


def test_a_correction_draft_is_in_the_childs_report_from_its_start(app, world):
    """A correction starts as a draft carrying the sent handover's content: the child's report
    lists it, and the start of the correction, before anyone saves it."""
    from handover.services import withdrawal

    with app.app_context():
        sent = send_handover(world)
        correction = withdrawal.correct(access_for(world, "sending_sender", sent, "correct"),
                                        world.user("sending_sender"))
        correction_id = correction.id
    page, rows = report(auditor_of(app, world))
    assert f"#{correction_id}:" in page
    assert "Correction started" in what_happened_on(rows, correction_id)
