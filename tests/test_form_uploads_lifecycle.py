"""Issue 20, what senders and receivers see: an enabled uploaded form can be started by its
routed senders; a newer version takes over new drafts while handovers filled with the old one
still render with it; disabling takes the form away from new drafts and leaves handovers as
they were; and another worker (another app on the same database) follows without a restart."""

import secrets
from pathlib import Path

import pytest
from form_upload_support import KEY, package
from lifecycle_support import login_as
from support import create_unit, create_user

from handover import create_app
from handover.plugins import manager as plugin_manager
from handover.services import drafts, form_uploads, sending
from handover.store.database import db
from handover.store.models import Unit, User

OLD_LABEL = "Allergies and how they are treated"
NEW_LABEL = "Allergies, and what to do in an allergic reaction"


@pytest.fixture
def people(app):
    """A social-work sender, a school receiver and an admin (ids)."""
    with app.app_context():
        social_work = create_unit("Social work", kind="child_welfare_social_work")
        school = create_unit("Koivukylän koulu", kind="school")
        create_unit("Perhekoti Pihlaja", kind="family_care")
        ids = {
            "social_work": social_work.id, "school": school.id,
            "sender": create_user("sender@example.test",
                                  memberships=[(social_work, "sender")]).id,
            "receiver": create_user("receiver@example.test", memberships=[(school, "receiver")]).id,
            "admin": create_user("admin@example.test", admin=True).id,
        }
    return ids


@pytest.fixture
def other_worker(app_config):
    """another_worker(recheck_seconds): a second app on the same database, as another worker
    or node is; its connections are closed after the test."""
    made = []

    def make(recheck_seconds):
        made.append(create_app({**app_config, "FORM_UPLOADS_RECHECK_SECONDS": recheck_seconds}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def enable(version, replace=()):
    form_uploads.upload("special_diet.zip", package(version, replace))
    form_uploads.enable(KEY, version)


def choice_label(version_title="Special diet at school"):
    return f"{version_title} — Social work"


def send_one(people):
    """A handover of the uploaded form, drafted and sent through the services."""
    sender = db.session.get(User, people["sender"])
    draft = drafts.start(sender, db.session.get(Unit, people["social_work"]), KEY,
                         db.session.get(Unit, people["school"]), [], "guardian_consent")
    drafts.save(sender, draft, {"child_name": "Testi Lapsi", "child_birth_date": "1994-05-01",
                                "diet_kind": "gluten_free", "allergy_notes": "Celiac disease"})
    return sending.send(sender, draft, secrets.token_urlsafe(16)).id


def test_a_sender_starts_an_enabled_upload_and_old_handovers_keep_their_version(app, people):
    sender = login_as(app.test_client(), app, type("U", (), {"id": people["sender"]}))
    assert choice_label() not in sender.get("/handovers/new").get_data(as_text=True)
    with app.app_context():
        enable(1)
        handover_id = send_one(people)
    page = sender.get("/handovers/new").get_data(as_text=True)
    assert choice_label() in page
    answer = sender.post("/handovers/new", data={"choice": f"{people['social_work']}:{KEY}"})
    assert answer.status_code == 302 and answer.location.endswith(
        f"/handovers/new/{people['social_work']}/{KEY}")

    with app.app_context():
        enable(2, replace=[(OLD_LABEL, NEW_LABEL)])
        assert plugin_manager.registry().get(KEY).version == 2
        new_draft = drafts.start(db.session.get(User, people["sender"]),
                                 db.session.get(Unit, people["social_work"]), KEY,
                                 db.session.get(Unit, people["school"]), [], "guardian_consent")
        assert new_draft.form_version == 2
    receiver = login_as(app.test_client(), app, type("U", (), {"id": people["receiver"]}))
    page = receiver.get(f"/handovers/{handover_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert OLD_LABEL in text and NEW_LABEL not in text and "Celiac disease" in text


def test_disabling_stops_new_drafts_and_leaves_handovers_readable(app, people):
    with app.app_context():
        enable(1)
        handover_id = send_one(people)
        form_uploads.disable(KEY)
    sender = login_as(app.test_client(), app, type("U", (), {"id": people["sender"]}))
    assert choice_label() not in sender.get("/handovers/new").get_data(as_text=True)
    assert sender.get(f"/handovers/new/{people['social_work']}/{KEY}").status_code == 404
    receiver = login_as(app.test_client(), app, type("U", (), {"id": people["receiver"]}))
    page = receiver.get(f"/handovers/{handover_id}")
    assert page.status_code == 200 and "Celiac disease" in page.get_data(as_text=True)
    assert sender.get(f"/handovers/{handover_id}").status_code == 200


def test_another_worker_follows_an_enable_without_a_restart(app, other_worker, people):
    other = other_worker(0)
    sender = login_as(other.test_client(), other, type("U", (), {"id": people["sender"]}))
    assert choice_label() not in sender.get("/handovers/new").get_data(as_text=True)
    with app.app_context():
        enable(1)
    assert choice_label() in sender.get("/handovers/new").get_data(as_text=True)
    with app.app_context():
        form_uploads.disable(KEY)
    assert choice_label() not in sender.get("/handovers/new").get_data(as_text=True)


def test_a_worker_reads_the_counter_at_most_every_few_seconds(app, other_worker, people):
    other = other_worker(3600)
    sender = login_as(other.test_client(), other, type("U", (), {"id": people["sender"]}))
    sender.get("/handovers/new")
    with app.app_context():
        enable(1)
    # Within the interval this worker has not looked yet; `refresh` is what the hour brings.
    assert choice_label() not in sender.get("/handovers/new").get_data(as_text=True)
    with other.app_context():
        from handover.plugins import uploaded

        assert uploaded.refresh(other, force=True) is True
    assert choice_label() in sender.get("/handovers/new").get_data(as_text=True)


def test_a_plugin_installed_later_with_an_uploads_key_as_its_reply_form_takes_it_over(
        app, other_worker, instance_path):
    """The plugin wins, as with a form's key: the upload is no longer loaded. Before, the
    registry refused the upload's definition at every request's reload, and every page of
    the worker answered 500."""
    with app.app_context():
        enable(1)
    daycare = Path(__file__).resolve().parent.parent / "forms" / "daycare.toml"
    taking = instance_path / "kunta_daycare.toml"
    taking.write_text(daycare.read_text().replace('key = "daycare_placed_child"',
                                                  'key = "kunta_daycare"', 1)
                      .replace('plugin = "daycare"', 'plugin = "kunta"', 1)
                      .replace('key = "daycare_receipt"', f'key = "{KEY}"', 1))
    (instance_path / "plugins" / "kunta.py").write_text(
        "from pathlib import Path\nfrom handover import hookimpl\n\n@hookimpl\n"
        f"def register_forms(app):\n    return [Path({str(taking)!r})]\n")
    later = other_worker(0)
    assert later.test_client().get("/login").status_code == 200
    with later.test_request_context("/"):
        registry = plugin_manager.registry()
        assert registry.key_owners(KEY) == {"kunta"}
        assert "kunta_daycare" in [definition.key for definition in registry.forms()]
