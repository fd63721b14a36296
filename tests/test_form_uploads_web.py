"""Issue 20, the admin's pages: an upload shows every problem with its location and stores
nothing; a passing package is previewed as the sender fills it and as the receiver and a copy
receiver read it, in fi, sv and en, with its routing table; four-eyes approval; enable and
disable; only admins; and the audit log names who did each step."""

import io
import re

import pytest
from form_upload_support import KEY, audit_actions, package, stored_count
from lifecycle_support import login_as
from support import create_user, text_of

from handover.services import form_uploads

PAGE = "/admin/uploaded-forms/"


@pytest.fixture
def admins(app):
    with app.app_context():
        return {name: create_user(f"{name}@example.test", admin=True).id
                for name in ("first", "second")}


def as_user(app, user_id):
    return login_as(app.test_client(), app, type("U", (), {"id": user_id}))


def post_package(client, data, filename="special_diet.zip"):
    return client.post(PAGE, data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_the_plugins_page_links_to_uploaded_forms(app, admins):
    page = as_user(app, admins["first"]).get("/admin/plugins/")
    assert f'href="{PAGE}"' in page.get_data(as_text=True)
    assert "Part of Handover (uploaded forms)" in page.get_data(as_text=True)


def test_an_upload_with_problems_shows_each_with_its_location_and_stores_nothing(app, admins):
    admin = as_user(app, admins["first"])
    broken = package(replace=[('receivers = ["school"]', 'receivers = ["mars_base"]'),
                              ("unopened_days = 90", "unopened_days = 0")])
    answer = post_package(admin, broken, "county.zip")
    assert answer.status_code == 400
    page = text_of(answer)
    assert "The package was not stored" in page, page[page.find("<main"):][:3000]
    assert "Correct these 2 problems and upload it again:" in page
    assert "county.zip/special_diet.toml: retention.unopened_days" in page
    assert ("county.zip/special_diet.toml: routing.receivers: unknown unit kind "
            "'mars_base'") in page
    with app.app_context():
        assert stored_count() == 0


def test_a_definition_uploaded_without_its_fragment_file_is_told_to_bring_it(app, admins):
    """Not "No such file or directory", which reads as a fault of the server's disk."""
    from form_upload_support import DEFINITION

    answer = post_package(as_user(app, admins["first"]), DEFINITION, "special_diet.toml")
    assert answer.status_code == 400
    page = text_of(answer)
    assert ("fragment file diet.toml is missing: it must lie beside the definition file (an "
            "uploaded form carries both in one .zip or .tar package)") in page
    assert "No such file" not in page
    with app.app_context():
        assert stored_count() == 0


@pytest.mark.parametrize("filename, data, message", [
    ("huge.toml", b"#" * (400 * 1024),
     "<code>huge.toml</code>: The file is 400 kB; a form package may be at most 256 kB."),
    ("hooks.py", b"print('hello')", "<code>hooks.py</code>: This is program code."),
    ("escape.zip", __import__("form_upload_support").zipped({"../x.toml": b"key = 'x'"}),
     "<code>escape.zip/../x.toml</code>: A name inside the archive must be a plain relative"),
])
def test_a_hostile_upload_gets_a_clear_message_in_the_admins_language(
        app, admins, filename, data, message):
    # A bound under the test client's 500 kB, beyond which it spools the body to a file of
    # its own that it never closes; the 10 MB file is tests/test_form_uploads*.py's.
    app.config["FORM_UPLOAD_MAX_BYTES"] = 256 * 1024
    admin = as_user(app, admins["first"])
    answer = post_package(admin, data, filename)
    assert answer.status_code == 400
    assert message in text_of(answer).replace("“", "").replace("”", "")
    assert "At most 256 kB." in text_of(answer)
    with admin.session_transaction() as session:
        session["language"] = "fi"
    answer = post_package(admin, data, filename)
    assert "The package was not stored" not in text_of(answer)   # said in Finnish instead
    with app.app_context():
        assert stored_count() == 0


PREVIEWS = {
    "fi": ("Erityisruokavalio koulussa", "Allergiat ja niiden hoito", "Lapsen nimi"),
    "sv": ("Specialkost i skolan", "Allergier och hur de sköts", "Barnets namn"),
    "en": ("Special diet at school", "Allergies and how they are treated", "Child's name"),
}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_passing_package_is_previewed_for_sender_receiver_and_copy(app, admins, language):
    admin = as_user(app, admins["first"])
    answer = post_package(admin, package())
    assert answer.status_code == 302
    assert answer.location.endswith(f"{PAGE}{KEY}/1")
    title, diet_label, child_label = PREVIEWS[language]
    url = f"{PAGE}{KEY}/1?language={language}&view="

    sender = text_of(admin.get(url + "sender"))
    assert f'<div class="upload-preview" lang="{language}" id="preview">' in sender
    assert title in sender and diet_label in sender and child_label in sender
    assert re.search(r'<input[^>]*name="child_name"', sender)       # the fill page's fields
    # The task list a new draft opens with, each section linked to its page below.
    assert 'class="govuk-task-list"' in sender
    for section in ("child", "diet"):
        assert f'href="#section-{section}"' in sender and f'id="section-{section}"' in sender
    assert "Routing rules of special_diet" in sender                 # and the routing table
    assert "Child-welfare social work" in sender and "→ School" in sender

    receiver = text_of(admin.get(url + "receiver"))
    assert diet_label in receiver and child_label in receiver
    assert 'name="child_name"' not in receiver                       # read, not filled

    copy = text_of(admin.get(url + "copy"))
    assert diet_label in copy and 'id="content-diet"' in copy       # [visibility.copies]:
    assert 'id="content-child"' in receiver and 'id="content-child"' not in copy  # diet only


def test_four_eyes_a_second_admin_approves_and_every_step_is_audited(app, admins):
    app.config["FORM_UPLOAD_FOUR_EYES"] = True
    first, second = as_user(app, admins["first"]), as_user(app, admins["second"])
    post_package(first, package())
    page = text_of(first.get(f"{PAGE}{KEY}/1"))
    assert "Awaiting approval" in page
    answer = first.post(f"{PAGE}{KEY}/1/enable", follow_redirects=True)
    assert "A second administrator must approve version 1 of special_diet" in text_of(answer)
    answer = first.post(f"{PAGE}{KEY}/1/approve", follow_redirects=True)
    assert "You uploaded this version: another administrator must approve it." \
        in text_of(answer)
    answer = second.post(f"{PAGE}{KEY}/1/approve", follow_redirects=True)
    assert "Version 1 of special_diet approved." in text_of(answer)
    answer = first.post(f"{PAGE}{KEY}/1/enable", follow_redirects=True)
    assert "Version 1 of special_diet enabled." in text_of(answer)
    answer = second.post(f"{PAGE}{KEY}/disable", follow_redirects=True)
    assert "special_diet disabled: no new drafts." in text_of(answer)
    listing = text_of(first.get(PAGE))
    assert "Disabled" in listing and "Second" in listing and "First" in listing
    with app.app_context():
        assert [(action, actor) for action, _detail, actor in audit_actions()] == [
            ("forms.uploaded", admins["first"]), ("forms.approved", admins["second"]),
            ("forms.enabled", admins["first"]), ("forms.disabled", admins["second"])]
        assert form_uploads.uploads()[0]["enabled"] is False


def test_nobody_but_an_admin_reaches_the_pages(app, admins):
    with app.app_context():
        sender_id = create_user("sender@example.test").id
    with app.app_context():
        form_uploads.upload("special_diet.zip", package())
    stranger = as_user(app, sender_id)
    assert stranger.get(PAGE).status_code == 404
    assert stranger.get(f"{PAGE}{KEY}/1").status_code == 404
    assert stranger.post(f"{PAGE}{KEY}/1/enable").status_code == 404
    assert post_package(stranger, package(2)).status_code == 404
    assert app.test_client().get(PAGE).status_code == 302      # to the login page
    with app.app_context():
        assert form_uploads.uploads()[0]["enabled"] is False and stored_count() == 1


def test_an_unknown_version_is_404(app, admins):
    admin = as_user(app, admins["first"])
    assert admin.get(f"{PAGE}{KEY}/9").status_code == 404
    assert admin.post(f"{PAGE}{KEY}/9/enable").status_code == 404
