"""The page of a record that failed its integrity check speaks the user's language: its text
used to reach ``_()`` through a variable, so the extraction never put it in the catalogues."""

import lifecycle_support
import pytest
from lifecycle_support import login_as, tampered_handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world

ENGLISH = "failed its integrity check"


@pytest.mark.parametrize("language, heading, message", [
    ("fi", "Tietueen eheystarkistus epäonnistui",
     "Tämän tietueen eheystarkistus epäonnistui, eikä sitä näytetä. Tapahtuma on kirjattu."),
    ("sv", "Posten klarade inte integritetskontrollen",
     "Den här posten klarade inte integritetskontrollen och visas inte. "
     "Händelsen har loggats."),
])
def test_the_integrity_error_page_is_in_the_users_language(app, client, world, language,
                                                           heading, message):
    handover_id = tampered_handover(app, world)
    login_as(client, app, world.users["receiving_receiver"])
    with client.session_transaction() as session:
        session["language"] = language
    response = client.get(f"/handovers/{handover_id}")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert message in page and ENGLISH not in page
    # Its heading says what happened to the record, not that an action can no longer be done.
    assert f"<h1>{heading}</h1>" in page
