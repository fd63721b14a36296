"""Defects a reviewer found on the child's journey, each as the user met it: correcting a
handover that a correction already replaced, a placement update posted twice, an update about
a protected child, a child without an identity code, a reroute with no way out, and repeated
withdraw and delete posts."""

import threading

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    CHILD_NAME,
    access_for,
    content,
    handover,
    login_as,
    send_handover,
)
from sqlalchemy import func, select
from support import create_unit, create_user

from handover.cli.demo_extras import pre_placement_content
from handover.services import drafts, reading, returning, sending, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, HandoverCopy, Unit

app_config = lifecycle_support.app_config
WITHDRAWN = lifecycle_support.WITHDRAWN
world = lifecycle_support.world

UPDATE_FORM = {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
               "change_kind": "other", "effective_date": "9.12.2026",
               "details": "Sosiaalityöntekijä vaihtui"}


def flashed(page, category, text):
    return f'<p class="flash flash--{category}">{text}' in page


def replacing(app, handover_id):
    """Ids of the handovers (drafts included) that correct ``handover_id``."""
    with app.app_context():
        return db.session.execute(select(Handover.id).where(
            Handover.replaces_id == handover_id).order_by(Handover.id)).scalars().all()


# --- 1. a handover a sent correction replaced is no longer corrected ---------------------------

def _send_correction(app, world, draft_id, **changes):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = handover(draft_id)
        drafts.save(sender, draft, content(**changes))
        return sending.send(sender, draft, f"correction-{draft_id}").id


def test_a_corrected_handover_leads_to_its_newest_version_instead(app, client, world):
    with app.app_context():
        original = send_handover(world)
        stale = access_for(world, "sending_sender", original)   # read before the correction
    login_as(client, app, world.users["sending_sender"])
    started = client.post(f"/handovers/{original}/correct")
    draft_id = int(started.headers["Location"].split("/")[-2])
    newer = _send_correction(app, world, draft_id, health_notes="Penisilliiniallergia")

    page = client.get(f"/handovers/{original}").get_data(as_text=True)
    assert f'action="/handovers/{original}/correct"' not in page
    assert (f'A correction of this handover was sent: #<a class="govuk-link" '
            f'href="/handovers/{newer}">{newer}</a>.') in page

    again = client.post(f"/handovers/{original}/correct")
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/handovers/{newer}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert flashed(page, "info", f"Handover #{original} has already been corrected. This is "
                                 f"its newest version, #{newer}")
    assert replacing(app, original) == [newer]   # no second correction of the old content
    with app.app_context(), pytest.raises(withdrawal.AlreadyCorrected) as refused:
        withdrawal.correct(stale, world.user("sending_sender"))   # the service checks again
    assert refused.value.newer_id == newer

    latest = client.post(f"/handovers/{newer}/correct")
    assert latest.status_code == 302 and latest.headers["Location"].endswith("/edit")
    [next_draft] = replacing(app, newer)
    with app.app_context():
        assert drafts.content_of(handover(next_draft))["health_notes"] == "Penisilliiniallergia"


def test_a_withdrawn_correction_leaves_the_original_correctable(app, client, world):
    with app.app_context():
        original = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    draft_id = int(client.post(f"/handovers/{original}/correct").headers["Location"]
                   .split("/")[-2])
    newer = _send_correction(app, world, draft_id, health_notes="Uusi tieto")
    client.post(f"/handovers/{newer}/withdraw", data=WITHDRAWN)
    page = client.get(f"/handovers/{original}").get_data(as_text=True)
    assert f'action="/handovers/{original}/correct"' in page
    assert client.post(f"/handovers/{original}/correct").status_code == 302
    assert len(replacing(app, original)) == 2


# --- 2. a placement update posted twice is sent once -------------------------------------------

def _updates_of(app, original):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Handover).where(
            Handover.update_of_id == original)).scalar()


def test_an_update_posted_twice_is_sent_once(app, client, world):
    with app.app_context():
        original = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{original}/update").get_data(as_text=True)
    assert 'name="submission_token"' in page and 'data-prevent-double-click="true"' in page
    token = page.split('name="submission_token" value="')[1].split('"')[0]
    form = {**UPDATE_FORM, "submission_token": token}
    for _ in range(2):
        response = client.post(f"/handovers/{original}/update", data=form)
        assert response.status_code == 302
        assert "The update was sent to 2 units" in client.get(
            response.headers["Location"]).get_data(as_text=True)
    assert _updates_of(app, original) == 2   # one for the receiver, one for the copy unit
    fresh = {**UPDATE_FORM, "submission_token": "another-page"}
    assert client.post(f"/handovers/{original}/update", data=fresh).status_code == 302
    assert _updates_of(app, original) == 4   # a new page is a new update


