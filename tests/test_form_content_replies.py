"""The missing replies and the new notices, as the demo's people read them:

- the daycare answers with a named contact person and an invitation to a start meeting and an
  ECEC-plan (vasu) meeting, and the sender reads it;
- the health service sends the results of the health check to the social worker, and the
  child's placement reads, in its copy, only what daily care needs;
- social work tells the education department and the receiving school of a planned placement
  (Sisukas), and the education department answers with a contact person and a meeting;
- every reply form of every form has a demo reply."""

from lifecycle_support import login_as
from sqlalchemy import select

from handover.cli import cli, demo_extras, demo_handovers
from handover.plugins.manager import registry
from handover.services import accounts, routing
from handover.store.database import db
from handover.store.models import Handover, Reply


def page_of(app, email, form_key):
    with app.app_context():
        user = accounts.find_user(email)
        db.session.expunge(user)
        # the form's first demo handover, the one with the exchange
        handover_id = db.session.execute(select(Handover.id).where(
            Handover.submission_token == demo_handovers.token(form_key))).scalar_one()
    client = app.test_client()
    login_as(client, app, user)
    response = client.get(f"/handovers/{handover_id}")
    assert response.status_code == 200, email
    return response.get_data(as_text=True)


def test_the_demo_exchange_reads_right_for_each_of_its_people(app, runner):
    """One demo (seeding it is the slow part), read by each person in turn."""
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    every_reply_form_has_a_demo_reply_and_its_sender_reads_it(app)
    the_placement_reads_what_daily_care_needs_from_the_health_check_results(app)
    only_social_work_gives_advance_notice_to_the_education_department_and_school(app)


def every_reply_form_has_a_demo_reply_and_its_sender_reads_it(app):
    with app.app_context():
        wanted = {reply.key for definition in registry().forms()
                  for reply in definition.reply_forms}
        assert {"daycare_receipt", "pre_placement_receipt"} <= wanted
        assert set(db.session.execute(select(Reply.kind)).scalars()) == wanted

    daycare = page_of(app, demo_handovers.SOCIAL_WORKER, "daycare_placed_child")
    assert "Marjo Salo" in daycare and "040 100 9009" in daycare
    assert "Date of the start meeting" in daycare and "Date of the ECEC plan meeting" in daycare

    notice = page_of(app, demo_handovers.SOCIAL_WORKER, "pre_placement_notice")
    assert "Petri Koskela, opetuspäällikkö" in notice and "Koulu Kivikko" in notice


def the_placement_reads_what_daily_care_needs_from_the_health_check_results(app):
    results = demo_extras.health_results_content()
    worker = page_of(app, demo_handovers.SOCIAL_WORKER, "placement_health_check_results")
    assert results["findings_summary"] in worker and results["daily_care"] in worker

    carer = page_of(app, "perhehoitaja@demo.handover.example", "placement_health_check_results")
    assert results["daily_care"] in carer and results["appointments"] in carer
    assert results["findings_summary"] not in carer
    assert results["referrals"] not in carer

    with app.app_context():
        clinic = accounts.find_unit(demo_extras.HEALTH_SERVICE)
        assert {unit.name for unit in routing.allowed_receivers(
            "placement_health_check_results", clinic)} == {demo_handovers.SOCIAL_WORK}


def only_social_work_gives_advance_notice_to_the_education_department_and_school(app):
    with app.app_context():
        social_work = accounts.find_unit(demo_handovers.SOCIAL_WORK)
        assert {u.name for u in routing.allowed_receivers("pre_placement_notice",
                                                          social_work)} == {
            demo_handovers.EDUCATION, demo_handovers.SCHOOL}
        for name in (demo_handovers.INSTITUTION, demo_handovers.FAMILY_CARE,
                     demo_handovers.SCHOOL, demo_handovers.EDUCATION):
            assert "pre_placement_notice" not in {
                d.key for d in routing.sendable_forms(accounts.find_unit(name))}
    school = page_of(app, "rehtori@demo.handover.example", "pre_placement_notice")
    assert "Niko Mallikas" in school and "Kivikylä" in school
