"""The per-child access report answers "who has seen my child's data": every look-up that
showed the child's handovers, every search by the child's identity code (also one that found
nothing, also for a child with no handovers), and every auditor who looked at the report; the
audit names the child only by the keyed hash. Fill once takes answers from a real form, never
from a placement update. A notice reads as what it was: an e-mail to a unit, a webhook to an
integration."""

import json

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, CHILD_NAME, FORM_KEY, access_for, login_as, send_handover
from lifecycle_support import child_report as report
from sqlalchemy import func, select
from support import raw_database

from handover.security import crypto
from handover.services import LifecycleError, deliveries, drafts, prefill, updates, webhooks
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

#: A child with no handovers at all.
OTHER_CHILD = "020594X903P"
SHOWN = "Shown in the list of the child's earlier handovers"
LOOKED_UP = "Earlier handovers looked up"
SEARCHED = "Handovers searched by identity code"
REPORT_VIEWED = "Report for one child viewed"
UPDATE = {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
          "change_kind": "moved", "effective_date": "2026-12-01",
          "details": "Uusi sijoituspaikka, yhteystiedot sosiaalityöstä"}


def rows_saying(rows, words):
    return [row for row in rows if any(cell.startswith(words) for cell in row)]


def new_draft(world):
    return drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                        world.unit("receiving"), [], "lsl_disclosure").id


def details(action):
    return [event.detail for event in db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action)).scalars()]


def test_a_look_up_from_a_draft_names_each_handover_shown_in_the_childs_report(
        app, client, world, database_backend):
    """A social worker posts the child's code on a fresh draft's journey page and is shown
    the child's two handovers: the auditor sees the look-up on the draft and, on each of the
    two, that it was shown, by whom and for which unit."""
    with app.app_context():
        first, second = send_handover(world), send_handover(world)
        send_handover(world, child_identity_code=OTHER_CHILD, child_name="Toinen Lapsi")
        draft = new_draft(world)
    login_as(client, app, world.users["sending_sender"])
    page = client.post(f"/handovers/{draft}/journey", data={"identity_code": CHILD_CODE})
    assert f'/handovers/{first}"' in page.get_data(as_text=True)

    auditor = app.test_client()
    login_as(auditor, app, world.users["auditor"])
    _, rows = report(auditor)
    looked_up = rows_saying(rows, LOOKED_UP)
    assert [(row[1], row[2], row[4]) for row in looked_up] == [
        ("Sending.Sender", "Sending unit", f"#{draft}")]
    shown = rows_saying(rows, SHOWN)
    assert sorted((row[1], row[2], row[4]) for row in shown) == sorted(
        ("Sending.Sender", "Sending unit", f"#{handover}") for handover in (first, second))
    _, other_rows = report(auditor, OTHER_CHILD)
    assert not rows_saying(other_rows, LOOKED_UP) and not rows_saying(other_rows, SHOWN)
    with app.app_context():
        child = crypto.identity_hash(CHILD_CODE)
        assert any(child in detail for detail in details("handover.earlier_looked_up"))
        assert CHILD_CODE.encode() not in raw_database(database_backend)


def test_a_search_that_found_nothing_is_in_the_childs_report(app, client, world):
    """Someone outside the case searches by the child's code and finds nothing: the child's
    report still names them; another child's report does not."""
    with app.app_context():
        send_handover(world)
    outsider = app.test_client()
    login_as(outsider, app, world.users["other_receiver"])
    page = outsider.post("/handovers/find", data={"identity_code": CHILD_CODE})
    assert page.status_code == 200
    login_as(client, app, world.users["auditor"])
    _, rows = report(client)
    assert [(row[1], row[4]) for row in rows_saying(rows, SEARCHED)] == [("Other.Receiver", "—")]
    _, other_rows = report(client, OTHER_CHILD)
    assert not rows_saying(other_rows, SEARCHED)
    with app.app_context():
        [detail] = details("handover.searched")
        assert crypto.identity_hash(CHILD_CODE) in detail and CHILD_CODE not in detail


def test_a_child_with_no_handovers_has_a_report_of_the_searches_for_them(
        app, client, world, database_backend):
    searcher = app.test_client()
    login_as(searcher, app, world.users["sending_sender"])
    searcher.post("/handovers/find", data={"identity_code": OTHER_CHILD})
    login_as(client, app, world.users["auditor"])
    page, rows = report(client, OTHER_CHILD)
    assert "0 handovers found." in page
    assert "Searches for this child, oldest first" in page
    assert [row[1] for row in rows_saying(rows, SEARCHED)] == ["Sending.Sender"]
    with app.app_context():
        assert OTHER_CHILD.encode() not in raw_database(database_backend)


def test_the_childs_report_names_the_auditors_who_looked_at_it(app, client, world):
    """Who looked at this child's report: each earlier view is in it (not the view being
    shown, and not views of another child's report)."""
    with app.app_context():
        send_handover(world)
    login_as(client, app, world.users["auditor"])
    report(client)
    report(client)
    report(client, OTHER_CHILD)
    _, rows = report(client)
    viewed = rows_saying(rows, REPORT_VIEWED)
    assert [(row[3], row[1]) for row in viewed] == [(f"{REPORT_VIEWED} ×2", "Auditor")]
    _, other_rows = report(client, OTHER_CHILD)
    assert [row[3] for row in rows_saying(other_rows, REPORT_VIEWED)] == [REPORT_VIEWED]
    with app.app_context():
        named = [detail for detail in details("audit.child_report")
                 if crypto.identity_hash(CHILD_CODE) in detail]
        assert len(named) == 3 and not any(CHILD_CODE in detail for detail in named)


