"""Races found by a second review: the child's journey (return, reroute, the overdue notice)
and accounts (roles, memberships, passwords, integration clients). As in
test_races_review: the first request loads the record, the other request commits meanwhile
(a nested app context), then the first finishes; where both checks must run before either
commits, the other request runs in a thread at that point."""

import threading
from datetime import timedelta

import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import meanwhile, send_handover, stored_handover
from support import PASSWORD, create_unit, create_user, login

from handover.security import login as login_steps
from handover.security import passwords, sessions
from handover.security.passwords import verify_password
from handover.services import (
    LifecycleError,
    NoLongerTheUnits,
    accounts,
    client_confirmation,
    integration_clients,
    notifications,
    policy,
    reader_view,
    retention,
    returning,
)
from handover.services.reading import ChangedWhileOpening, acknowledge
from handover.store.database import db
from handover.store.models import (
    Delivery,
    HandoverReturn,
    IntegrationClient,
    Membership,
    Unit,
    User,
    UserSession,
)
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world



def _returned_and_rerouted(app, world, handover_id):
    """A colleague of the receiving unit returns it; the sender routes it to the other ward."""
    def give_back():
        colleague = world.user("receiving_lead")
        returning.give_back(policy.require(colleague, handover_id, "return"), colleague,
                            "wrong_unit")

    def reroute():
        sender = world.user("sending_sender")
        returning.reroute(policy.require(sender, handover_id, "reroute"), sender,
                          db.session.get(Unit, world.units["other"].id))

    meanwhile(app, give_back)
    meanwhile(app, reroute)



# -- the unit a handover was returned from and rerouted away from --------------------------------


@pytest.mark.parametrize("action", ["acknowledge", "return", "view"])
def test_the_unit_it_was_rerouted_from_can_no_longer_act_on_it(app, world, action):
    """A page of the first receiving unit, loaded before the return and the reroute: its
    acknowledgement, return or first view went through, on a handover now the other ward's
    (which then could no longer acknowledge it, or lost it again)."""
    with app.app_context():
        handover_id = send_handover(world)
    with app.test_request_context(), force_locale("en"):
        user = world.user("receiving_receiver")
        granted = policy.require(user, handover_id, action)
        _returned_and_rerouted(app, world, handover_id)
        acting = {
            "acknowledge": lambda: acknowledge(granted, user, "saatu"),
            "return": lambda: returning.give_back(granted, user, "child_not_coming"),
            "view": lambda: reader_view.open_for_reader(granted, user),
        }[action]
        with pytest.raises(ChangedWhileOpening if action == "view" else NoLongerTheUnits):
            acting()
    stored = stored_handover(app, handover_id)
    assert (stored.status, stored.receiver_unit_id, stored.opened_at) == (
        "sent", world.units["other"].id, None)
    with app.app_context():
        assert db.session.query(HandoverReturn).filter_by(handover_id=handover_id).count() == 1
        other_ward = policy.require(world.user("other_receiver"), handover_id, "view")
        assert other_ward.allows("acknowledge") and other_ward.allows("return")


def test_a_reroute_after_the_erasure_is_refused(app, world):
    """It sent a handover without content to the new unit, which could never acknowledge it,
    and set an erasure date again that the retention job could never meet."""
    with app.app_context():
        handover_id = send_handover(world)
        receiver = world.user("receiving_receiver")
        returning.give_back(policy.require(receiver, handover_id, "return"), receiver,
                            "wrong_unit")
    with app.test_request_context(), force_locale("en"):
        sender = world.user("sending_sender")
        granted = policy.require(sender, handover_id, "reroute")
        meanwhile(app, lambda: retention.erase(handover_id))
        with pytest.raises(LifecycleError):
            returning.reroute(granted, sender, db.session.get(Unit, world.units["other"].id))
    stored = stored_handover(app, handover_id)
    assert (stored.status, stored.receiver_unit_id, stored.erase_after) == ("returned", None,
                                                                           None)


def test_an_overdue_notice_is_not_sent_after_a_return_and_a_reroute(app, world, monkeypatch):
    """The job read the overdue handovers, then the handover left for a unit whose deadline
    is tomorrow: that unit's lead was told it was overdue, and never told when it was."""
    with app.app_context():
        handover_id = send_handover(world)
        later = utcnow() + timedelta(hours=30)
        listed = notifications.overdue(later)
        assert handover_id in [handover.id for handover in listed]
        monkeypatch.setattr(notifications, "overdue", lambda now=None: listed)
        _returned_and_rerouted(app, world, handover_id)
        assert handover_id not in notifications.notify_overdue(later)
        assert db.session.query(Delivery).filter_by(handover_id=handover_id,
                                                    event="overdue").count() == 0
        monkeypatch.undo()
        # When the new unit's own deadline has passed, its lead is told.
        assert handover_id in notifications.notify_overdue(utcnow() + timedelta(days=30))


