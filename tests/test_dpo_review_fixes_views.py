"""The data protection officer's review: a view or print of a handover whose content the reader
is not shown (withdrawn, for its receivers; erased) is logged as what it was, not as a read, so
that the child's access report does not say the handover was read or printed; and such a page
offers no print view."""

import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import CHILD_NAME, access_for, login_as, send_handover
from sqlalchemy import select

from handover.services import audit_labels, retention, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent

app_config = lifecycle_support.app_config
world = lifecycle_support.world

WITHOUT = ("handover.viewed_without_content", "handover.printed_without_content")
READ = ("handover.viewed", "handover.printed")


def actions(handover_id):
    return [event.action for event in db.session.execute(
        select(AuditEvent).where(AuditEvent.handover_id == handover_id,
                                 AuditEvent.action.in_(WITHOUT + READ))
        .order_by(AuditEvent.id)).scalars()]


def withdrawn_handover(app, world):
    with app.app_context():
        hid = send_handover(world)
        withdrawal.withdraw(access_for(world, "sending_sender", hid, "withdraw"),
                            world.user("sending_sender"))
        return hid


def test_a_receivers_view_and_print_of_a_withdrawn_handover_are_not_logged_as_reads(
        app, client, world):
    hid = withdrawn_handover(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert CHILD_NAME not in text
    assert f"/handovers/{hid}/print" not in text   # nothing to print
    printed = client.get(f"/handovers/{hid}/print")
    assert printed.status_code == 200 and CHILD_NAME not in printed.get_data(as_text=True)
    with app.app_context():
        assert actions(hid) == list(WITHOUT)


def test_the_sender_of_a_withdrawn_handover_still_reads_it(app, client, world):
    """The sending unit keeps the content until retention erases it: its view is a read."""
    hid = withdrawn_handover(app, world)
    login_as(client, app, world.users["sending_sender"])
    text = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert CHILD_NAME in text and f"/handovers/{hid}/print" in text
    client.get(f"/handovers/{hid}/print")
    with app.app_context():
        assert actions(hid) == list(READ)


def test_an_erased_handover_is_opened_without_content_and_an_ordinary_one_is_read(
        app, client, world):
    with app.app_context():
        erased, ordinary = send_handover(world), send_handover(world)
        assert retention.erase(erased)
    login_as(client, app, world.users["receiving_receiver"])
    assert f"/handovers/{erased}/print" not in client.get(
        f"/handovers/{erased}").get_data(as_text=True)
    assert f"/handovers/{ordinary}/print" in client.get(
        f"/handovers/{ordinary}").get_data(as_text=True)
    client.get(f"/handovers/{ordinary}/print")
    with app.app_context():
        assert actions(erased) == ["handover.viewed_without_content"]
        assert actions(ordinary) == list(READ)


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_new_events_read_as_words_in_each_language(app, language):
    with app.test_request_context():
        with force_locale("en"):
            english = [audit_labels.label(action) for action in WITHOUT]
        with force_locale(language):
            translated = [audit_labels.label(action) for action in WITHOUT]
    assert all(action in audit_labels.LABELS for action in WITHOUT)
    assert all(ours != theirs for ours, theirs in zip(translated, english, strict=True))
