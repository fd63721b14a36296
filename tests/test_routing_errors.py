"""A route the services refuse on the routing page (step 2, or changing a draft's routing) is
shown like every other form error: 400, the error summary linking to the choice it is about,
the message beside that choice, "Error:" first in the title, and every choice kept."""

import re

import lifecycle_support
import pytest
from lifecycle_support import FORM_KEY, handover, login_as
from sqlalchemy import func, select

from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover

# Fixtures shared by the lifecycle tests (the test plugin and a world of units and people).
app_config = lifecycle_support.app_config
world = lifecycle_support.world


@pytest.fixture
def sender(app, client, world):
    """The sending unit's sender, logged in, reading Finnish (the default language)."""
    login_as(client, app, world.users["sending_sender"])
    with client.session_transaction() as session:
        session["language"] = "fi"
    return client


@pytest.fixture
def draft(app, world):
    """The id of a draft routed to the receiving ward, a copy to social work."""
    with app.app_context():
        return drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                            world.unit("receiving"), [world.unit("copy")], "lsl_disclosure").id


def checked(page, value):
    return re.search(rf'<input[^>]*\bchecked\b[^>]*value="{value}"', page) is not None


def assert_error_on(response, field_id, message):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<title>Virhe:" in page
    summary = page.index('class="error-summary"')
    assert summary < page.index("<h1")
    assert f'href="#{field_id}"' in page[summary:]
    assert re.search(rf'id="{field_id}-error">[^<]*{re.escape(message)}', page)
    return page


def test_start_without_receiver_shows_the_error_on_the_receiver(app, client, world, sender):
    copy = world.units["copy"].id
    response = client.post(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}", data={
        "receiver": "", "copies": [str(copy)], "legal_basis": "guardian_consent"})
    page = assert_error_on(response, "receiver", "Valitse vastaanottava yksikkö.")
    assert checked(page, copy) and checked(page, "guardian_consent"), "a choice was lost"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Handover)).scalar() == 0


def test_copy_not_offered_shows_the_error_on_the_copies(app, client, world, sender):
    receiver = world.units["receiving"].id
    response = client.post(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}", data={
        "receiver": str(receiver), "copies": [str(world.units["other"].id)],
        "legal_basis": "lsl_disclosure"})
    page = assert_error_on(response, "copies",
                           "Tämän lomakkeen kopiota ei saa lähettää tälle yksikölle.")
    assert re.search(rf'<option[^>]*selected[^>]*value="{receiver}"', page)
    assert 'id="receiver-error"' not in page


def test_changing_routing_without_receiver_keeps_the_draft_as_it_was(app, client, world,
                                                                    sender, draft):
    response = client.post(f"/handovers/{draft}/routing", data={
        "receiver": "", "legal_basis": "guardian_consent"})
    page = assert_error_on(response, "receiver", "Valitse vastaanottava yksikkö.")
    assert checked(page, "guardian_consent")
    with app.app_context():
        assert handover(draft).receiver_unit_id == world.units["receiving"].id
        assert handover(draft).legal_basis == "lsl_disclosure"


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "²", "٨", "-3"])
def test_a_unit_number_no_unit_has_is_no_choice_not_a_500(app, client, world, sender, draft,
                                                          value):
    """A tampered or careless post: twenty digits overflowed the database's integer (a 500 on
    both databases), "²" failed int(), and "٨" was read as unit 8."""
    response = client.post(f"/handovers/{draft}/routing", data={
        "receiver": value, "legal_basis": "lsl_disclosure"})
    assert_error_on(response, "receiver", "Valitse vastaanottava yksikkö.")
    response = client.post(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}", data={
        "receiver": value, "copies": [value], "legal_basis": "lsl_disclosure"})
    assert_error_on(response, "receiver", "Valitse vastaanottava yksikkö.")
    with app.app_context():
        assert handover(draft).receiver_unit_id == world.units["receiving"].id