# -- accounts ---------------------------------------------------------------------------------


def test_a_membership_added_after_the_person_became_an_auditor_is_refused(app):
    with app.app_context():
        unit = create_unit("Osasto 5", kind="psychiatric_ward", email="")
        lead = create_user("lead5@example.test", memberships=[(unit, "lead")])
        admin = create_user("roles.admin@example.test", admin=True)
        person = create_user("person@example.test")
        ids = unit.id, lead.id, admin.id, person.id
    with app.test_request_context(), force_locale("en"):
        loaded = db.session.get(User, ids[3])   # the lead's page found the person

        def make_auditor():
            accounts.set_system_roles(db.session.get(User, ids[3]), False, True,
                                      actor=db.session.get(User, ids[2]))

        meanwhile(app, make_auditor)
        with pytest.raises(accounts.AccountError):
            accounts.add_membership(loaded, db.session.get(Unit, ids[0]), "receiver",
                                    actor=db.session.get(User, ids[1]), by="unit_lead")
    with app.app_context():
        assert db.session.query(Membership).filter_by(user_id=ids[3]).count() == 0
        assert not policy.system_accounts_with_memberships()


def test_two_administrators_deactivating_each_other_leave_one(app, monkeypatch):
    """Each saw the other still active, and both went through: nobody could manage the
    instance but from the server's command line."""
    with app.app_context():
        first = create_user("first@example.test", admin=True)
        second = create_user("second@example.test", admin=True)
        ids = first.id, second.id
    revoke_all = sessions.revoke_all
    others, refused = [], []

    def the_other_deactivates_the_first():
        with app.app_context():
            try:
                accounts.set_user_active(db.session.get(User, ids[0]), False,
                                         actor=db.session.get(User, ids[1]))
            except accounts.AccountError as error:
                refused.append(error)

    def checked_then_the_other_acts(user_id, **options):
        monkeypatch.setattr(sessions, "revoke_all", revoke_all)
        other = threading.Thread(target=the_other_deactivates_the_first)
        other.start()
        other.join(1.0)   # it finishes now unless it has to wait for this change
        others.append(other)
        return revoke_all(user_id, **options)

    monkeypatch.setattr(sessions, "revoke_all", checked_then_the_other_acts)
    with app.test_request_context():   # the first deactivates the second
        accounts.set_user_active(db.session.get(User, ids[1]), False,
                                 actor=db.session.get(User, ids[0]))
    others[0].join(30)
    assert not others[0].is_alive()
    with app.app_context():
        active = [user.email for user in db.session.query(User).filter_by(is_admin=True,
                                                                         active=True)]
    assert active == ["first@example.test"] and len(refused) == 1


def test_a_password_change_after_an_administrators_reset_is_refused(app):
    """The person's own new password replaced the temporary one the administrator handed
    over, in the session the reset was meant to end."""
    with app.app_context():
        admin = create_user("reset2.admin@example.test", admin=True)
        person = create_user("person2@example.test")
        ids = admin.id, person.id
    temporary = []
    with app.test_request_context():
        loaded = db.session.get(User, ids[1])   # the page checked the current password

        def reset():
            temporary.append(accounts.reset_password(db.session.get(User, ids[1]),
                                                     actor=db.session.get(User, ids[0])))

        meanwhile(app, reset)
        with pytest.raises(login_steps.PasswordChangedMeanwhile):
            login_steps.change_password(loaded, "Uusi-salasana-joka-on-pitka-42")
    with app.app_context():
        stored = db.session.get(User, ids[1])
        assert verify_password(stored.password_hash, temporary[0])
        assert stored.must_change_password


