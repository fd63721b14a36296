""""Correct (send a new version)" pressed twice (a double click, or the browser posting again
after Back or a refresh) leads to the one correction draft, not to two drafts that both replace
the same handover."""

import threading

import lifecycle_support
from lifecycle_support import login_as
from sqlalchemy import func, select
from support import create_user

from handover.store.database import db
from handover.store.models import AuditEvent, Handover

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world
sent = lifecycle_support.sent


def correction_drafts(app, handover_id):
    with app.app_context():
        return db.session.execute(select(Handover.id).where(
            Handover.replaces_id == handover_id, Handover.status == "draft")).scalars().all()


def corrections_started(app, handover_id):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "handover.correction_started",
            AuditEvent.detail.contains(str(handover_id)))).scalar()


def test_correct_pressed_twice_leads_to_one_draft(app, client, world, sent):
    login_as(client, app, world.users["sending_sender"])
    first = client.post(f"/handovers/{sent}/correct")
    again = client.post(f"/handovers/{sent}/correct")
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    [draft] = correction_drafts(app, sent)
    assert first.headers["Location"].endswith(f"/handovers/{draft}/edit")
    assert corrections_started(app, sent) == 1


def test_presses_at_the_same_moment_lead_to_one_draft(app, world, sent):
    """A double click: the second request arrives while the first is still at work."""
    clients = [login_as(app.test_client(), app, world.users["sending_sender"])
               for _ in range(3)]
    together = threading.Barrier(len(clients))
    answers = []

    def press(client):
        together.wait()
        answers.append(client.post(f"/handovers/{sent}/correct").headers["Location"])

    pressing = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in pressing:
        thread.start()
    for thread in pressing:
        thread.join()
    [draft] = correction_drafts(app, sent)
    assert answers == [f"/handovers/{draft}/edit"] * len(clients)


def test_another_sender_of_the_unit_is_led_to_the_same_draft(app, client, world, sent):
    """A draft is the sending unit's work, which any of its senders may edit."""
    login_as(client, app, world.users["sending_sender"])
    first = client.post(f"/handovers/{sent}/correct")
    with app.app_context():
        colleague = create_user("colleague@example.test",
                                memberships=[(world.unit("sending"), "sender")])
        db.session.refresh(colleague)
        db.session.expunge(colleague)
    login_as(client, app, colleague)
    again = client.post(f"/handovers/{sent}/correct")
    assert again.headers["Location"] == first.headers["Location"]
    assert client.get(again.headers["Location"]).status_code == 200


def test_a_discarded_correction_can_be_started_again(app, client, world, sent):
    login_as(client, app, world.users["sending_sender"])
    client.post(f"/handovers/{sent}/correct")
    [discarded] = correction_drafts(app, sent)
    assert client.post(f"/handovers/{discarded}/discard").status_code == 302
    again = client.post(f"/handovers/{sent}/correct")
    [draft] = correction_drafts(app, sent)
    assert again.headers["Location"].endswith(f"/handovers/{draft}/edit")
    assert corrections_started(app, sent) == 2
