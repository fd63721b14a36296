"""Races left at the last stop: the same page's typing kept twice at once after the session
ended; a placement update sent from a handover withdrawn meanwhile. As in
test_races_review_2, where both checks must run before either commits, the other request runs
in a thread at that point."""

import threading
from datetime import timedelta
from types import SimpleNamespace

import lifecycle_support
import pytest
from lifecycle_support import (
    CHILD_CODE,
    CHILD_NAME,
    empty_draft,
    login_as,
    meanwhile,
    send_handover,
)
from sqlalchemy import func, select, update

from handover.services import LifecycleError, kept_typing, policy, updates, withdrawal
from handover.store.database import db
from handover.store.models import Handover, KeptTyping, UserSession
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

SECTION = "health"


def _claim_after_expiry(app, client, world, draft_id):
    """The claim of the sender's keep token for the section page, once their session has
    timed out (what a post from that page carries)."""
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{draft_id}/sections/{SECTION}").get_data(as_text=True)
    token = page.split('name="keep_token" value="', 1)[1].split('"', 1)[0]
    with app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=utcnow() - app.config["IDLE_TIMEOUT"] - timedelta(minutes=1)))
        db.session.commit()
        return kept_typing.token_owner(token, draft_id, SECTION)


def test_a_page_kept_twice_at_once_keeps_the_later_copy(app, client, world, monkeypatch):
    """Two tabs of the section page (or a double click) posting after the timeout: both found
    no earlier copy to replace, and the second insert broke the place's one-copy rule (a 500
    on PostgreSQL). The second now waits for the first and replaces its copy."""
    draft_id = empty_draft(app, world)
    claim = _claim_after_expiry(app, client, world, draft_id)
    assert claim is not None
    seal, others, results = kept_typing._seal, [], []

    def the_other_tab_keeps():
        with app.app_context():
            results.append(kept_typing.keep(claim, draft_id, SECTION,
                                            [("health_notes", "second tab")]))

    def sealed_then_the_other_tab_posts(*args):
        monkeypatch.setattr(kept_typing, "_seal", seal)
        other = threading.Thread(target=the_other_tab_keeps)
        other.start()
        other.join(1.0)   # it finishes now unless it has to wait for this keep
        others.append(other)
        return seal(*args)

    monkeypatch.setattr(kept_typing, "_seal", sealed_then_the_other_tab_posts)
    with app.app_context():
        results.append(kept_typing.keep(claim, draft_id, SECTION,
                                        [("health_notes", "first tab")]))
    others[0].join(30)
    assert not others[0].is_alive()
    assert results == [True, True]
    with app.app_context():
        rows = db.session.execute(select(KeptTyping)).scalars().all()
        assert len(rows) == 1
        draft = lifecycle_support.handover(draft_id)
        kept = kept_typing._open(draft, SimpleNamespace(id=rows[0].user_id), rows[0].fields)
    assert kept == [("health_notes", "second tab")]


def to_the_other_unit(world):
    """A handover of the same child from the sending unit to the other unit."""
    from handover.services import drafts, sending
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                         world.unit("other"), [], "lsl_disclosure")
    drafts.save(sender, draft, lifecycle_support.content())
    return sending.send(sender, draft, "token-to-the-other-unit").id


def test_no_update_is_sent_from_a_handover_withdrawn_meanwhile(app, world):
    """The update page was loaded, then the sender's colleague withdrew the handover: the
    update went out all the same, through a handover that no longer exists for its receiver."""
    with app.app_context():
        to_the_other_unit(world)    # the child's earlier handover: a unit to update
        original = send_handover(world, copies=False)
    with app.test_request_context():
        sender = world.user("sending_sender")
        granted = policy.require(sender, original, "update")

        def the_colleague_withdraws():
            colleague = world.user("sending_sender")
            withdrawal.withdraw(policy.require(colleague, original, "withdraw"), colleague)

        meanwhile(app, the_colleague_withdraws)
        with pytest.raises(LifecycleError):
            updates.send_update(granted, sender, {
                "child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
                "change_kind": "moved", "effective_date": "2026-12-01",
                "details": "Uusi sijoituspaikka"}, language="en")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Handover).where(
            Handover.update_of_id == original)).scalar() == 0
