"""Earlier handovers of this child: a sender or receiver sees those their own units sent or
received, with form, units, dates and status; a unit that had no part sees nothing, not even
that they exist; every look-up is audited."""

import lifecycle_support
from lifecycle_support import CHILD_CODE, FORM_KEY, access_for, login_as, send_handover

from handover.services import drafts, earlier_handovers, returning
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

OTHER_CHILD = "020594X903P"


def lookups():
    return db.session.query(AuditEvent).filter_by(action="handover.earlier_looked_up").all()


def test_sender_and_receiver_see_the_earlier_handovers_of_the_child(app, client, world):
    with app.app_context():
        first = send_handover(world)
        send_handover(world, child_identity_code=OTHER_CHILD, child_name="Toinen Lapsi")
        second = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{second}").get_data(as_text=True)
    assert "Earlier handovers of this child" in page
    assert f"/handovers/{first}\"" in page and "Test form" in page
    assert "Sending unit" in page  # who sent it
    with app.app_context():
        shown = earlier_handovers.look_up(world.user("sending_sender"),
                                          earlier_handovers.hash_of_code(CHILD_CODE))
        assert [e.id for e in shown] == [second, first]  # newest first, not the other child
        assert {e.part for e in shown} == {"sent"}
        assert len(lookups()) == 2


def test_a_unit_that_had_no_part_sees_nothing_and_is_audited(app, world):
    with app.app_context():
        send_handover(world)
        outsider = world.user("other_receiver")
        assert earlier_handovers.look_up(outsider, earlier_handovers.hash_of_code(CHILD_CODE)) \
            == []
        event = lookups()[-1]
        assert event.actor_id == outsider.id and "0" in str(event.detail)
        for user in ("admin", "auditor"):
            assert earlier_handovers.look_up(world.user(user),
                                             earlier_handovers.hash_of_code(CHILD_CODE)) == []
        assert len(lookups()) == 3


def test_the_starting_page_shows_nothing_to_an_outsider(app, client, world):
    """A sender of another unit starting a handover for the same child: not a hint."""
    with app.app_context():
        hid = send_handover(world)
    login_as(client, app, world.users["copy_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Your units have sent or received no earlier handover" in page  # its own copy only
    other = app.test_client()
    login_as(other, app, world.users["other_receiver"])
    assert other.get(f"/handovers/{hid}").status_code == 404


def test_a_unit_that_returned_a_handover_no_longer_sees_it(app, world):
    with app.app_context():
        hid = send_handover(world)
        returning.give_back(access_for(world, "receiving_receiver", hid, "return"),
                            world.user("receiving_receiver"), "wrong_unit")
        assert earlier_handovers.look_up(world.user("receiving_receiver"),
                                         earlier_handovers.hash_of_code(CHILD_CODE)) == []


def test_draft_page_looks_up_by_the_code_in_the_body(app, client, world):
    with app.app_context():
        earlier = send_handover(world)
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure").id
    login_as(client, app, world.users["sending_sender"])
    assert "journey" in client.get(f"/handovers/{draft}/edit").get_data(as_text=True)
    page = client.get(f"/handovers/{draft}/journey").get_data(as_text=True)
    assert f"/handovers/{earlier}\"" not in page  # no child in the empty draft yet
    page = client.post(f"/handovers/{draft}/journey",
                       data={"identity_code": CHILD_CODE}).get_data(as_text=True)
    assert f"/handovers/{earlier}\"" in page
    outsider = app.test_client()
    login_as(outsider, app, world.users["other_receiver"])
    assert outsider.post(f"/handovers/{draft}/journey",
                         data={"identity_code": CHILD_CODE}).status_code == 404


def test_a_long_journey_keeps_the_handovers_before_this_one_and_says_some_are_left_out(
        app, client, world, monkeypatch):
    """Cut at the limit, the list keeps the handovers nearest to the one on the page: those
    sent before it first, then the next after it (a panel of only the newest would leave out
    the very ones that came before and after it), and says that more exist."""
    monkeypatch.setattr(earlier_handovers, "LIMIT", 3)
    with app.app_context():
        sent = [send_handover(world) for _ in range(7)]
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{sent[2]}").get_data(as_text=True)
    listed = [handover_id for handover_id in sent if f'/handovers/{handover_id}"' in page]
    assert listed == [sent[0], sent[1], sent[3]]     # the nearest after it, not the newest
    notice = page.index("Only the 3 handovers nearest to this one in time are listed")
    assert page.index('id="earlier-title"') < notice < page.index("<table", notice)
    assert "Other handovers of this child" in page     # some were sent after this one
    with app.app_context():
        shown = earlier_handovers.find(world.user("receiving_receiver"),
                                       earlier_handovers.hash_of_code(CHILD_CODE),
                                       current=db.session.get(Handover, sent[2]))
        assert [e.id for e in shown][-2:] == [sent[1], sent[0]] and shown.more
        everything = earlier_handovers.find(world.user("receiving_receiver"),
                                            earlier_handovers.hash_of_code(CHILD_CODE))
        assert [e.id for e in everything] == sent[::-1][:3] and everything.more
    monkeypatch.setattr(earlier_handovers, "LIMIT", 10)
    assert "nearest to this one" not in client.get(f"/handovers/{sent[2]}").get_data(
        as_text=True)
