"""An integrator's typo in a draft's content (``allergy`` for ``allergies``) must not lose what it
carried: a content key that names no field of the form, or no field of a repeating group's row,
is refused (422 at ``content.<key>``, ``content.<group>.<row>.<key>``) and nothing is stored,
as an unknown field of the request itself is. A field of the form is never unknown, even one
this sender's kind does not fill or whose condition is false: those are left out as before."""

import api_support
import lifecycle_support
import pytest
from api_support import bearer, draft_body, make_token
from flask_babel import force_locale
from support import create_unit

from handover.cli.demo_handovers import ward_content
from handover.i18n import gettext
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
api = api_support.api

WARD_FORM = "psychiatric_ward_preinfo"
UNKNOWN = "Leave out this unknown field."


def _ward_body(world, filled):
    return {"form_key": WARD_FORM, "receiver_unit_id": world.units["receiving"].id,
            "copy_unit_ids": [], "legal_basis": "child_welfare_necessary", "content": filled}


def _drafts(app):
    with app.app_context():
        return db.session.query(Handover).count()


def _errors(answer):
    assert answer.status_code == 422, (answer.status_code, answer.get_data(as_text=True)[:300])
    return {error["path"]: error["message"] for error in answer.json["errors"]}


def test_a_misspelt_content_field_is_refused_at_its_path_and_nothing_is_stored(
        app, client, world, api):
    body = draft_body(world)
    body["content"]["health_note"] = "Allergic to penicillin"   # health_notes misspelt
    answer = client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"]))
    assert _errors(answer) == {"content.health_note": UNKNOWN}
    assert answer.json["message"] == "The content does not pass the form's checks."
    assert _drafts(app) == 0


def test_an_unknown_key_in_a_repeating_groups_row_is_refused_at_its_row(app, client, world,
                                                                        api):
    filled = ward_content()
    filled["medications"] = [{"medication_name": "Melatoniini", "medication_dose": "3 mg"},
                             {"medication_name": "Sertraliini", "dosage": "50 mg"}]
    answer = client.post("/api/v1/drafts", json=_ward_body(world, filled),
                         headers=bearer(api["sending"]))
    assert _errors(answer) == {"content.medications.1.dosage": UNKNOWN}
    assert _drafts(app) == 0


def test_unknown_keys_are_listed_with_the_forms_own_problems(app, client, world, api):
    body = draft_body(world, child_name="", allergy="nuts")
    errors = _errors(client.post("/api/v1/drafts", json=body, headers=bearer(api["sending"])))
    assert errors["content.allergy"] == UNKNOWN
    assert "content.child_name" in errors


@pytest.mark.parametrize("accept_language", ["fi", "sv"])
def test_the_refusal_is_in_the_language_asked_for(app, client, world, api, accept_language):
    body = draft_body(world, allergy="nuts")
    headers = {**bearer(api["sending"]), "Accept-Language": accept_language}
    errors = _errors(client.post("/api/v1/drafts", json=body, headers=headers))
    with app.test_request_context(), force_locale(accept_language):
        expected = gettext(UNKNOWN)
    assert expected != UNKNOWN
    assert errors == {"content.allergy": expected}


def test_a_refused_request_claims_no_idempotency_key(app, client, world, api):
    """The key is claimed only by a request that passes: a refused one may be corrected and
    sent again with the same key."""
    headers = {**bearer(api["sending"]), "Idempotency-Key": "typo-1"}
    body = draft_body(world, allergy="nuts")
    assert _errors(client.post("/api/v1/drafts", json=body, headers=headers))
    del body["content"]["allergy"]
    made = client.post("/api/v1/drafts", json=body, headers=headers)
    assert made.status_code == 201, made.json


def test_fields_hidden_by_their_condition_are_still_known(app, client, world, api):
    filled = {**ward_content(), "restrictive_measures_used": "no",
              "restrictive_measure_list": [{"measure_type": "holding"}],
              "admission_status": "observation", "admission_consent_by": "Sanna Esimerkki"}
    made = client.post("/api/v1/drafts", json=_ward_body(world, filled),
                       headers=bearer(api["sending"]))
    assert made.status_code == 201, made.json


def test_fields_of_another_senders_kind_are_known_and_left_out(app, client, world):
    """A family-care home does not fill the ward form's restrictive measures (an institution's
    section): sent anyway, they are left out, not refused as unknown."""
    with app.app_context():
        family = create_unit("Family care home", kind="family_care", email="")
        db.session.refresh(family)
        db.session.expunge(family)
        world.units["family"] = family
        token = make_token(world, "family", {"handover:send", "handover:read"})
    filled = {**ward_content(), "restrictive_measures_used": "yes",
              "restrictive_measure_list": [{"measure_type": "holding"}]}
    made = client.post("/api/v1/drafts", json=_ward_body(world, filled),
                       headers=bearer(token))
    assert made.status_code == 201, made.json
    read = client.get(f"/api/v1/handovers/{made.json['id']}", headers=bearer(token)).json
    assert "restrictive_measures_used" not in read["content"]
    assert "restrictive_measure_list" not in read["content"]
