"""A placement update's free text ("moved to the X family home in Y") can say where the child
lives: about a child whose location is hidden, a unit that got only a copy of the child's
handover reads the update without it, on the page, in print, through the JSON API and in the
FHIR export alike, while the main receiver reads it in full. The update page tells its sender
exactly which units the text is hidden from."""

import json

import api_support
import lifecycle_support
from api_support import bearer
from lifecycle_support import CHILD_CODE, CHILD_NAME, access_for, login_as, send_handover

from handover.services import updates

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

NEW_PLACE = "Siirtyi Mäntylän perhekotiin Kaarinassa"
UPDATE = {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
          "change_kind": "moved", "effective_date": "2026-12-01", "details": NEW_PLACE}
HIDDEN = "Hidden to protect where the child lives."


def _text(response):
    """The JSON answer as text, its letters as they are (not \\u-escaped)."""
    return json.dumps(response.json, ensure_ascii=False)


def _send_update(app, world, **flags):
    """A handover of the child (with a copy) carrying ``flags``, and the update sent from it;
    {unit name: the id of the update it got}."""
    with app.app_context():
        original = send_handover(world, copies=True, **flags)
        sent = updates.send_update(access_for(world, "sending_sender", original, "update"),
                                   world.user("sending_sender"), dict(UPDATE), language="en")
        names = {unit.id: name for name, unit in world.units.items()}
        return original, {names[update.receiver_unit_id]: update.id for update in sent}


def test_a_copy_unit_reads_the_update_without_its_free_text_in_page_and_print(app, world):
    _original, reached = _send_update(app, world, location_hidden="yes")
    copy_reader = login_as(app.test_client(), app, world.users["copy_receiver"])
    for path in (f"/handovers/{reached['copy']}", f"/handovers/{reached['copy']}/print"):
        page = copy_reader.get(path).get_data(as_text=True)
        assert NEW_PLACE not in page, path
        assert HIDDEN in page and "The child moved" in page, path
    receiver = login_as(app.test_client(), app, world.users["receiving_receiver"])
    for path in (f"/handovers/{reached['receiving']}",
                 f"/handovers/{reached['receiving']}/print"):
        page = receiver.get(path).get_data(as_text=True)
        assert NEW_PLACE in page and HIDDEN not in page, path


def test_a_copy_units_system_gets_the_update_without_its_free_text(app, client, world, api):
    _original, reached = _send_update(app, world, non_disclosure="yes", location_hidden="yes")
    read = client.get(f"/api/v1/handovers/{reached['copy']}", headers=bearer(api["copy"]))
    assert read.status_code == 200, read.json
    assert read.json["redacted"] == ["details"]
    assert read.json["content"]["change_kind"] == "moved"
    assert NEW_PLACE not in _text(read)
    fhir = client.get(f"/api/v1/handovers/{reached['copy']}/fhir", headers=bearer(api["copy"]))
    assert fhir.status_code == 200, fhir.json
    assert NEW_PLACE not in _text(fhir)
    # The main receiver of the child's handover already holds the location: in full.
    full = client.get(f"/api/v1/handovers/{reached['receiving']}",
                      headers=bearer(api["receiving"]))
    assert full.json["content"]["details"] == NEW_PLACE and full.json["redacted"] == []
    fhir = client.get(f"/api/v1/handovers/{reached['receiving']}/fhir",
                      headers=bearer(api["receiving"]))
    assert NEW_PLACE in _text(fhir)


def test_an_update_about_an_unprotected_child_is_read_in_full_by_every_unit(app, client,
                                                                          world, api):
    _original, reached = _send_update(app, world)
    read = client.get(f"/api/v1/handovers/{reached['copy']}", headers=bearer(api["copy"]))
    assert read.json["content"]["details"] == NEW_PLACE and read.json["redacted"] == []
    page = login_as(app.test_client(), app, world.users["copy_receiver"]).get(
        f"/handovers/{reached['copy']}").get_data(as_text=True)
    assert NEW_PLACE in page


def test_the_update_page_tells_the_sender_whom_the_free_text_is_hidden_from(app, client,
                                                                            world):
    original, _reached = _send_update(app, world, location_hidden="yes")
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{original}/update").get_data(as_text=True)
    warning = page.split('id="protected-child"')[1].split("</div>")[0]
    assert ("What you write under “What the receiver needs to know or do” is hidden from "
            "these units: Copy unit.") in warning
    assert ("Everything else you type here reaches every unit listed below in full: "
            "Copy unit, Receiving unit.") in warning
    # No longer the claim that the copy unit reads everything.
    assert "the units that got only a copy of the handover included" not in page
    listed = page.split('id="recipients-title"')[1].split("</ul>")[0]
    assert ("Copy unit <span class=\"muted\">(Hidden from this unit to protect where the "
            "child lives: What the receiver needs to know or do)</span>") in listed
    assert "Receiving unit</li>" in listed
    assert ("Before you send: check that nothing above reveals where the child lives outside "
            "“What the receiver needs to know or do”.") in page


def test_the_update_page_warns_in_finnish_and_swedish(app, client, world):
    original, _reached = _send_update(app, world, location_hidden="yes")
    login_as(client, app, world.users["sending_sender"])
    for language, words in (
            ("fi", "Kohtaan ”Mitä vastaanottajan pitää tietää tai tehdä” kirjoittamasi "
                   "teksti piilotetaan näiltä yksiköiltä: Copy unit."),
            ("sv", "Det du skriver under ”Vad mottagaren behöver veta eller göra” döljs för "
                   "dessa enheter: Copy unit.")):
        with client.session_transaction() as session:
            session["language"] = language
        page = client.get(f"/handovers/{original}/update").get_data(as_text=True)
        assert words in page, language