def test_update_posts_at_the_same_moment_send_once(app, world):
    with app.app_context():
        original = send_handover(world)
    clients = [login_as(app.test_client(), app, world.users["sending_sender"])
               for _ in range(3)]
    together = threading.Barrier(len(clients))
    answers = []

    def post(client):
        together.wait()
        answers.append(client.post(f"/handovers/{original}/update",
                                   data={**UPDATE_FORM, "submission_token": "one-page"})
                       .status_code)

    posting = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in posting:
        thread.start()
    for thread in posting:
        thread.join()
    assert answers == [302] * len(clients)
    assert _updates_of(app, original) == 2


# --- 3. an update about a protected child warns before it is sent ------------------------------

def test_the_update_page_warns_about_a_protected_child_and_names_the_units(app, client, world):
    with app.app_context():
        protected = send_handover(world, non_disclosure="yes", location_hidden="yes")
        # Another child: the flags describe the child, so any handover of the same child warns.
        ordinary = send_handover(world, child_identity_code="020594X903P",
                                 child_name="Toinen Lapsi")
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{protected}/update").get_data(as_text=True)
    warning = page.split('id="protected-child"')[1].split("</div>")[0]
    assert "Where this child lives is protected: Non-disclosure marking" in warning
    assert "reaches every unit listed below in full" in warning
    assert "Copy unit, Receiving unit" in warning
    assert page.index('id="protected-child"') < page.index('name="submission_token"')
    assert "Before you send: check that nothing above reveals where the child lives" in page
    assert 'id="protected-child"' not in client.get(
        f"/handovers/{ordinary}/update").get_data(as_text=True)


# --- 4. a child without an identity code: the page says why there is no update ---------------

def test_without_an_identity_code_the_sender_is_told_why_no_update(app, client, world):
    with app.app_context():
        hid = send_handover(world, child_identity_code="")
        reading.acknowledge(access_for(world, "receiving_receiver", hid, "acknowledge"),
                            world.user("receiving_receiver"), "")
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert f'href="/handovers/{hid}/update"' not in page
    why = "it was sent without the child's personal identity code"
    assert why in page
    response = client.get(f"/handovers/{hid}/update")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert why in page
    assert "This is no longer possible for this handover" not in page
    receiver = login_as(app.test_client(), app, world.users["receiving_receiver"])
    assert why not in receiver.get(f"/handovers/{hid}").get_data(as_text=True)


# --- 5. rerouting a returned handover: exactly the units routing allows, or a way out --------

@pytest.fixture
def education(app, world):
    """A school and an education department, each with a receiver: the pre-placement notice
    goes from child-welfare social work (the "copy" unit) to either, with a copy to the other."""
    made = {}
    with app.app_context():
        for key, name, kind in (("school", "Koulu Kivikko", "school"),
                                ("department", "Sivistystoimi", "education_department")):
            unit = create_unit(name, kind=kind, email="")
            person = create_user(f"{key}@example.test", memberships=[(unit, "receiver")])
            for item in (unit, person):
                db.session.refresh(item)
                db.session.expunge(item)
            made[key] = unit
            world.units[key], world.users[f"{key}_receiver"] = unit, person
    return made


def test_a_copy_unit_can_become_the_receiver_of_a_returned_handover(app, client, world,
                                                                     education):
    with app.app_context():
        sender = world.user("copy_sender")
        draft = drafts.start(sender, world.unit("copy"), "pre_placement_notice",
                             world.unit("department"), [world.unit("school")],
                             "child_welfare_necessary")
        drafts.save(sender, draft, pre_placement_content())
        hid = sending.send(sender, draft, "pre-placement").id
        returning.give_back(access_for(world, "department_receiver", hid, "return"),
                            world.user("department_receiver"), "wrong_unit")
    login_as(client, app, world.users["copy_sender"])
    page = client.get(f"/handovers/{hid}/reroute").get_data(as_text=True)
    school = education["school"].id
    assert f'<option value="{school}">Koulu Kivikko (gets a copy now: becomes the receiver)' \
        in page
    assert "if you choose it, it becomes the receiver" in page   # and why it may
    response = client.post(f"/handovers/{hid}/reroute", data={"receiver": str(school)},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The handover was sent to Koulu Kivikko" in page
    assert "may not be sent to that unit" not in page
    with app.app_context():
        row = handover(hid)
        assert (row.status, row.receiver_unit_id) == ("sent", school)
        assert db.session.query(HandoverCopy).filter_by(handover_id=hid).count() == 0
    principal = login_as(app.test_client(), app, world.users["school_receiver"])
    page = principal.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Your unit received a read-only copy" not in page
    assert "Acknowledge receipt" in page


def test_with_no_unit_to_route_to_the_page_says_so_and_offers_withdrawal(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"),
                            world.user("receiving_receiver"), "wrong_unit")
        db.session.get(Unit, world.units["other"].id).is_active = False   # the only other ward
        db.session.commit()
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{hid}/reroute").get_data(as_text=True)
    assert "No other unit can receive this handover" in page
    assert 'name="receiver"' not in page
    assert f'href="/handovers/{hid}/withdraw"' in page, "withdrawing asks first"
    assert f'action="/handovers/{hid}/withdraw"' not in page
    response = client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN,
                         follow_redirects=True)
    assert "The handover was withdrawn." in response.get_data(as_text=True)


