"""What a review of people in several units found: someone of both the sending and the
receiving unit (a special-needs teacher of two schools, sending from one to the other) always
acted as the receiver. Looking at her own sent handover opened it for the receiving school
(the sender read "opened", and lost the withdrawal), and her messages in the thread were filed
as the receiving school's. She now acts for the sending unit, but for what only a receiver
does, which she still does for the receiving unit."""

from types import SimpleNamespace

import lifecycle_support
from lifecycle_support import login_as, send_handover
from sqlalchemy import select
from support import create_user

from handover.services import policy, reading, replies
from handover.store.database import db
from handover.store.models import AuditEvent, Handover, Reply, User

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _teacher_of_both(app, world):
    """The id of a sender of the sending unit who is a receiver of the receiving unit too."""
    with app.app_context():
        return SimpleNamespace(id=create_user("teacher.of.both@example.test", memberships=[
            (world.unit("sending"), "sender"), (world.unit("receiving"), "receiver")]).id)


def test_her_look_at_her_own_handover_does_not_open_it_for_the_receiving_unit(app, client,
                                                                             world):
    teacher = _teacher_of_both(app, world)
    with app.app_context():
        handover_id = send_handover(world, copies=False)
    login_as(client, app, teacher)
    assert client.get(f"/handovers/{handover_id}").status_code == 200
    with app.app_context():
        stored = db.session.get(Handover, handover_id)
        assert (stored.status, stored.opened_at) == ("sent", None)
        colleague = world.user("sending_sender")
        assert policy.require(colleague, handover_id, "view").allows("withdraw")
        [viewed] = db.session.execute(select(AuditEvent).where(
            AuditEvent.handover_id == handover_id,
            AuditEvent.action.in_(("handover.viewed", "handover.opened")))).scalars().all()
        assert (viewed.action, viewed.unit_id) == ("handover.viewed", world.units["sending"].id)


def test_her_message_is_the_sending_units_and_her_acknowledgement_the_receiving_ones(
        app, world):
    teacher = _teacher_of_both(app, world)
    with app.app_context():
        handover_id = send_handover(world, copies=False)
        author = db.session.get(User, teacher.id)
        replies.add_message(policy.require(author, handover_id, "reply"), author,
                            "Tuen tarve jatkuu syksyllä.")
        reply = db.session.execute(select(Reply).where(Reply.handover_id == handover_id)
                                   ).scalar_one()
        assert reply.unit_id == world.units["sending"].id
        reading.acknowledge(policy.require(author, handover_id, "acknowledge"), author, "")
        [acknowledged] = db.session.execute(select(AuditEvent).where(
            AuditEvent.handover_id == handover_id,
            AuditEvent.action == "handover.acknowledged")).scalars().all()
        assert acknowledged.unit_id == world.units["receiving"].id
        assert db.session.get(Handover, handover_id).status == "acknowledged"


def _sent_to_the_other_ward(world):
    from handover.services import drafts, sending

    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                         world.unit("other"), [], "lsl_disclosure")
    drafts.save(sender, draft, lifecycle_support.content())
    return sending.send(sender, draft, "to-the-other-ward").id


def test_the_inbox_of_a_nurse_of_two_wards_says_which_ward_each_came_to(app, client, world):
    """Two wards' handovers looked alike in her lists: each row named the sending unit only,
    so she could not tell which ward was to acknowledge it, or where the child is coming."""
    with app.app_context():
        nurse = SimpleNamespace(id=create_user("nurse.of.two@example.test", memberships=[
            (world.unit("receiving"), "receiver"), (world.unit("other"), "receiver")]).id)
        to_receiving = send_handover(world, copies=False)
        to_other = _sent_to_the_other_ward(world)
    login_as(client, app, nurse)
    page = client.get("/handovers/inbox").get_data(as_text=True)
    for handover_id, ward in ((to_receiving, "Receiving unit"), (to_other, "Other unit")):
        row = page.split(f"#{handover_id}</a>", 1)[1].split("</tr>", 1)[0]
        assert f"Your unit: {ward}" in row
    login_as(client, app, world.users["receiving_receiver"])
    assert "Your unit:" not in client.get("/handovers/inbox").get_data(as_text=True)


def test_someone_of_both_units_is_not_told_of_her_own_return(app, world):
    """She returned it for the receiving school; the sending school's notice went to her
    too, as one of its senders."""
    from handover.services import deliveries, returning
    from handover.store.models import Delivery

    teacher = _teacher_of_both(app, world)
    with app.app_context():
        handover_id = send_handover(world, copies=False)
        author = db.session.get(User, teacher.id)
        returning.give_back(policy.require(author, handover_id, "return"), author,
                            "wrong_unit")
        told = db.session.execute(select(Delivery.recipient).where(
            Delivery.channel == deliveries.EMAIL, Delivery.event == "returned")).scalars().all()
    assert "teacher.of.both@example.test" not in told
    assert "sending.sender@example.test" in told
