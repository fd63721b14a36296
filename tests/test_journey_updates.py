"""Updates that reach everyone concerned: an update sent from a handover reaches every unit
that received a handover of the same child from the sending unit within the update form's
window, as routing permits; each acknowledges it; the original shows that an update exists."""

from datetime import timedelta

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, CHILD_NAME, access_for, login_as, send_handover
from support import create_unit, error_of, summary_lines

from handover.services import LifecycleError, drafts, reading, updates
from handover.services.policy import WrongState
from handover.store.database import db
from handover.store.models import Handover
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

UPDATE = {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
          "change_kind": "moved", "effective_date": "2026-12-01",
          "details": "Uusi sijoituspaikka, yhteystiedot sosiaalityöstä"}


def to(world, unit_name, now):
    """One handover of the child from the sending unit to ``unit_name`` (a ward), sent ``now``."""
    from handover.services import sending
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                         world.unit(unit_name), [], "lsl_disclosure")
    drafts.save(sender, draft, lifecycle_support.content())
    return sending.send(sender, draft, f"token-{unit_name}-{now.timestamp()}", now=now).id


def test_an_update_reaches_two_earlier_receivers_and_not_an_older_one(app, client, world):
    now = utcnow()
    with app.app_context():
        old_ward = create_unit("Old ward", kind="psychiatric_ward", email="")
        db.session.refresh(old_ward)
        db.session.expunge(old_ward)
        world.units["old"] = old_ward
        to(world, "old", now - timedelta(days=updates.window_days() + 30))
        to(world, "other", now - timedelta(days=100))
        original = send_handover(world, copies=False)
        granted = access_for(world, "sending_sender", original, "update")
        assert [u.name for u in updates.recipients(granted.handover)] == [
            "Other unit", "Receiving unit"]
        sent = updates.send_update(granted, world.user("sending_sender"), dict(UPDATE),
                                   language="en")
        assert sorted(h.receiver_unit_id for h in sent) == sorted(
            [world.units["other"].id, world.units["receiving"].id])
        for person, update in zip(("other_receiver", "receiving_receiver"),
                                  sorted(sent, key=lambda h: h.receiver_unit_id != world.units[
                                      "other"].id), strict=True):
            reading.acknowledge(access_for(world, person, update.id, "acknowledge"),
                                world.user(person), "")
            assert db.session.get(Handover, update.id).status == "acknowledged"
        update_ids = [h.id for h in sent]
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{original}").get_data(as_text=True)
    assert "an update was sent" in page
    # Above the key facts, which the update may have made out of date; not after the form.
    assert page.index("an update was sent") < page.index('id="key-facts-title"')
    own = [i for i in update_ids if f"/handovers/{i}\"" in page]
    assert len(own) == 1  # the receiver sees its own update, not the other ward's
    update_page = client.get(f"/handovers/{own[0]}").get_data(as_text=True)
    assert "The child moved" in update_page


def test_the_update_page_sends_and_refuses_another_child(app, client, world):
    with app.app_context():
        original = send_handover(world)
        with pytest.raises(LifecycleError):
            updates.send_update(access_for(world, "sending_sender", original, "update"),
                                world.user("sending_sender"),
                                {**UPDATE, "child_identity_code": "020594X903P"}, language="en")
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{original}/update").get_data(as_text=True)
    # The recipients (the receiver and the copy unit), and the child prefilled.
    assert "Receiving unit" in page and "Copy unit" in page and CHILD_NAME in page
    response = client.post(f"/handovers/{original}/update", data={
        "child_name": CHILD_NAME, "child_identity_code": CHILD_CODE, "change_kind": "other",
        "effective_date": "2026-12-01", "details": "Sosiaalityöntekijä vaihtui"},
        follow_redirects=True)
    assert "The update was sent to 2 units" in response.get_data(as_text=True)
    receiver = app.test_client()
    login_as(receiver, app, world.users["receiving_receiver"])
    refused = receiver.get(f"/handovers/{original}/update", follow_redirects=True)
    assert "The sending unit does this, not your unit." in refused.text


def test_an_update_reaches_the_units_that_got_a_copy_too(app, world):
    with app.app_context():
        original = send_handover(world, copies=True)
        granted = access_for(world, "sending_sender", original, "update")
        assert [u.name for u in updates.recipients(granted.handover)] == [
            "Copy unit", "Receiving unit"]
        sent = updates.send_update(granted, world.user("sending_sender"), dict(UPDATE),
                                   language="en")
        reached = sorted(h.receiver_unit_id for h in sent)
        copy_update = next(h.id for h in sent if h.receiver_unit_id == world.units["copy"].id)
    assert reached == sorted([world.units["copy"].id, world.units["receiving"].id])
    with app.app_context():
        reading.acknowledge(access_for(world, "copy_receiver", copy_update, "acknowledge"),
                            world.user("copy_receiver"), "")
        assert db.session.get(Handover, copy_update).status == "acknowledged"
        with pytest.raises(WrongState):  # no update of an update, even by its sender
            access_for(world, "sending_sender", copy_update, "update")


def test_an_update_about_another_child_is_refused_on_the_identity_code(app, client, world):
    """The refusal is beside the field to correct and in the error summary (WCAG 3.3.1), not
    only in a banner; what was typed stays."""
    with app.app_context():
        original = send_handover(world)
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{original}/update", data={
        "child_name": CHILD_NAME, "child_identity_code": "020594X903P", "change_kind": "other",
        "effective_date": "2026-12-01", "details": "Sosiaalityöntekijä vaihtui"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    message = "The update must be about the same child as the handover."
    assert f"Personal identity code: {message}" in summary_lines(page)
    assert message in error_of(page, "child_identity_code")
    assert "Sosiaalityöntekijä vaihtui" in page


def test_an_update_to_one_unit_says_one_unit(app, client, world):
    with app.app_context():
        original = send_handover(world, copies=False)
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{original}/update", data={
        "child_name": CHILD_NAME, "child_identity_code": CHILD_CODE, "change_kind": "other",
        "effective_date": "2026-12-01", "details": "Sosiaalityöntekijä vaihtui"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The update was sent to 1 unit." in page and "1 units" not in page