# --- 6. a repeated withdrawal or deletion says it is done -------------------------------------

def test_withdraw_posted_twice_says_already_withdrawn(app, client, world):
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    assert client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN).status_code == 302
    again = client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN)
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert flashed(page, "info", "This handover has already been withdrawn.")
    assert "it has been opened" not in page
    with app.app_context():
        assert handover(hid).status == "withdrawn"


def test_withdraw_refused_by_a_withdrawal_at_the_same_moment_says_already_withdrawn(
        app, world):
    with app.app_context():
        hid = send_handover(world)
        first = access_for(world, "sending_sender", hid, "withdraw")
        second = access_for(world, "sending_sender", hid, "withdraw")
        withdrawal.withdraw(first, world.user("sending_sender"))
        with pytest.raises(withdrawal.AlreadyWithdrawn):
            withdrawal.withdraw(second, world.user("sending_sender"))


def _draft(app, world):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                             world.unit("receiving"), [], "lsl_disclosure")
        drafts.save(sender, draft, content())
        return draft.id


def test_delete_draft_posted_twice_says_it_was_already_deleted(app, client, world):
    draft_id = _draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    assert client.post(f"/handovers/{draft_id}/discard").status_code == 302
    for method in ("POST", "GET"):   # the button again, or the confirmation page from Back
        again = client.open(f"/handovers/{draft_id}/discard", method=method)
        assert again.status_code == 303
        assert again.headers["Location"].endswith("/handovers/outbox")
        page = client.get(again.headers["Location"]).get_data(as_text=True)
        assert flashed(page, "info", "This draft has already been deleted.")
    with app.app_context():
        assert db.session.get(Handover, draft_id) is None
    stranger = login_as(app.test_client(), app, world.users["other_sender"])
    assert stranger.post(f"/handovers/{draft_id}/discard").status_code == 404


def test_withdrawing_asks_first_naming_the_handover_without_reading_its_content(
        app, client, world):
    """Withdrawing cannot be undone: the handover's button leads to a page that names it (form,
    number, receiving unit) and asks; only its button withdraws. The page reads no content,
    and no one but a sender of the sending unit reaches it."""
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    view = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert f'href="/handovers/{hid}/withdraw"' in view
    assert f'action="/handovers/{hid}/withdraw"' not in view, "no withdrawal in one click"
    with app.app_context():
        reads_before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("handover.%viewed%")))
    asked = client.get(f"/handovers/{hid}/withdraw")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Withdraw the handover?" in page
    assert f'action="/handovers/{hid}/withdraw"' in page and f"#{hid}" in page
    with app.app_context():
        receiving = world.unit("receiving").name
    assert receiving in page and CHILD_NAME not in page
    with app.app_context():
        assert handover(hid).status == "sent"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("handover.%viewed%"))) == reads_before
    login_as(client, app, world.users["other_receiver"])
    assert client.get(f"/handovers/{hid}/withdraw").status_code == 404
    login_as(client, app, world.users["receiving_receiver"])     # may read it, not withdraw it
    refused = client.get(f"/handovers/{hid}/withdraw")
    assert refused.status_code == 303 and refused.headers["Location"] == f"/handovers/{hid}"
    login_as(client, app, world.users["sending_sender"])
    assert client.post(f"/handovers/{hid}/withdraw", data=WITHDRAWN).status_code == 302
    again = client.get(f"/handovers/{hid}/withdraw")
    assert again.status_code == 303
    assert flashed(client.get(again.headers["Location"]).get_data(as_text=True), "info",
                   "This handover has already been withdrawn.")
