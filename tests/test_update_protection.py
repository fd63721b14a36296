"""A placement update about a protected child carries the protection of the child's handovers:
every reader of the update (the units that received a handover, those that got only a copy,
the sender) sees the warning the handover showed, and a unit that got only a copy of a handover
hiding where the child lives gets the update's location fields (its free text) hidden too, on
the page and through the API. The flags travel sealed in the update's content, never in
plaintext."""

import api_support
import lifecycle_support
from api_support import bearer
from lifecycle_support import (
    CHILD_CODE,
    CHILD_NAME,
    access_for,
    handover,
    login_as,
    send_handover,
)

from handover.services import reader_view, updates
from handover.services.fhir.shown import shown_content

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

NEW_ADDRESS = "Uusi osoite: Piilokuja 4 A 1"
UPDATE = {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
          "change_kind": "moved", "effective_date": "2026-12-01",
          "details": NEW_ADDRESS}
WARNING = "hv-location-warning"


def send_update_from(world, original_id):
    """Send `UPDATE` from ``original_id``; {unit name: the update it got}."""
    sent = updates.send_update(access_for(world, "sending_sender", original_id, "update"),
                               world.user("sending_sender"), dict(UPDATE), language="en")
    names = {unit.id: name for name, unit in world.units.items()}
    return {names[update.receiver_unit_id]: update.id for update in sent}


def view_of(world, person, update_id):
    return reader_view.open_for_reader(access_for(world, person, update_id), world.user(person),
                                       language="en")


def to_other_ward(world, **overrides):
    """A handover of the same child from the sending unit to the other ward, no copies."""
    from handover.services import drafts, sending
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), lifecycle_support.FORM_KEY,
                         world.unit("other"), [], "lsl_disclosure")
    drafts.save(sender, draft, lifecycle_support.content(**overrides))
    return sending.send(sender, draft, "token-other-ward").id


def test_every_reader_of_an_update_sees_the_warning_of_the_hidden_location(app, client,
                                                                            world):
    with app.app_context():
        original = send_handover(world, copies=True, location_hidden="yes")
        reached = send_update_from(world, original)
        assert set(reached) == {"receiving", "copy"}
        for person, unit in (("receiving_receiver", "receiving"), ("copy_receiver", "copy"),
                             ("sending_sender", "receiving")):
            view = view_of(world, person, reached[unit])
            assert view.location_warning and view.location_cases == ["Location hidden"]
            assert view.carried_flags == {"non_disclosure": "no", "location_hidden": "yes"}
            # Location fields (the update's free text) are hidden from the unit that got only
            # a copy, and from nobody else, as the sender was told on the update page.
            assert view.hide_location == (person == "copy_receiver")
    for person, unit in (("copy_receiver", "copy"), ("receiving_receiver", "receiving")):
        reader = app.test_client()
        login_as(reader, app, world.users[person])
        page = reader.get(f"/handovers/{reached[unit]}").get_data(as_text=True)
        assert WARNING in page and "Location hidden" in page and "Hidden location" in page
        assert (NEW_ADDRESS in page) == (person == "receiving_receiver")


def test_a_unit_that_got_only_a_copy_has_the_updates_location_fields_hidden(app, client,
                                                                             world):
    with app.app_context():
        original = send_handover(world, copies=True, location_hidden="yes")
        reached = send_update_from(world, original)
        copy_view = view_of(world, "copy_receiver", reached["copy"])
        assert copy_view.location_warning and copy_view.hide_location
        receiver_view = view_of(world, "receiving_receiver", reached["receiving"])
        assert receiver_view.location_warning and not receiver_view.hide_location
        sender_view = view_of(world, "sending_sender", reached["copy"])
        assert sender_view.location_warning and not sender_view.hide_location
    login_as(client, app, world.users["copy_receiver"])
    page = client.get(f"/handovers/{reached['copy']}").get_data(as_text=True)
    assert WARNING in page and NEW_ADDRESS not in page and "Hidden" in page
    receiver = app.test_client()
    login_as(receiver, app, world.users["receiving_receiver"])
    page = receiver.get(f"/handovers/{reached['receiving']}").get_data(as_text=True)
    assert WARNING in page and NEW_ADDRESS in page


