"""Two requests (two colleagues, two tabs, a person and the retention job) on the same record:
a change is decided on the record as it is when written, not as the request loaded it.

Each test loads the record in a first request's session, commits the other action in a second
request (a nested app context: another session and connection), then finishes the first, as
the two requests would interleave on a server. Found by a review of the services' races."""

import threading

import form_upload_support as uploads
import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import CHILD_NAME, meanwhile, send_handover, stored_handover
from support import create_unit, create_user

from handover.services import (
    ContentErased,
    LifecycleError,
    NotFound,
    accounts,
    form_uploads,
    policy,
    reader_view,
    replies,
    retention,
    returning,
    withdrawal,
)
from handover.services.reading import ChangedWhileOpening, acknowledge
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, Membership, Reply, User

app_config = lifecycle_support.app_config
world = lifecycle_support.world




# -- the receiver's first view, and a withdrawal ------------------------------------------------


def test_a_first_view_after_the_sender_withdrew_it_shows_nothing_and_logs_no_read(app, world):
    """The sender may withdraw a handover nobody opened; a view that loaded it a moment
    before showed its content all the same, and the log said it was read while its status
    said it never was."""
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        granted = policy.require(world.user("receiving_receiver"), handover_id, "view")

        def withdraw():
            sender = world.user("sending_sender")
            withdrawal.withdraw(policy.require(sender, handover_id, "withdraw"), sender)

        meanwhile(app, withdraw)
        with pytest.raises(ChangedWhileOpening):
            reader_view.open_for_reader(granted, world.user("receiving_receiver"))
    stored = stored_handover(app, handover_id)
    assert (stored.status, stored.opened_at) == ("withdrawn", None)
    with app.app_context():
        actions = [event.action for event in db.session.query(AuditEvent).filter_by(
            handover_id=handover_id).order_by(AuditEvent.id)]
    assert actions[-1] == "handover.withdrawn" and "handover.viewed" not in actions


def test_the_page_asked_again_shows_the_withdrawn_handover_without_its_content(
        app, client, world):
    with app.app_context():
        handover_id = send_handover(world)
    lifecycle_support.login_as(client, app, world.users["receiving_receiver"])
    original = reader_view.open_for_reader

    def withdrawn_just_after_the_page_read_it(granted, user, **options):
        def withdraw():
            sender = world.user("sending_sender")
            withdrawal.withdraw(policy.require(sender, handover_id, "withdraw"), sender)

        reader_view.open_for_reader = original
        meanwhile(app, withdraw)
        return original(granted, user, **options)

    from handover.web.handovers import reading as reading_views
    reading_views.open_for_reader = withdrawn_just_after_the_page_read_it
    try:
        first = client.get(f"/handovers/{handover_id}")
    finally:
        reading_views.open_for_reader = original
    assert first.status_code == 302 and first.location.endswith(f"/handovers/{handover_id}")
    page = client.get(first.location).get_data(as_text=True)
    assert CHILD_NAME not in page and lifecycle_support.FREE_TEXT_MARKER not in page


def test_a_first_view_after_the_erasure_shows_nothing_and_opens_nothing(app, world):
    """The erasure leaves the status "sent": the view marked it opened (and told the
    sender's system so) after its content was destroyed."""
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        granted = policy.require(world.user("receiving_receiver"), handover_id, "view")
        meanwhile(app, lambda: retention.erase(handover_id))
        with pytest.raises(ChangedWhileOpening):
            reader_view.open_for_reader(granted, world.user("receiving_receiver"))
    stored = stored_handover(app, handover_id)
    assert (stored.status, stored.opened_at) == ("sent", None)


# -- replies, and a return or the retention rule's erasure --------------------------------------


def test_a_reply_after_a_colleague_returned_the_handover_is_refused(app, world):
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        writer = world.user("receiving_lead")
        granted = policy.require(writer, handover_id, "reply")

        def give_back():
            colleague = world.user("receiving_receiver")
            returning.give_back(policy.require(colleague, handover_id, "return"), colleague,
                                "wrong_unit")

        meanwhile(app, give_back)
        with pytest.raises(NotFound):   # the unit no longer holds it
            replies.add_message(granted, writer, "Lapsi saapuu huomenna klo 9")
    with app.app_context():
        assert db.session.query(Reply).filter_by(handover_id=handover_id,
                                                 kind=replies.MESSAGE).count() == 0


