"""The reader of a correction is told first which sections it changed, not left to compare two
versions line by line; reading the earlier version to tell is logged on it."""

import re

import lifecycle_support
from lifecycle_support import access_for, content, login_as, send_handover
from sqlalchemy import select

from handover.services import drafts, sending, withdrawal
from handover.store.database import db
from handover.store.models import AuditEvent

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def corrected(app, world, **changes):
    """The id of the handover sent first, and of its correction with ``changes``."""
    with app.app_context():
        first = send_handover(world)
        sender = world.user("sending_sender")
        draft = withdrawal.correct(access_for(world, "sending_sender", first, "correct"), sender)
        drafts.save(sender, draft, content(**changes))
        return first, sending.send(sender, draft, f"correct-{first}").id


def notice_of(page):
    start = page.index("This handover corrects handover #")
    return page[start:page.index("</div>", start)]


def test_the_correction_names_the_sections_it_changed(app, client, world):
    first, correction = corrected(app, world, health_notes="Uusi lääkitys: sertraliini 25 mg")
    login_as(client, app, world.users["receiving_receiver"])
    notice = notice_of(client.get(f"/handovers/{correction}").get_data(as_text=True))
    assert re.findall(r'<a class="govuk-link" href="#content-(\w+)">([^<]+)</a>', notice) == [
        ("health", "Health")]
    with app.app_context():
        compared = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "handover.compared")).scalars().all()
        assert [(event.handover_id, event.unit_id) for event in compared] == [
            (first, world.units["receiving"].id)]


def test_a_correction_that_changed_no_answer_says_so(app, client, world):
    _, correction = corrected(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    notice = notice_of(client.get(f"/handovers/{correction}").get_data(as_text=True))
    assert "None of the answers shown here changed from the earlier version." in notice
    assert "#content-" not in notice


def test_a_copy_unit_is_told_only_of_the_sections_it_is_shown(app, client, world):
    """The copy unit does not see the placement (its address reveals where the child lives
    when the location is hidden): a change there is not named to it, nor its section."""
    _, correction = corrected(app, world, location_hidden="yes", placement_address="Uusi tie 2")
    login_as(client, app, world.users["copy_receiver"])
    notice = notice_of(client.get(f"/handovers/{correction}").get_data(as_text=True))
    assert "#content-placement" not in notice
    assert '"#content-child">The child</a>' in notice   # the marking it is shown did change
