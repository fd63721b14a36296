"""A message in the thread is marked in the lists until the person opens the handover: the
sender's outbox marks the ward's reply "New message", the ward's inbox the sender's. Per person
(a colleague who has not opened it still sees the mark), never for one's own unit's messages,
never to a copy unit (it has no thread). The upgrade that adds the marks starts them from the
audit log, so threads already read are not all marked at once."""

import re

import lifecycle_support
from flask_migrate import stamp, upgrade
from lifecycle_support import access_for, create_user, login_as, send_handover
from sqlalchemy import func, select, text
from support import drop_later_columns

from handover.services import replies, thread_reads
from handover.store.database import db
from handover.store.models import ThreadRead

app_config = lifecycle_support.app_config
world = lifecycle_support.world

MARK = "New message"


def _row_of(page, handover_id):
    """The list row linking handover ``handover_id``."""
    link = re.search(rf'/handovers/{handover_id}(#thread)?"', page).start()
    return page[page.rindex("<tr", 0, link):page.index("</tr>", link)]


def _marked(client, app, user, path, handover_id):
    login_as(client, app, user)
    marked = MARK in _row_of(client.get(path).get_data(as_text=True), handover_id)
    client.get("/logout")
    return marked


def _reply(world, person, handover_id, text_):
    replies.add_message(access_for(world, person, handover_id, "reply"), world.user(person),
                        text_)


def test_a_reply_is_marked_for_the_other_side_until_each_person_opens_it(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        colleague = create_user("sending.colleague@example.test",
                                memberships=[(world.unit("sending"), "sender")])
        db.session.refresh(colleague)
        db.session.expunge(colleague)
    users = world.users
    login_as(client, app, users["receiving_receiver"])
    client.get(f"/handovers/{hid}")   # opened, nothing in the thread yet
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ThreadRead)) == 0
        _reply(world, "receiving_receiver", hid, "Osastolla on tilaa")
    # The ward's own message is not news to the ward.
    assert not _marked(client, app, users["receiving_receiver"], "/handovers/inbox", hid)
    assert _marked(client, app, users["sending_sender"], "/handovers/outbox", hid)
    assert _marked(client, app, colleague, "/handovers/outbox", hid)
    login_as(client, app, users["sending_sender"])
    assert "Osastolla on tilaa" in client.get(f"/handovers/{hid}").get_data(as_text=True)
    client.get("/logout")
    assert not _marked(client, app, users["sending_sender"], "/handovers/outbox", hid)
    assert _marked(client, app, colleague, "/handovers/outbox", hid)   # not yet opened by her
    # The sender answers: now the ward's receiver has something new, until she opens it.
    with app.app_context():
        _reply(world, "sending_sender", hid, "Tulemme klo 14")
    assert _marked(client, app, users["receiving_receiver"], "/handovers/inbox", hid)
    assert not _marked(client, app, users["sending_sender"], "/handovers/outbox", hid)
    login_as(client, app, users["receiving_receiver"])
    client.get(f"/handovers/{hid}")
    client.get("/logout")
    assert not _marked(client, app, users["receiving_receiver"], "/handovers/inbox", hid)


def test_a_copy_unit_is_never_told_of_the_thread(app, client, world):
    with app.app_context():
        hid = send_handover(world, copies=True)
        _reply(world, "sending_sender", hid, "Lisätieto osastolle")
    assert _marked(client, app, world.users["receiving_receiver"], "/handovers/inbox", hid)
    assert not _marked(client, app, world.users["copy_receiver"], "/handovers/inbox", hid)


def test_the_upgrade_starts_the_marks_from_who_viewed_what(app, client, world):
    with app.app_context():
        hid = send_handover(world)
        _reply(world, "receiving_receiver", hid, "Ensimmäinen viesti")
    login_as(client, app, world.users["sending_sender"])
    client.get(f"/handovers/{hid}")   # the sender read the first message
    client.get("/logout")
    with app.app_context():
        _reply(world, "receiving_receiver", hid, "Toinen viesti")
        db.session.execute(text("DROP TABLE thread_reads"))
        db.session.commit()
        drop_later_columns("handovers")   # what the later revisions add
        stamp(revision="0018")
        upgrade()
        reads = db.session.execute(select(ThreadRead.user_id, ThreadRead.last_reply_id)).all()
        first = lifecycle_support.handover(hid).replies[0].id
        assert reads == [(world.users["sending_sender"].id, first)]
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()
    # Read before the upgrade: only the message written after that view is new.
    assert _marked(client, app, world.users["sending_sender"], "/handovers/outbox", hid)
    with app.app_context():
        db.session.execute(ThreadRead.__table__.update().values(last_reply_id=first + 1))
        db.session.commit()
    assert not _marked(client, app, world.users["sending_sender"], "/handovers/outbox", hid)


def test_a_page_that_shows_no_thread_leaves_the_message_unseen(app, client, world):
    """The page for sending a placement update reads the handover, but shows no thread."""
    with app.app_context():
        hid = send_handover(world)
        _reply(world, "receiving_receiver", hid, "Lääkitys muuttui")
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{hid}/update")
    assert page.status_code == 200 and "Lääkitys muuttui" not in page.get_data(as_text=True)
    client.get("/logout")
    assert _marked(client, app, world.users["sending_sender"], "/handovers/outbox", hid)


def test_what_a_unit_that_returned_it_wrote_is_no_news_to_the_next_receiver(app):
    """After a return and a re-route, the new receiving unit is not shown what the unit that
    returned it wrote: it cannot be marked new to them, or no opening would ever clear it."""
    from handover.services.policy import RECEIVING
    from handover.store.models import Handover, Reply

    sender, returned_it, rerouted_to = 1, 2, 3
    handover = Handover(id=7, sender_unit_id=sender, receiver_unit_id=rerouted_to)
    handover.replies = [Reply(id=10, unit_id=returned_it, kind="message")]
    with app.app_context():
        assert thread_reads.unseen_messages(
            type("Reader", (), {"id": 1})(), [handover], {rerouted_to},
            {handover.id: RECEIVING}) == set()
        handover.replies.append(Reply(id=11, unit_id=sender, kind="message"))
        assert thread_reads.unseen_messages(
            type("Reader", (), {"id": 1})(), [handover], {rerouted_to},
            {handover.id: RECEIVING}) == {7}
