"""`handover demo` seeds two handovers of each built-in form with a receipt: one carries the
exchange (the receiver's receipt acknowledged it, as sending a receipt does), the other, about
another child, still awaits acknowledgement, so the ward nurse, the daycare director, the school
principal and the education department each find both in the inbox; a second run adds nothing,
and the demo children's names never reach the database in plaintext."""

import re
from pathlib import Path

import pytest
from lifecycle_support import login_as
from sqlalchemy import func, select
from stdnum.fi import hetu

from handover.cli import cli, demo_awaiting, demo_extras, demo_handovers
from handover.services import accounts
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

#: (demo receiver, form key, the child whose handover carries the exchange, the child whose
#: handover still awaits acknowledgement)
RECEIPTS = (
    ("omahoitaja@demo.handover.example", "psychiatric_ward_preinfo", "Veeti Esimerkki",
     "Sofia Harjoitus"),
    ("paivakoti@demo.handover.example", "daycare_placed_child", "Ella Kuvitelma", "Leo Kokeilu"),
    ("rehtori@demo.handover.example", "school_transfer", "Onni Testinen", "Aino Näyte"),
    ("sivistystoimi@demo.handover.example", "pre_placement_notice", "Niko Mallikas",
     "Eemeli Luonnos"),
)
#: The example plugin's health check (installed with the tests: scripts/install --test) has no
#: receipt: one handover, which its reply leaves awaiting acknowledgement.
HEALTH_CHECK = ("terveydenhoitaja@demo.handover.example", "placement_health_check",
                "Ella Kuvitelma")
#: Copies a demo receiver gets besides its own handovers: the school hears of both placements
#: the education department is told of early.
ALSO_IN_INBOX = {"rehtori@demo.handover.example": {"Niko Mallikas", "Eemeli Luonnos"}}
#: Sent by the health service to social work, which has other children in its inbox too.
RESULTS = "placement_health_check_results"
CHILDREN = {name for _e, _k, *names in RECEIPTS for name in names}
CONTENTS = (demo_handovers.ward_content, demo_handovers.daycare_content,
            demo_handovers.school_content, demo_extras.pre_placement_content,
            demo_extras.health_check_content, demo_extras.health_results_content,
            *(content for _key, content in demo_awaiting.AWAITING))


@pytest.mark.parametrize("content", CONTENTS)
def test_demo_children_have_only_temporary_identity_codes(content):
    code = content()["child_identity_code"]
    assert hetu.is_valid(code, allow_temporary=True)
    assert not hetu.is_valid(code)  # never a code that could belong to a real person
    assert 900 <= int(code[7:10]) <= 999


def test_each_handover_of_a_form_is_about_a_different_child():
    """The health check and its results are about Ella, whom the daycare also receives."""
    filled = [content() for content in CONTENTS if content not in (
        demo_extras.health_check_content, demo_extras.health_results_content)]
    assert {content["child_name"] for content in filled} == CHILDREN
    assert len({content["child_identity_code"] for content in filled}) == len(CHILDREN)


def handover_id(app, submission_token):
    with app.app_context():
        return db.session.execute(select(Handover.id).where(
            Handover.submission_token == submission_token)).scalar_one()


def client_of(app, email):
    with app.app_context():
        user = accounts.find_user(email)
        db.session.expunge(user)
    client = app.test_client()
    login_as(client, app, user)
    return client


def test_each_receiver_finds_the_exchange_and_one_handover_to_acknowledge(app, runner):
    result = runner.invoke(cli, args=["demo"])
    assert result.exit_code == 0, result.output
    for email, form_key, child, waiting_child in RECEIPTS:
        client = client_of(app, email)
        exchange = handover_id(app, demo_handovers.token(form_key))
        waiting = handover_id(app, demo_awaiting.second_token(form_key))
        inbox = client.get("/handovers/inbox").get_data(as_text=True)
        for number, name in ((exchange, child), (waiting, waiting_child)):
            assert f"#{number}" in inbox and name in inbox, (email, name)
        others = CHILDREN - {child, waiting_child} - ALSO_IN_INBOX.get(email, set())
        assert not any(name in inbox for name in others), email

        # The receipt is in the thread and the handover received: nothing left to acknowledge.
        page = client.get(f"/handovers/{exchange}").get_data(as_text=True)
        assert child in page and waiting_child not in page
        assert "Acknowledge receipt" not in page and "No replies yet." not in page
        assert re.search(r"<dt>Received</dt>", page), email
        # The other one waits for this receiver: the button, and no reply yet.
        page = client.get(f"/handovers/{waiting}").get_data(as_text=True)
        assert waiting_child in page and child not in page
        assert "Acknowledge receipt" in page and "No replies yet." in page
        assert not re.search(r"<dt>Received</dt>", page), email

    email, form_key, child = HEALTH_CHECK
    client = client_of(app, email)
    inbox = client.get("/handovers/inbox").get_data(as_text=True)
    assert child in inbox and not any(name in inbox for name in CHILDREN - {child})
    page = client.get(f"/handovers/{handover_id(app, demo_handovers.token(form_key))}")
    assert page.status_code == 200 and "Acknowledge receipt" in page.get_data(as_text=True)


