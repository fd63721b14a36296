"""The data protection officer's review: one child's content must never be copied into another
child's draft, and every copy of a handover's content (fill once, a correction) is audited on
the handover it was copied from, so that its child's access report and the log filtered by it
show that it was read."""

import lifecycle_support
import pytest
from flask_babel import force_locale
from lifecycle_support import CHILD_CODE, FORM_KEY, access_for, content, login_as, send_handover
from sqlalchemy import select

from handover.security import crypto
from handover.services import LifecycleError, audit_labels, drafts, prefill, withdrawal
from handover.services.audit_search import about_child
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

#: Another child (Ella in the review), with handovers of her own from the same unit.
OTHER_CODE = "020594X903P"
OTHER_NAME = "Ella Toinen-Lapsi"


def new_draft(world, **saved):
    """A draft of the sending unit; saved with ``saved`` as its content when given."""
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"), [],
                         "lsl_disclosure")
    if saved:
        drafts.save(sender, draft, saved)
    return draft.id


def events(action, handover_id=None):
    statement = select(AuditEvent).where(AuditEvent.action == action)
    if handover_id is not None:
        statement = statement.where(AuditEvent.handover_id == handover_id)
    return list(db.session.execute(statement.order_by(AuditEvent.id)).scalars())


def child_events(code):
    return [event.action for event in db.session.execute(
        select(AuditEvent).where(about_child(crypto.identity_hash(code)))).scalars()]


def test_another_childs_handover_is_neither_offered_nor_taken_over(app, client, world):
    """The review's case: Leo's draft, Ella's code posted on its journey page. Ella's
    handovers are listed (a look-up, audited) but none is offered, and posting her
    handover's number takes nothing over."""
    with app.app_context():
        ella = send_handover(world, child_identity_code=OTHER_CODE, child_name=OTHER_NAME)
        draft = new_draft(world, child_name="Leo", child_identity_code=CHILD_CODE)
        granted = access_for(world, "sending_sender", draft, "edit")
        with pytest.raises(LifecycleError):
            prefill.take_over(granted, world.user("sending_sender"),
                              db.session.get(Handover, ella), "shared")
    login_as(client, app, world.users["sending_sender"])
    page = client.post(f"/handovers/{draft}/journey",
                       data={"identity_code": OTHER_CODE}).get_data(as_text=True)
    assert f"#{ella}" in page                       # listed: her handovers, metadata only
    assert 'name="source"' not in page and "Take over" not in page
    assert "not the one saved in the draft" in page
    response = client.post(f"/handovers/{draft}/prefill",
                           data={"source": ella, "scope": "shared"})
    assert response.status_code == 404
    with app.app_context():
        taken = drafts.content_of(db.session.get(Handover, draft))
        assert taken == {"child_name": "Leo", "child_identity_code": CHILD_CODE}
        assert db.session.get(Handover, draft).prefilled_from_id is None
        assert events("handover.prefilled") == [] and events("handover.copied_from") == []


@pytest.mark.parametrize("source", ["99999999999999999999", "٨", "²"])
def test_a_source_number_no_handover_has_is_404(app, client, world, source):
    """Twenty digits overflowed the database's integer (a 500), and "٨" read as 8."""
    with app.app_context():
        draft = drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                             world.unit("receiving"), [], "lsl_disclosure").id
    login_as(client, app, world.users["sending_sender"])
    response = client.post(f"/handovers/{draft}/prefill", data={"source": source,
                                                                "scope": "shared"})
    assert response.status_code == 404