def test_an_update_from_an_unflagged_handover_carries_the_flag_of_another(app, world):
    """The update from the other ward's handover (no flag) reaches the units of the flagged one
    too: it carries the flags to every reader; only the main receiver of the flagged handover
    sees the location fields."""
    with app.app_context():
        # (The test form asks a non-disclosure marking to hide the location as well.)
        send_handover(world, copies=True, non_disclosure="yes", location_hidden="yes")
        plain = to_other_ward(world)
        reached = send_update_from(world, plain)
        assert set(reached) == {"receiving", "copy", "other"}
        seen = {unit: view_of(world, f"{unit}_receiver", update_id)
                for unit, update_id in reached.items()}
    cases = ["Non-disclosure marking", "Location hidden"]
    assert {unit: (view.location_cases, view.hide_location) for unit, view in seen.items()} == {
        "receiving": (cases, False), "copy": (cases, True), "other": (cases, True)}
    assert all(view.carried_flags == {"non_disclosure": "yes", "location_hidden": "yes"}
               for view in seen.values())


def test_an_update_about_an_unprotected_child_warns_nobody(app, client, world):
    with app.app_context():
        reached = send_update_from(world, send_handover(world, copies=True))
        for unit, update_id in reached.items():
            view = view_of(world, f"{unit}_receiver", update_id)
            assert not view.location_warning and not view.hide_location
            assert view.location_cases == []
    login_as(client, app, world.users["copy_receiver"])
    page = client.get(f"/handovers/{reached['copy']}").get_data(as_text=True)
    assert WARNING not in page and NEW_ADDRESS in page


def test_the_api_read_of_the_update_gives_the_flags_and_redacts_as_the_page(
        app, client, world, api):
    with app.app_context():
        reached = send_update_from(world, send_handover(world, copies=True,
                                                        location_hidden="yes"))
    copy_read = client.get(f"/api/v1/handovers/{reached['copy']}", headers=bearer(api["copy"]))
    assert copy_read.status_code == 200, copy_read.json
    assert copy_read.json["relation"] == "receiving"   # the update is its own to acknowledge
    assert copy_read.json["content"]["location_hidden"] == "yes"
    assert copy_read.json["content"]["non_disclosure"] == "no"
    assert copy_read.json["redacted"] == ["details"]
    assert "details" not in copy_read.json["content"]
    assert NEW_ADDRESS not in copy_read.get_data(as_text=True)
    assert updates.PROTECTION_KEY not in copy_read.json["content"]
    receiver_read = client.get(f"/api/v1/handovers/{reached['receiving']}",
                               headers=bearer(api["receiving"]))
    assert receiver_read.json["content"]["location_hidden"] == "yes"
    assert receiver_read.json["content"]["details"] == NEW_ADDRESS
    assert receiver_read.json["redacted"] == []


def test_the_carried_flags_are_sealed_never_plaintext(app, world):
    with app.app_context():
        reached = send_update_from(world, send_handover(world, copies=True,
                                                        location_hidden="yes"))
        for update_id in reached.values():
            stored = handover(update_id)
            for column in stored.__table__.columns:
                value = getattr(stored, column.key)
                raw = value if isinstance(value, bytes) else str(value).encode()
                for marker in (b"location_hidden", updates.PROTECTION_KEY.encode(),
                               b"Location hidden", NEW_ADDRESS.encode()):
                    assert marker not in raw, column.key


def test_content_not_carrying_protection_is_read_as_none():
    """What an update sealed before updates carried protection (or a damaged shape) reads as
    no flags, and a missing ``hide_location`` hides (the safe side)."""
    assert updates.carried({"details": "x"}) == ([], False)
    assert updates.carried({updates.PROTECTION_KEY: "nonsense"}) == ([], False)
    assert updates.carried_flags({updates.PROTECTION_KEY: {"flags": "x"}}) == {}
    label = {"fi": "Turvakielto", "en": "Non-disclosure marking"}
    assert updates.carried({updates.PROTECTION_KEY: {"labels": {"non_disclosure": label}}}) \
        == ([label], True)


def test_the_fhir_and_api_content_of_a_handover_is_unchanged(app, world):
    """A handover (not an update) carries no flags of its own beyond its fields."""
    with app.app_context():
        original = send_handover(world, copies=True, location_hidden="yes")
        view = view_of(world, "copy_receiver", original)
        content, redacted = shown_content(view)
    assert view.carried_flags == {} and view.hide_location
    assert content["location_hidden"] == "yes" and redacted == ["placement_address"]


def test_the_update_page_warns_its_sender_on_the_rule_its_readers_see(app, client, world):
    """Sent from a handover that carried no flag, the update still carries another handover's:
    the page warns the sender before sending, as the readers will be warned."""
    with app.app_context():
        send_handover(world, copies=True, non_disclosure="yes", location_hidden="yes")
        plain = to_other_ward(world)
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/{plain}/update").get_data(as_text=True)
    assert "Where this child lives is protected" in page
    assert "Non-disclosure marking" in page and "Location hidden" in page
