"""The handover journey through the web pages: write, preview, send, inbox, open, acknowledge,
reply, outbox; forged routes refused; a send posted twice makes one handover."""

import re

import lifecycle_support
from lifecycle_support import (
    CHILD_CODE,
    CHILD_NAME,
    FORM_KEY,
    FREE_TEXT_MARKER,
    content,
    handover,
    login_as,
    send_handover,
    tampered_handover,
)
from sqlalchemy import func, select
from support import count_handovers

from handover.store.database import db
from handover.store.models import AuditEvent

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
WITHDRAWN = lifecycle_support.WITHDRAWN
world = lifecycle_support.world



def _start_draft(client, world):
    sending = world.units["sending"]
    response = client.get("/handovers/new")
    assert response.status_code == 200
    assert f"{sending.id}:{FORM_KEY}" in response.get_data(as_text=True)
    response = client.post("/handovers/new", data={"choice": f"{sending.id}:{FORM_KEY}"})
    assert response.status_code == 302
    response = client.post(response.headers["Location"], data={
        "receiver": str(world.units["receiving"].id),
        "copies": [str(world.units["copy"].id)],
        "legal_basis": "lsl_disclosure",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/handovers/(\d+)/edit", response.headers["Location"]).group(1))


def test_sender_writes_previews_and_sends_and_receiver_reads_acknowledges_replies(
        app, client, world):
    login_as(client, app, world.users["sending_sender"])
    draft_id = _start_draft(client, world)

    # A failed preview keeps everything typed.
    incomplete = content(child_name="")
    response = client.post(f"/handovers/{draft_id}/edit", data={**incomplete, "preview": "1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert FREE_TEXT_MARKER in page and CHILD_CODE in page
    assert 'class="error-summary"' in page

    response = client.post(f"/handovers/{draft_id}/edit", data={**content(), "save": "1"})
    assert response.status_code == 302
    response = client.post(f"/handovers/{draft_id}/edit", data={**content(), "preview": "1"})
    assert response.headers["Location"].endswith(f"/handovers/{draft_id}/preview")
    page = client.get(f"/handovers/{draft_id}/preview").get_data(as_text=True)
    assert CHILD_NAME in page
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page).group(1)

    first = client.post(f"/handovers/{draft_id}/send", data={"submission_token": token})
    again = client.post(f"/handovers/{draft_id}/send", data={"submission_token": token})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count_handovers(app) == 1

    receiver = app.test_client()
    login_as(receiver, app, world.users["receiving_receiver"])
    inbox = receiver.get("/handovers/inbox").get_data(as_text=True)
    assert CHILD_NAME in inbox and "Sending unit" in inbox
    page = receiver.get(f"/handovers/{draft_id}").get_data(as_text=True)
    assert FREE_TEXT_MARKER in page and "Child Welfare Act, disclosure" in page
    response = receiver.post(f"/handovers/{draft_id}/acknowledge", data={"note": "Welcome"},
                             follow_redirects=True)
    assert "Receipt acknowledged" in response.get_data(as_text=True)
    response = receiver.post(f"/handovers/{draft_id}/acknowledge", data={"note": ""},
                             follow_redirects=True)
    assert "already been acknowledged" in response.get_data(as_text=True)
    receiver.post(f"/handovers/{draft_id}/reply", data={"message": "Arrived and settled"})

    outbox = client.get("/handovers/outbox").get_data(as_text=True)
    assert "Received" in outbox and "replied" in outbox
    page = client.get(f"/handovers/{draft_id}").get_data(as_text=True)
    assert "Arrived and settled" in page and "Receiving unit" in page
    assert world.users["receiving_receiver"].email not in page.split("Replies")[0]


def test_forged_receiver_posted_directly_is_refused_and_nothing_is_stored(app, client, world):
    login_as(client, app, world.users["sending_sender"])
    sending = world.units["sending"]
    response = client.post(f"/handovers/new/{sending.id}/{FORM_KEY}", data={
        "receiver": str(world.units["copy"].id), "legal_basis": "lsl_disclosure"})
    assert response.status_code == 400
    assert count_handovers(app) == 0


def test_sender_of_another_unit_cannot_start_from_this_unit(app, client, world):
    login_as(client, app, world.users["receiving_sender"])
    sending = world.units["sending"]
    response = client.post(f"/handovers/new/{sending.id}/{FORM_KEY}", data={
        "receiver": str(world.units["receiving"].id), "legal_basis": "lsl_disclosure"})
    assert response.status_code == 404
    assert count_handovers(app) == 0


def test_inbox_marks_overdue_and_filters_by_status(app, client, world):
    from datetime import timedelta

    from handover.store.models.base import utcnow

    with app.app_context():
        late = send_handover(world, now=utcnow() - timedelta(hours=30))
        fresh = send_handover(world)
    login_as(client, app, world.users["receiving_lead"])
    page = client.get("/handovers/inbox").get_data(as_text=True)
    assert page.count("Overdue") == 1
    assert page.index(f"#{fresh}") < page.index(f"#{late}")  # newest first
    assert f"#{late}" not in client.get("/handovers/inbox?status=acknowledged").get_data(
        as_text=True)


def test_find_by_identity_code_posts_the_code_and_audits_without_it(app, client, world):
    with app.app_context():
        found = send_handover(world)
        send_handover(world, child_identity_code="020594X903P")
    login_as(client, app, world.users["receiving_receiver"])
    page = client.post("/handovers/find", data={"identity_code": CHILD_CODE.lower()}).get_data(
        as_text=True)
    assert f"#{found}" in page and page.count("/handovers/") >= 1
    assert "020594X903P" not in page
    with app.app_context():
        details = db.session.execute(select(AuditEvent.detail)).scalars().all()
        assert not any(CHILD_CODE in detail for detail in details)


def test_opened_shows_the_unit_not_the_person(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    reader = app.test_client()
    login_as(reader, app, world.users["receiving_receiver"])
    reader.get(f"/handovers/{hid}")
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Receiving unit" in page and "Opened" in page
    assert world.users["receiving_receiver"].name not in page


def test_location_flag_hides_address_from_copy_and_warns_everyone(app, client, world):
    from lifecycle_support import ADDRESS

    with app.app_context():
        hid = send_handover(world, location_hidden="yes")
    login_as(client, app, world.users["copy_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert ADDRESS not in page and "Non-disclosure or hidden location" in page
    assert FREE_TEXT_MARKER not in page  # the health section is not for copies
    receiver = app.test_client()
    login_as(receiver, app, world.users["receiving_receiver"])
    page = receiver.get(f"/handovers/{hid}").get_data(as_text=True)
    assert ADDRESS in page and "Non-disclosure or hidden location" in page


def test_print_view_names_reader_and_is_audited(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}/print").get_data(as_text=True)
    assert "print-header" in page and world.users["receiving_receiver"].name in page
    with app.app_context():
        assert db.session.execute(select(func.count()).where(
            AuditEvent.action == "handover.printed", AuditEvent.handover_id == hid)).scalar() == 1


def test_tampered_content_shows_integrity_error_and_is_audited(app, client, world):
    hid = tampered_handover(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    response = client.get(f"/handovers/{hid}")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "failed its integrity check" in page and "the event was logged" in page
    assert FREE_TEXT_MARKER not in page
    with app.app_context():
        assert db.session.execute(select(func.count()).where(
            AuditEvent.action == "handover.integrity_failed")).scalar() == 1


def test_content_swapped_between_handovers_is_detected(app, client, world):
    with app.app_context():
        first, second = handover(send_handover(world)), handover(send_handover(world))
        first.content, second.content = second.content, first.content
        db.session.commit()
        first_id = first.id
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(f"/handovers/{first_id}").status_code == 409


def test_reply_form_of_the_definition_for_the_receiver(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    assert client.get(f"/handovers/{hid}/reply/ward_reply").status_code == 200
    response = client.post(f"/handovers/{hid}/reply/ward_reply", data={"primary_nurse": ""})
    assert response.status_code == 400
    response = client.post(f"/handovers/{hid}/reply/ward_reply",
                           data={"primary_nurse": "Nurse Noora"}, follow_redirects=True)
    assert "Nurse Noora" in response.get_data(as_text=True)


def test_withdraw_then_receiver_sees_no_content(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN)
    receiver = app.test_client()
    login_as(receiver, app, world.users["receiving_receiver"])
    page = receiver.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "withdrew" in page and FREE_TEXT_MARKER not in page


def test_correct_starts_a_linked_draft(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{hid}/correct")
    assert response.status_code == 302
    new_id = int(re.search(r"/handovers/(\d+)/edit", response.headers["Location"]).group(1))
    page = client.get(f"/handovers/{new_id}/edit").get_data(as_text=True)
    assert f"correction of handover #{hid}" in page and CHILD_NAME in page


def test_home_page_shows_latest_inbox_and_outbox(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get("/").get_data(as_text=True)
    assert f"#{hid}" in page and CHILD_NAME in page
    sender = app.test_client()
    login_as(sender, app, world.users["sending_sender"])
    page = sender.get("/").get_data(as_text=True)
    assert f"#{hid}" in page and "/handovers/new" in page


def test_real_two_step_login_reaches_the_inbox(app, client, world):
    """The fast `login_as` above stands in for this: the real login gives the same access."""
    from support import PASSWORD, create_user, login

    from handover.security.passwords import hash_password

    with app.app_context():
        hid = send_handover(world)
        nurse = create_user("nurse@example.test",
                            memberships=[(world.unit("receiving"), "receiver")])
        nurse.password_hash = hash_password(PASSWORD)  # `world` skips real hashing
        db.session.commit()
        login(client, nurse)
    assert f"#{hid}" in client.get("/handovers/inbox").get_data(as_text=True)
    assert client.get(f"/handovers/{hid}").status_code == 200


def test_state_changes_without_csrf_token_are_refused(app_config, request):
    app_config["WTF_CSRF_ENABLED"] = True
    app = request.getfixturevalue("app")
    made = request.getfixturevalue("world")
    with app.app_context():
        hid = send_handover(made)
    client = app.test_client()
    login_as(client, app, made.users["receiving_receiver"])
    for url in (f"/handovers/{hid}/acknowledge", f"/handovers/{hid}/reply"):
        assert client.post(url, data={"note": "", "message": "x"}).status_code == 400
    with app.app_context():
        assert handover(hid).status == "sent" and not handover(hid).replies


def test_a_list_that_shows_children_logs_a_read_of_each_shown_handover(app, client, world):
    """The inbox shows each child's name: that is a read of client data, so every handover
    whose summary was shown gets its own event (and the per-child report finds it); one that
    shows no summary (withdrawn) is not logged as read. The chain still verifies."""
    from handover.services import withdrawal
    from handover.store import audit

    with app.app_context():
        shown = [send_handover(world), send_handover(world)]
        hidden = send_handover(world)
        granted = lifecycle_support.access_for(world, "sending_sender", hidden, "withdraw")
        withdrawal.withdraw(granted, world.user("sending_sender"))
    reader = world.users["receiving_receiver"]
    login_as(client, app, reader)
    page = client.get("/handovers/inbox").get_data(as_text=True)
    assert CHILD_NAME in page
    with app.app_context():
        listed = db.session.execute(
            select(AuditEvent.handover_id, AuditEvent.actor_id)
            .where(AuditEvent.action == "handover.listed")).all()
        assert sorted(listed) == sorted((h, reader.id) for h in shown)
        assert audit.verify_chain() == (True, None, None)


def test_view_and_print_show_replies_attachments_and_a_sent_correction(app, client, world):
    """Their counts are read with the handover; each list is read only when it has entries."""
    from lifecycle_support import access_for

    from handover.services import attachments, drafts, replies, sending, withdrawal

    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        pdf = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj <<>> endobj\ntrailer<<>>\n%%EOF\n"
        attachments.add(access_for(world, "sending_sender", draft.id, "attach"), sender,
                        "plan.pdf", pdf)
        hid = sending.send(sender, draft, "t-with-file").id
        plain_id = send_handover(world, copies=False)
        replies.add_message(access_for(world, "receiving_receiver", hid),
                            world.user("receiving_receiver"), "Thank you, REPLY-MARKER")
        correction = withdrawal.correct(access_for(world, "sending_sender", hid, "correct"),
                                        sender)
        new_id = sending.send(sender, correction, "t-correction").id
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "REPLY-MARKER" in page and "plan.pdf" in page
    link = f'<a class="govuk-link" href="/handovers/{new_id}">{new_id}</a>'   # the reader's way on
    assert f"A correction of this handover was sent: #{link}" in page
    page = client.get(f"/handovers/{hid}/print").get_data(as_text=True)
    assert f"A correction of this handover was sent: #{link}" in page
    page = client.get(f"/handovers/{plain_id}").get_data(as_text=True)
    assert "No replies yet." in page and "plan.pdf" not in page
    assert "A correction of this handover was sent" not in page