def test_a_password_change_posted_twice_is_made_once_and_said_so(app):
    """A double click: both posts checked the old password; the second found the first's
    new one, which is no administrator's reset."""
    with app.app_context():
        person = create_user("person3@example.test")
        person_id = person.id
        browsers_session = UserSession(id="the-browsers-session", user_id=person_id)
        db.session.add(browsers_session)
        db.session.commit()
    new = "Uusi-salasana-joka-on-pitka-43"
    with app.test_request_context():
        loaded = db.session.get(User, person_id)
        loaded.current_session = db.session.get(UserSession, "the-browsers-session")

        def first_post():
            first = db.session.get(User, person_id)
            first.current_session = db.session.get(UserSession, "the-browsers-session")
            login_steps.change_password(first, new)

        meanwhile(app, first_post)
        login_steps.change_password(loaded, new)   # no "an administrator reset it"
        # The second answer is the browser's last: it names a session that is live, not the
        # one the first post revoked (the person stays logged in).
        kept = loaded.current_session.id
    with app.app_context():
        stored = db.session.get(User, person_id)
        assert verify_password(stored.password_hash, new) and not stored.must_change_password
        assert kept != "the-browsers-session"
        assert db.session.get(UserSession, kept).revoked_at is None


def test_two_administrators_resetting_each_others_passwords_leave_one(app, monkeypatch):
    """A reset takes an administrator's role back into awaiting another's confirmation: two
    at the same moment left no administrator in force."""
    with app.app_context():
        first = create_user("first2@example.test", admin=True)
        second = create_user("second2@example.test", admin=True)
        ids = first.id, second.id
    revoke_all = sessions.revoke_all
    others, refused = [], []

    def the_other_resets_the_first():
        with app.app_context():
            try:
                accounts.reset_password(db.session.get(User, ids[0]),
                                        actor=db.session.get(User, ids[1]))
            except accounts.AccountError as error:
                refused.append(error)

    def then_the_other_acts(user_id, **options):
        monkeypatch.setattr(sessions, "revoke_all", revoke_all)
        other = threading.Thread(target=the_other_resets_the_first)
        other.start()
        other.join(1.0)
        others.append(other)
        return revoke_all(user_id, **options)

    monkeypatch.setattr(sessions, "revoke_all", then_the_other_acts)
    with app.test_request_context():   # the first resets the second's password
        try:
            accounts.reset_password(db.session.get(User, ids[1]),
                                    actor=db.session.get(User, ids[0]))
        except accounts.AccountError as error:
            refused.append(error)
    others[0].join(30)
    assert not others[0].is_alive()
    with app.app_context():
        in_force = db.session.query(User).filter_by(is_admin=True, active=True).count()
    assert in_force == 1 and len(refused) == 1   # whichever came second was refused


def test_a_client_confirmed_after_another_admin_refused_it_stays_refused(app, world):
    with app.app_context():
        maker = world.user("admin")
        confirming = create_user("confirming.admin@example.test", admin=True)
        refusing = create_user("refusing.admin@example.test", admin=True)
        client, _token = integration_clients.create(
            maker, "Osaston järjestelmä", world.unit("receiving"), {"inbox:read"},
            utcnow() + timedelta(days=30))
        ids = client.id, confirming.id, refusing.id
    with app.test_request_context(), force_locale("en"):
        loaded = db.session.get(IntegrationClient, ids[0])   # the confirming admin's page

        def refuse():
            client_confirmation.refuse(db.session.get(User, ids[2]),
                                       db.session.get(IntegrationClient, ids[0]))

        meanwhile(app, refuse)
        with pytest.raises(accounts.AccountError):
            client_confirmation.confirm(db.session.get(User, ids[1]), loaded)
    with app.app_context():
        stored = db.session.get(IntegrationClient, ids[0])
        assert stored.revoked_at is not None and stored.confirmed_at is None


def test_the_page_says_the_password_was_reset_meanwhile_and_leads_to_the_login(
        app, client, monkeypatch):
    with app.app_context():
        admin = create_user("reset3.admin@example.test", admin=True)
        person = create_user("person4@example.test")
        login(client, person)
        ids = admin.id, person.id
    hash_password = passwords.hash_password

    def reset_while_hashing(password):
        monkeypatch.setattr(passwords, "hash_password", hash_password)
        meanwhile(app, lambda: accounts.reset_password(db.session.get(User, ids[1]),
                                                        actor=db.session.get(User, ids[0])))
        return hash_password(password)

    monkeypatch.setattr(passwords, "hash_password", reset_while_hashing)
    with client.session_transaction() as cookie_session:
        cookie_session["language"] = "en"
    new = "Uusi-salasana-joka-on-pitka-44"
    answer = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "repeat_password": new})
    assert answer.status_code == 302 and "/login" in answer.location
    page = client.get(answer.location).get_data(as_text=True)
    assert "an administrator reset it a moment ago" in page
