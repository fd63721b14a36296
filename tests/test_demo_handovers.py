"""`handover demo` seeds one handover of each built-in form: the ward nurse, the daycare
director and the school principal each find theirs in the inbox, a second run adds nothing, and
the demo children's names never reach the database in plaintext."""

from pathlib import Path

import pytest
from lifecycle_support import login_as
from sqlalchemy import func, select
from stdnum.fi import hetu

from handover.cli import cli, demo_extras, demo_handovers
from handover.services import accounts
from handover.store.database import db
from handover.store.models import AuditEvent, Handover

#: (demo user, form key, the demo child's name)
INBOXES = (
    ("omahoitaja@demo.handover.example", "psychiatric_ward_preinfo", "Veeti Esimerkki"),
    ("paivakoti@demo.handover.example", "daycare_placed_child", "Ella Kuvitelma"),
    ("rehtori@demo.handover.example", "school_transfer", "Onni Testinen"),
    ("sivistystoimi@demo.handover.example", "pre_placement_notice", "Niko Mallikas"),
    # the example plugin's forms (installed with the tests: scripts/install --test)
    ("terveydenhoitaja@demo.handover.example", "placement_health_check", "Ella Kuvitelma"),
)
#: Copies a demo receiver gets besides its own handover: the school hears of Niko early.
ALSO_IN_INBOX = {"rehtori@demo.handover.example": {"Niko Mallikas"}}
#: Sent by the health service to social work, which has other children in its inbox too.
RESULTS = "placement_health_check_results"
CONTENTS = (demo_handovers.ward_content, demo_handovers.daycare_content,
            demo_handovers.school_content, demo_extras.pre_placement_content,
            demo_extras.health_check_content, demo_extras.health_results_content)


@pytest.mark.parametrize("content", CONTENTS)
def test_demo_children_have_only_temporary_identity_codes(content):
    code = content()["child_identity_code"]
    assert hetu.is_valid(code, allow_temporary=True)
    assert not hetu.is_valid(code)  # never a code that could belong to a real person
    assert 900 <= int(code[7:10]) <= 999


def test_each_demo_receiver_finds_its_handover_in_the_inbox(app, runner):
    result = runner.invoke(cli, args=["demo"])
    assert result.exit_code == 0, result.output
    for email, form_key, child in INBOXES:
        with app.app_context():
            user = accounts.find_user(email)
            db.session.expunge(user)
            handover_id = db.session.execute(select(Handover.id).where(
                Handover.form_key == form_key)).scalar_one()
        client = app.test_client()
        login_as(client, app, user)
        inbox = client.get("/handovers/inbox").get_data(as_text=True)
        assert f"#{handover_id}" in inbox and child in inbox, email
        others = [name for _e, _key, name in INBOXES
                  if name != child and name not in ALSO_IN_INBOX.get(email, ())]
        assert not any(name in inbox for name in others), email
        page = client.get(f"/handovers/{handover_id}")
        assert page.status_code == 200 and child in page.get_data(as_text=True)


def test_one_demo_handover_hides_the_location_and_warns(app, runner):
    """Onni lives at the institution Majakka, whose copy of the school transfer is all the
    demo sends besides the school's (no unrelated family-care unit)."""
    runner.invoke(cli, args=["demo"])
    with app.app_context():
        user = accounts.find_user("yksikonjohtaja@demo.handover.example")  # the copy receiver
        school = next(h for h in demo_handovers.HANDOVERS if h[0] == "school_transfer")
        assert school[4] == (demo_handovers.INSTITUTION,)
        db.session.expunge(user)
        handover_id = db.session.execute(select(Handover.id).where(
            Handover.form_key == "school_transfer")).scalar_one()
    client = app.test_client()
    login_as(client, app, user)
    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert "Non-disclosure or hidden location" in page
    assert "Majakkatie 4" not in page and "Onni Testinen" in page


def test_demo_twice_keeps_one_handover_of_each_form(app, runner):
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    with app.app_context():
        events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    second = runner.invoke(cli, args=["demo"])
    assert second.exit_code == 0, second.output
    assert "demo handover exists" in second.output
    with app.app_context():
        keys = db.session.execute(select(Handover.form_key, Handover.status)).all()
        assert sorted(keys) == sorted([(key, "sent") for _e, key, _n in INBOXES]
                                      + [(RESULTS, "sent")])
        assert db.session.execute(
            select(func.count()).select_from(AuditEvent)).scalar() == events
        assert db.session.execute(select(func.count()).where(
            AuditEvent.action == "handover.sent")).scalar() == len(INBOXES) + 1


def test_raw_database_does_not_hold_the_demo_children(app, runner, database_backend):
    assert runner.invoke(cli, args=["demo"]).exit_code == 0
    secrets_ = [name for _e, _k, name in INBOXES] + [
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