def test_a_draft_naming_no_child_yet_takes_the_looked_up_childs_answers_and_code(
        app, client, world):
    """Fill once: a new draft, the child's code looked up on its journey page, their latest
    handover's answers taken over. The draft then names that child (the child's section
    brings the code), so nothing of another child can follow."""
    with app.app_context():
        first = send_handover(world)
        draft = new_draft(world)
    login_as(client, app, world.users["sending_sender"])
    page = client.post(f"/handovers/{draft}/journey",
                       data={"identity_code": CHILD_CODE}).get_data(as_text=True)
    assert f"#{first}" in page and 'name="source"' in page
    client.post(f"/handovers/{draft}/prefill", data={"source": first, "scope": "whole"})
    with app.app_context():
        taken = drafts.content_of(db.session.get(Handover, draft))
        assert taken["child_identity_code"] == CHILD_CODE
        assert [event.handover_id for event in events("handover.copied_from")] == [first]


def test_answers_that_leave_the_draft_naming_no_child_are_not_taken(app, world):
    """A handover sent without the child's code (hidden placement, no code known) cannot
    give a draft that names no child its answers: the draft would still name nobody."""
    with app.app_context():
        first = send_handover(world, child_identity_code="")
        draft = new_draft(world, child_name="Vielä nimetön")
        granted = access_for(world, "sending_sender", draft, "edit")
        with pytest.raises(LifecycleError):
            prefill.take_over(granted, world.user("sending_sender"),
                              db.session.get(Handover, first), "whole")
        assert drafts.content_of(db.session.get(Handover, draft)) == {
            "child_name": "Vielä nimetön"}
        assert events("handover.prefilled") == [] and events("handover.copied_from") == []


def test_taking_over_the_same_childs_answers_is_audited_on_the_source(app, client, world):
    """The source's read is in its child's report and under the log's filter by the source."""
    with app.app_context():
        first = send_handover(world)
        send_handover(world, child_identity_code=OTHER_CODE, child_name=OTHER_NAME)
        draft = new_draft(world, child_identity_code=CHILD_CODE)
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft}/journey").get_data(as_text=True)
    assert f'name="source" value="{first}"' in page
    client.post(f"/handovers/{draft}/prefill", data={"source": first, "scope": "whole"})
    with app.app_context():
        taken = drafts.content_of(db.session.get(Handover, draft))
        assert taken["health_notes"] == content()["health_notes"]
        [copied] = events("handover.copied_from", first)
        assert copied.detail and str(draft) in copied.detail
        assert copied.actor_id == world.users["sending_sender"].id
        assert copied.unit_id == world.units["sending"].id
        [prefilled] = events("handover.prefilled", draft)
        assert str(first) in prefilled.detail
        assert "handover.copied_from" in child_events(CHILD_CODE)
        assert "handover.copied_from" not in child_events(OTHER_CODE)


def test_a_correction_is_audited_on_the_handover_it_copies(app, world):
    with app.app_context():
        sent = send_handover(world)
        new = withdrawal.correct(access_for(world, "sending_sender", sent, "correct"),
                                 world.user("sending_sender"))
        [copied] = events("handover.copied_to_correction", sent)
        assert str(new.id) in copied.detail
        assert copied.unit_id == world.units["sending"].id
        [started] = events("handover.correction_started", new.id)
        assert str(sent) in started.detail
        assert "handover.copied_to_correction" in child_events(CHILD_CODE)
        # "Correct" pressed again finds the same draft: no second copy.
        again = withdrawal.correct(access_for(world, "sending_sender", sent, "correct"),
                                   world.user("sending_sender"))
        assert again.id == new.id and len(events("handover.copied_to_correction")) == 1


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_copy_events_and_the_refusals_read_in_each_language(app, language):
    texts = [audit_labels.LABELS["handover.copied_from"],
             audit_labels.LABELS["handover.copied_to_correction"],
             prefill.NO_CHILD, prefill.OTHER_CHILD, prefill.OTHER_CHILD_ON_PAGE]
    with app.test_request_context():
        with force_locale("en"):
            english = [str(text) for text in texts]
        with force_locale(language):
            translated = [str(text) for text in texts]
    assert all(ours != theirs for ours, theirs in zip(translated, english, strict=True))
