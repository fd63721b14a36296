"""Fill once: a second handover of the same child takes over the answers of the latest one from
the sender's units — the whole content into the same form, the shared sections into another —
marked until the sender confirms each section; and it takes far fewer inputs than the first."""

import secrets

import lifecycle_support
import pytest
from lifecycle_support import FORM_KEY, access_for, login_as
from sqlalchemy import select
from test_journey_retention import send_ward_form

from handover.cli.demo_handovers import ward_content
from handover.services import LifecycleError, drafts, prefill, sending
from handover.store.database import db
from handover.store.models import AuditEvent, Handover
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

WARD = "psychiatric_ward_preinfo"


def answers(content):
    """How many inputs a filled content holds: each answered field, each field of each row."""
    count = 0
    for value in content.values():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            count += sum(1 for row in value for v in row.values() if v not in (None, ""))
        elif value not in (None, "", []):
            count += 1
    return count


def new_draft(world, form_key=WARD):
    """A draft saved with the child's identity code: answers are taken over only from a
    handover of the child whose code the draft has saved."""
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), form_key, world.unit("receiving"), [],
                         "child_welfare_necessary" if form_key == WARD else "lsl_disclosure")
    drafts.save(sender, draft,
                {"child_identity_code": ward_content()["child_identity_code"]})
    return draft.id


def test_a_second_ward_form_takes_over_everything_but_consent_and_touches_few_inputs(
        app, world):
    with app.app_context():
        first = send_ward_form(world, utcnow())
        first_inputs = answers(ward_content())
        draft = new_draft(world)
        granted = access_for(world, "sending_sender", draft, "edit")
        source = db.session.get(Handover, first)
        assert prefill.scopes(granted.handover, source) == ["whole", "shared"]
        filled = prefill.take_over(granted, world.user("sending_sender"), source, "whole")
        assert "child" in filled and "health" in filled
        assert "decides" not in filled and "child_view" not in filled
        taken = drafts.content_of(db.session.get(Handover, draft))
        assert taken["child_name"] == ward_content()["child_name"]
        assert "custody_situation" not in taken  # consent belongs to each disclosure

        # The key worker: answers what was not taken, changes what differs this time,
        # confirms each marked section.
        final = {**ward_content(), "arrival_reason": "Uusi jakso: itsetuhoisuus"}
        typed = {k: v for k, v in final.items() if taken.get(k) != v}
        sender = world.user("sending_sender")
        drafts.save(sender, db.session.get(Handover, draft), {**taken, **typed})
        with pytest.raises(LifecycleError):
            sending.send(sender, db.session.get(Handover, draft), secrets.token_urlsafe(8))
        for key in list(prefill.awaiting(db.session.get(Handover, draft))):
            prefill.confirm(access_for(world, "sending_sender", draft, "edit"), sender, key)
        sending.send(sender, db.session.get(Handover, draft), secrets.token_urlsafe(8))
        second_inputs = answers(typed) + len(filled)
        print(f"\ninputs touched: first ward form {first_inputs}, "
              f"second {second_inputs} ({answers(typed)} typed + {len(filled)} confirmations)")
        assert second_inputs * 3 < first_inputs
        event = db.session.query(AuditEvent).filter_by(action="handover.prefilled").one()
        assert event.handover_id == draft and str(first) in str(event.detail)


def test_another_form_takes_over_only_the_shared_sections(app, world):
    with app.app_context():
        first = send_ward_form(world, utcnow())
        draft = new_draft(world, FORM_KEY)
        granted = access_for(world, "sending_sender", draft, "edit")
        source = db.session.get(Handover, first)
        assert prefill.scopes(granted.handover, source) == ["shared"]
        with pytest.raises(LifecycleError):
            prefill.take_over(granted, world.user("sending_sender"), source, "whole")
        filled = prefill.take_over(granted, world.user("sending_sender"), source, "shared")
        assert filled == ["child", "placement"]
        taken = drafts.content_of(db.session.get(Handover, draft))
        assert taken["child_identity_code"] == ward_content()["child_identity_code"]
        assert "health_notes" not in taken


def test_prefill_from_the_page_is_marked_until_confirmed(app, client, world):
    with app.app_context():
        first = send_ward_form(world, utcnow())
        draft = new_draft(world)
        code = ward_content()["child_identity_code"]
    login_as(client, app, world.users["sending_sender"])
    page = client.post(f"/handovers/{draft}/journey", data={"identity_code": code})
    text = page.get_data(as_text=True)
    assert "Take over all answers" in text and f"#{first}" in text
    page = client.post(f"/handovers/{draft}/prefill", data={"source": first, "scope": "whole"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Answers taken over from an earlier handover" in page
    assert "Confirm this section" in page
    client.post(f"/handovers/{draft}/prefill/confirm", data={"section": "child"})
    with app.app_context():
        assert "child" not in prefill.awaiting(db.session.get(Handover, draft))
    other = app.test_client()
    login_as(other, app, world.users["other_sender"])
    assert other.post(f"/handovers/{draft}/prefill",
                      data={"source": first, "scope": "whole"}).status_code == 404


def test_a_unit_cannot_take_over_another_units_handover(app, world):
    """The source must be the child's latest handover from the user's own sending units."""
    with app.app_context():
        first = send_ward_form(world, utcnow())
        draft = new_draft(world)
        granted = access_for(world, "sending_sender", draft, "edit")
        with pytest.raises(LifecycleError):
            prefill.take_over(granted, world.user("receiving_receiver"),
                              db.session.get(Handover, first), "whole")


def _refusals_of_take_over(app, **where):
    with app.app_context():
        return [event.detail for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "handover.access_denied",
                                     *(getattr(AuditEvent, key) == value
                                       for key, value in where.items())))
                if "take_over" in (event.detail or "")]


def test_a_source_the_page_does_not_offer_is_refused_and_logged(app, client, world):
    """Posting another child's handover, or an id that names none, as the source answers 404
    as any handover one may not see does, and the attempt is in the log."""
    with app.app_context():
        sender = world.user("sending_sender")
        other_child = drafts.start(sender, world.unit("sending"), WARD, world.unit("receiving"),
                                   [], "child_welfare_necessary")
        drafts.save(sender, other_child, {**ward_content(), "child_identity_code": "050610A2346",
                                          "child_birth_date": "2010-06-05"})
        other_child = sending.send(sender, other_child, secrets.token_urlsafe(16)).id
        draft = new_draft(world)
    login_as(client, app, world.users["sending_sender"])
    for source in (other_child, 987654):
        answer = client.post(f"/handovers/{draft}/prefill",
                             data={"source": source, "scope": "whole"})
        assert answer.status_code == 404
    assert len(_refusals_of_take_over(app, handover_id=other_child)) == 1
    assert any("987654" in detail for detail in _refusals_of_take_over(app, handover_id=None))
    with app.app_context():
        assert db.session.get(Handover, draft).prefilled_from_id is None