def test_fill_once_passes_over_placement_updates_for_the_real_form(app, client, world):
    """After updates of the placement were sent, the journey page offers the child's real
    handover to take answers from, and an update cannot be chosen by posting its number."""
    with app.app_context():
        original = send_handover(world)
        sent = updates.send_update(access_for(world, "sending_sender", original, "update"),
                                   world.user("sending_sender"), dict(UPDATE), language="en")
        update = sent[0].id
        draft = new_draft(world)
        # Answers are taken over only into a draft that has the child's code saved.
        drafts.save(world.user("sending_sender"), db.session.get(Handover, draft),
                    {"child_identity_code": CHILD_CODE})
        granted = access_for(world, "sending_sender", draft, "edit")
        assert prefill.scopes(granted.handover, db.session.get(Handover, update)) == []
        with pytest.raises(LifecycleError):
            prefill.take_over(granted, world.user("sending_sender"),
                              db.session.get(Handover, update), "shared")
    login_as(client, app, world.users["sending_sender"])
    page = client.post(f"/handovers/{draft}/journey",
                       data={"identity_code": CHILD_CODE}).get_data(as_text=True)
    assert f'name="source" value="{original}"' in page
    assert f'name="source" value="{update}"' not in page and "Take over all answers" in page
    assert client.post(f"/handovers/{draft}/prefill",
                       data={"source": update, "scope": "shared"}).status_code == 404
    client.post(f"/handovers/{draft}/prefill", data={"source": original, "scope": "whole"})
    with app.app_context():
        taken = drafts.content_of(db.session.get(Handover, draft))
        assert taken["placement_address"] == lifecycle_support.ADDRESS
        assert taken["health_notes"] == lifecycle_support.FREE_TEXT_MARKER


@pytest.mark.parametrize(("language", "email", "webhook", "no_request"), [
    ("en", "E-mail notice sent to the unit (it names no child)",
     "Notice delivered to an integration's webhook (no content)", "None: done on the server"),
    ("fi", "Sähköposti-ilmoitus lähetetty yksikölle (ei nimeä lasta)",
     "Ilmoitus toimitettu integraation webhook-osoitteeseen (ei sisältöä)",
     "Ei ole: tehty palvelimella"),
    ("sv", "E-postmeddelande skickat till enheten (nämner inget barn)",
     "Meddelande levererat till en integrations webhook (inget innehåll)",
     "Ingen: gjort på servern"),
], ids=["en", "fi", "sv"])
def test_notices_read_by_their_channel(app, client, world, monkeypatch, language, email,
                                       webhook, no_request):
    """The arrival e-mails and an integration's webhook, delivered by the worker: each reads
    as what it was, for the unit it went to, done by the service on the server; none reads
    as a delivery to an integration that it was not."""
    monkeypatch.setitem(app.extensions, deliveries.SENDERS,
                        {deliveries.EMAIL: lambda row: None,
                         deliveries.WEBHOOK: lambda row: None})
    with app.app_context():
        webhooks.create_endpoint(world.user("admin"), world.units["receiving"].id,
                                 "https://integration.example.test/hook", ["arrived"])
        send_handover(world, copies=False)
        assert {row.channel for row in deliveries.deliver_due()} == {"email", "webhook"}
    login_as(client, app, world.users["auditor"])
    _, rows = report(client, language=language)
    by_email, by_webhook = rows_saying(rows, email), rows_saying(rows, webhook)
    assert by_email and by_webhook
    assert {(row[2], row[6]) for row in by_email + by_webhook} == {("Receiving unit", no_request)}
    assert not rows_saying(rows, "Delivered to an integration")
    assert not any(row[6] == "cli" for row in rows)


def test_reading_a_handover_names_each_earlier_handover_it_showed(app, client, world):
    """The reading page shows the child's earlier handovers the reader's unit sent or received:
    each of them gets its own "shown" event, written with the view's own commit."""
    with app.app_context():
        first, second = send_handover(world), send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{second}").get_data(as_text=True)
    assert f'/handovers/{first}"' in page
    with app.app_context():
        shown = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.earlier_shown")).scalars().all()
        assert [(event.handover_id, json.loads(event.detail)) for event in shown] == [
            (first, {"looked_up_on": second})]
    auditor = app.test_client()
    login_as(auditor, app, world.users["auditor"])
    _, rows = report(auditor)
    assert any(str(first) in " ".join(row) for row in rows_saying(rows, SHOWN))


def test_a_probe_of_an_id_not_yet_given_is_not_in_the_later_childs_report(app, client, world):
    """Someone tries ids that name no handover yet. When the id is later given to a child's
    handover, that child's report must not say they tried to read its data before it existed;
    a refused read of the handover once it exists is in it."""
    with app.app_context():
        newest = db.session.execute(select(func.max(Handover.id))).scalar() or 0
    outsider = app.test_client()
    login_as(outsider, app, world.users["other_receiver"])
    for probed in range(newest + 1, newest + 4):
        assert outsider.get(f"/handovers/{probed}").status_code == 404
    with app.app_context():
        sent_id = send_handover(world)
        assert newest < sent_id <= newest + 3   # one of the probed ids (drafts take the others)
        [probe] = [event for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "handover.access_denied")) if f'"requested_id": {sent_id}'
            in (event.detail or "")]
        assert probe.handover_id is None
    login_as(client, app, world.users["auditor"])
    _, rows = report(client)
    assert not rows_saying(rows, "Access refused")
    assert outsider.get(f"/handovers/{sent_id}").status_code == 404
    _, rows = report(client)
    assert [row[1] for row in rows_saying(rows, "Access refused")] == ["Other.Receiver"]
