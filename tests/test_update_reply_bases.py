"""A placement update has no reply bases of its own: it reaches wards, daycares and schools
alike. Each receiving unit answers it on the bases its kind replies on to the forms it receives
(a ward: patient data, or consent), not on the child-welfare basis of the update's sender; the
sender, and a unit whose kind has no reply bases of its own, answer on the update's."""

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, CHILD_NAME, access_for, login_as, send_handover

from handover.services import LifecycleError, disclosures, replies, updates
from handover.store.database import db
from handover.store.models import Disclosure

app_config = lifecycle_support.app_config
world = lifecycle_support.world

UPDATE = {"child_name": CHILD_NAME, "child_identity_code": CHILD_CODE,
          "change_kind": "moved", "effective_date": "2026-12-01", "details": "Muutti"}


def _updates_by_unit(world):
    original = send_handover(world, copies=True)
    sent = updates.send_update(access_for(world, "sending_sender", original, "update"),
                               world.user("sending_sender"), dict(UPDATE), language="en")
    names = {unit.id: name for name, unit in world.units.items()}
    return {names[update.receiver_unit_id]: update.id for update in sent}


def _offered(world, person, handover_id):
    granted = access_for(world, person, handover_id, "reply")
    return [basis.value for basis in disclosures.reply_bases(granted.handover, granted.unit_id)]


def test_a_ward_answers_an_update_on_the_patient_data_basis(app, client, world):
    with app.app_context():
        ward_update = _updates_by_unit(world)["receiving"]
        assert _offered(world, "receiving_receiver", ward_update) == [
            "patient_data_necessary", "consent"]
        with pytest.raises(LifecycleError):
            replies.add_message(access_for(world, "receiving_receiver", ward_update, "reply"),
                                world.user("receiving_receiver"), "Kiitos",
                                "child_welfare_necessary")
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{ward_update}").get_data(as_text=True)
    # The reply's choices; the update's own basis is still shown as what it was sent on.
    assert "Patient data: necessary" in page and 'value="consent"' in page
    assert 'name="legal_basis" value="child_welfare_necessary"' not in page
    client.post(f"/handovers/{ward_update}/reply",
                data={"message": "Tieto osastolle kirjattu", "legal_basis": "consent"})
    with app.app_context():
        row = db.session.query(Disclosure).filter(Disclosure.reply_id.isnot(None)).one()
        assert (row.handover_id, row.basis) == (ward_update, "consent")


def test_the_sender_and_a_unit_without_bases_of_its_own_answer_on_the_updates(app, world):
    with app.app_context():
        sent = _updates_by_unit(world)
        update_bases = ["child_welfare_necessary", "guardian_consent"]
        assert _offered(world, "sending_sender", sent["receiving"]) == update_bases
        # Child-welfare social work receives no form whose receipt has bases of its own.
        assert _offered(world, "copy_receiver", sent["copy"]) == update_bases


def _bases_offered_to(kind, form_key):
    """The reply bases a unit of ``kind`` receiving ``form_key`` is offered (needs an app
    context): a handover as the policy loads one, with its units, unsaved."""
    from support import create_unit

    from handover.plugins.manager import registry
    from handover.store.models import Handover

    sender = create_unit("Sosiaalityö", kind="child_welfare_social_work", email="")
    receiver = create_unit(f"Vastaanottaja {kind}", kind=kind, email="")
    handover = Handover(id=999, form_key=form_key,
                        form_version=registry().get(form_key).version, status="sent",
                        sender_unit_id=sender.id, receiver_unit_id=receiver.id)
    handover.sender_unit, handover.receiver_unit = sender, receiver
    return [basis.value for basis in disclosures.reply_bases(handover, receiver.id)]


def test_a_form_whose_reply_forms_list_no_bases_keeps_its_own(app):
    """The pre-placement notice's receipt lists no bases: a school answers the notice on the
    notice's own, as its author chose, not on those of the school-transfer form's receipt."""
    with app.app_context():
        offered = _bases_offered_to("school", "pre_placement_notice")
    assert "child_welfare_act_52a" in offered and "basic_education_act_40_41" not in offered
