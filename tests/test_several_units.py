"""What a review of people in several units found: a nurse of two wards could not tell which
ward each handover in her lists came to, and someone of both the sending and the receiving
unit was told of her own return as one of the sending unit's senders."""

from types import SimpleNamespace

import lifecycle_support
from lifecycle_support import login_as, send_handover
from sqlalchemy import select
from support import create_user

from handover.services import policy
from handover.store.database import db
from handover.store.models import User

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _teacher_of_both(app, world):
    """The id of a sender of the sending unit who is a receiver of the receiving unit too."""
    with app.app_context():
        return SimpleNamespace(id=create_user("teacher.of.both@example.test", memberships=[
            (world.unit("sending"), "sender"), (world.unit("receiving"), "receiver")]).id)


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


def test_the_outbox_of_a_sender_of_two_units_says_which_sent_it(app, client, world):
    """Someone of the sending and the receiving unit: the inbox row names the unit it came
    to, the outbox row the unit that sent it (not the unit the policy acts through)."""
    teacher = _teacher_of_both(app, world)
    with app.app_context():
        handover_id = send_handover(world, copies=False)
    login_as(client, app, teacher)
    for path, unit in (("/handovers/outbox", "Sending unit"),
                       ("/handovers/inbox", "Receiving unit")):
        page = client.get(path).get_data(as_text=True)
        row = page.split(f"#{handover_id}</a>", 1)[1].split("</tr>", 1)[0]
        assert f"Your unit: {unit}" in row, path