def test_a_reply_after_the_retention_rule_erased_the_handover_is_refused(app, world):
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        sender = world.user("sending_sender")
        granted = policy.require(sender, handover_id, "reply")
        meanwhile(app, lambda: retention.erase(handover_id))
        with pytest.raises(ContentErased):
            replies.add_message(granted, sender, "late message")
    stored = stored_handover(app, handover_id)
    assert stored.erased_at is not None and stored.erase_after is None
    with app.app_context():
        assert db.session.query(Reply).filter_by(handover_id=handover_id).count() == 0


def test_an_acknowledgement_after_the_erasure_is_refused(app, world):
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        receiver = world.user("receiving_receiver")
        granted = policy.require(receiver, handover_id, "acknowledge")
        meanwhile(app, lambda: retention.erase(handover_id))
        with pytest.raises(LifecycleError):
            acknowledge(granted, receiver, "huone 12")
    stored = stored_handover(app, handover_id)
    assert stored.status == "sent" and stored.acknowledgement_note is None
    assert stored.erase_after is None


def test_a_correction_after_the_erasure_copies_nothing(app, world):
    """The erased content was copied into a new draft that lived another retention period."""
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        sender = world.user("sending_sender")
        granted = policy.require(sender, handover_id, "correct")
        meanwhile(app, lambda: retention.erase(handover_id))
        with pytest.raises(ContentErased):
            withdrawal.correct(granted, sender)
    with app.app_context():
        assert db.session.query(Handover).filter_by(replaces_id=handover_id).count() == 0


# -- a membership's confirmation, and its holder's password reset -------------------------------


def test_a_confirmation_after_the_holders_password_reset_is_refused(app):
    """The reset makes the membership wait again, for someone other than the administrator
    who reset it (four eyes). A confirmation decided on the membership as loaded before the
    reset went through, and the administrator who alone knew the new password had access."""
    with app.app_context():
        unit = create_unit("Osasto 7", kind="psychiatric_ward", email="")
        admin = create_user("reset.admin@example.test", admin=True)
        adder = create_user("adder.admin@example.test", admin=True)
        holder = create_user("holder@example.test")
        membership = accounts.add_membership(holder, unit, "receiver", actor=adder, by="admin")
        ids = admin.id, holder.id, membership.id
    with app.test_request_context(), force_locale("en"):
        # One administrator, two tabs: "Confirm" on a membership another admin added ...
        confirming = db.session.get(User, ids[0])
        loaded = db.session.get(Membership, ids[2])

        def reset():   # ... while the other tab resets the holder's password and 2FA
            accounts.reset_password(db.session.get(User, ids[1]), reset_two_factor=True,
                                    actor=db.session.get(User, ids[0]))

        meanwhile(app, reset)
        with pytest.raises(accounts.AccountError):
            accounts.confirm_membership(loaded, confirming, by="admin")
    with app.app_context():
        stored = db.session.get(Membership, ids[2])
        assert stored.confirmed_at is None and stored.pending_by_id == ids[0]


# -- two administrators enabling versions of one uploaded form ----------------------------------


@pytest.mark.parametrize("enabled_before", [True, False], ids=["later", "first-ever"])
def test_two_admins_enabling_two_versions_at_once_leave_one_enabled(app, monkeypatch,
                                                                     enabled_before):
    """The second change waits for the first and reads what it committed. Read before, both
    versions were left enabled (and a disable could be lost under an enable); the instance's
    very first two changes, which found no generation row to hold, both inserted one (500)."""
    with app.app_context():
        first = create_user("first.admin@example.test", admin=True)
        second = create_user("second.admin@example.test", admin=True)
        for version in (1, 2, 3):
            form_uploads.upload("special_diet.zip", uploads.package(version=version), actor=first)
        if enabled_before:
            form_uploads.enable(uploads.KEY, 1, actor=first)
        first_id, second_id = first.id, second.id
    read_rows = form_uploads._rows
    others = []

    def other_admin():
        with app.app_context():
            form_uploads.enable(uploads.KEY, 3, actor=db.session.get(User, second_id))

    def rows_read_then_the_other_admin_acts(key):
        found = read_rows(key)
        monkeypatch.setattr(form_uploads, "_rows", read_rows)
        other = threading.Thread(target=other_admin)
        other.start()
        other.join(1.0)   # it finishes now unless it has to wait for this change
        others.append(other)
        return found

    monkeypatch.setattr(form_uploads, "_rows", rows_read_then_the_other_admin_acts)
    with app.test_request_context():
        form_uploads.enable(uploads.KEY, 2, actor=db.session.get(User, first_id))
    others[0].join(30)
    assert not others[0].is_alive()
    with app.app_context():
        enabled = [item["version"] for item in form_uploads.uploads() if item["enabled"]]
    assert enabled == [3]   # the second admin's, made after the first's