def test_the_school_handovers_hide_the_location_and_warn(app, runner):
    """Onni and Aino live at the institution Majakka, whose copy of the school transfer is all
    the demo sends besides the school's (no unrelated family-care unit)."""
    runner.invoke(cli, args=["demo"])
    school = next(h for h in demo_handovers.HANDOVERS if h[0] == "school_transfer")
    assert school[4] == (demo_handovers.INSTITUTION,)
    client = client_of(app, "yksikonjohtaja@demo.handover.example")  # the copy receiver
    for submission_token, child in ((demo_handovers.token("school_transfer"), "Onni Testinen"),
                                    (demo_awaiting.second_token("school_transfer"),
                                     "Aino Näyte")):
        page = client.get(f"/handovers/{handover_id(app, submission_token)}")
        assert page.status_code == 200
        page = page.get_data(as_text=True)
        assert "Non-disclosure or hidden location" in page
        assert "Majakkatie 4" not in page and child in page


def test_demo_twice_keeps_each_handover_and_its_status(app, runner):
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    with app.app_context():
        events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    second = runner.invoke(cli, args=["demo"])
    assert second.exit_code == 0, second.output
    assert "demo handover exists" in second.output and "demo reply exists" in second.output
    expected = ([(key, "acknowledged") for _e, key, *_n in RECEIPTS]
                + [(key, "sent") for _e, key, *_n in RECEIPTS]
                + [(HEALTH_CHECK[1], "sent"), (RESULTS, "sent")])
    with app.app_context():
        keys = db.session.execute(select(Handover.form_key, Handover.status)).all()
        assert sorted(keys) == sorted(expected)
        assert db.session.execute(
            select(func.count()).select_from(AuditEvent)).scalar() == events
        assert db.session.execute(select(func.count()).where(
            AuditEvent.action == "handover.sent")).scalar() == len(expected)


def test_a_receipt_an_earlier_demo_left_unacknowledged_acknowledges_on_the_next_run(
        app, runner):
    """Before receipts acknowledged, the demo stored them alone: an instance seeded then would
    keep telling two stories (a receipt in the thread, the handover still awaiting)."""
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    ward = handover_id(app, demo_handovers.token("psychiatric_ward_preinfo"))
    with app.app_context():
        handover = db.session.get(Handover, ward)
        handover.status, handover.acknowledged_at, handover.acknowledged_by_id = "sent", None, None
        db.session.commit()
    second = runner.invoke(cli, args=["demo"])
    assert second.exit_code == 0, second.output
    assert f"demo receipt now acknowledges #{ward}" in second.output
    page = client_of(app, "omahoitaja@demo.handover.example").get(f"/handovers/{ward}")
    assert "Acknowledge receipt" not in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Handover, ward).status == "acknowledged"


def test_raw_database_does_not_hold_the_demo_children(app, runner, database_backend):
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    secrets_ = sorted(CHILDREN) + [
        content()["child_identity_code"] for content in CONTENTS] + ["Majakkatie 4"]
    with app.app_context():
        if database_backend == "sqlite":
            db.session.remove()
            db.engine.dispose()
            path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
            files = [Path(path), Path(f"{path}-wal"), Path(f"{path}-journal")]
            raw = b"".join(f.read_bytes() for f in files if f.exists())
            dump = raw.decode("utf-8", "replace")
        else:
            from sqlalchemy import text

            rows = []
            for table in db.metadata.sorted_tables:
                rows += [str(row) for row in db.session.execute(
                    text(f'SELECT * FROM "{table.name}"'))]
            dump = "\n".join(rows)
    for secret in secrets_:
        assert secret not in dump and secret.encode().hex() not in dump, secret
