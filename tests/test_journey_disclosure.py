"""Who decides and who consented, shown to the receiver first; each reply's own basis; and the
disclosure record (what, by whom, to whom, on what basis, when) that outlives the content and
is listed in the per-child access report."""

import secrets
from datetime import timedelta

import lifecycle_support
import pytest
from lifecycle_support import access_for, handover, login_as, send_handover
from test_journey_retention import send_ward_form

from handover.cli.demo_handovers import ward_content
from handover.services import LifecycleError, disclosures, drafts, replies, retention, sending
from handover.store.database import db
from handover.store.models import Disclosure
from handover.store.models.base import utcnow

app_config = lifecycle_support.app_config
world = lifecycle_support.world

WARD_CHILD_CODE = ward_content()["child_identity_code"]


def test_receiver_sees_who_decides_and_who_consented_first(app, client, world):
    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), "psychiatric_ward_preinfo",
                             world.unit("receiving"), [], "guardian_consent")
        drafts.save(sender, draft, {
            **ward_content(), "custody_situation": "guardians",
            "treatment_consent_by": "guardians", "disclosure_consent_by": "guardians",
            "disclosure_consent_date": "2026-11-30", "guardian_told": "told"})
        hid = sending.send(sender, draft, secrets.token_urlsafe(8)).id
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Who decides and who consented" in page
    top = page.index("Who decides on the child&#39;s care")
    assert "The guardians (open-care placement, or no placement)" in page
    assert "The guardian&#39;s consent" in page
    # First on the page, beside the key facts: before the record's own sections.
    assert top < page.index("Guardians and parents")
    with app.app_context():
        rows = db.session.query(Disclosure).filter_by(handover_id=hid).all()
        assert [(r.basis, r.consent_by, str(r.consent_on)) for r in rows] == [
            ("guardian_consent", "guardians", "2026-11-30")]


def test_a_ward_reply_records_its_own_basis_from_the_forms_list(app, client, world):
    with app.app_context():
        hid = send_ward_form(world, utcnow())
        granted = access_for(world, "receiving_receiver", hid, "reply")
        offered = [b.value for b in disclosures.reply_bases(granted.handover, granted.unit_id)]
        assert offered == ["patient_data_necessary", "consent"]
        with pytest.raises(LifecycleError):
            replies.add_message(granted, world.user("receiving_receiver"), "Hei",
                                "child_welfare_necessary")  # the sender's list, not the ward's
    login_as(client, app, world.users["receiving_receiver"])
    page = client.get(f"/handovers/{hid}").get_data(as_text=True)
    assert "Basis of disclosure of this reply" in page and "Patient data: necessary" in page
    client.post(f"/handovers/{hid}/reply", data={"message": "Omahoitaja on Liisa",
                                                  "legal_basis": "consent"})
    with app.app_context():
        row = db.session.query(Disclosure).filter(Disclosure.reply_id.isnot(None)).one()
        assert (row.basis, row.to_unit_id) == ("consent", world.units["sending"].id)
        assert handover(hid).replies[-1].legal_basis == "consent"


def test_the_disclosure_record_outlives_erasure_in_the_child_report(app, client, world):
    with app.app_context():
        hid = send_ward_form(world, utcnow() - timedelta(days=400))
        replies.add_message(access_for(world, "sending_sender", hid, "reply"),
                            world.user("sending_sender"), "Lisätieto")
        assert retention.purge(now=utcnow() + timedelta(days=400)) == [hid]
        assert handover(hid).content is None
    login_as(client, app, world.users["auditor"])
    page = client.post("/audit/child-report",
                       data={"identity_code": WARD_CHILD_CODE}).get_data(as_text=True)
    assert "Disclosures of these handovers" in page
    record = page[page.index("Disclosures of these handovers"):]
    assert "Receiving unit" in record and "Copy unit (copy)" in record
    assert "the information is necessary to arrange" in record  # the basis, in words
    assert "Who decides and who consented" in record and "child_welfare_necessary" not in record
    assert "Lisätieto" not in page  # the content is gone, the facts of disclosure are not
    assert record.count("<tr>") == 4  # header, receiver, copy, the reply


def test_a_copy_unit_gets_the_sections_its_kind_is_shown(app, world):
    with app.app_context():
        hid = send_handover(world)
        rows = {r.to_unit_id: r for r in db.session.query(Disclosure).filter_by(handover_id=hid)}
        copy = rows[world.units["copy"].id]
        assert copy.as_copy and copy.sections == "child,placement"
        assert rows[world.units["receiving"].id].sections == "child,placement,health"
