"""Issue 20 in a real browser, as an admin: from the Plugins page to the uploaded forms, a
package with problems (each shown with its location, nothing stored), the same package
corrected, its preview as sender, receiver and copy receiver in fi, sv and en (screenshots in
test-artifacts/), enabling it, and a sender on the two-worker server who can then start it.
axe-core checks every page on the way."""

import sys
import time
from pathlib import Path

from helpers import at_phone_width_too, fi, log_in_user, text
from playwright.sync_api import expect
from support import PASSWORD, create_unit, create_user

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from form_upload_support import KEY, package  # noqa: E402

SENDING_UNIT = "Läntisen alueen lastensuojelun sosiaalityö"
TITLES = {"fi": "Erityisruokavalio koulussa", "sv": "Specialkost i skolan",
          "en": "Special diet at school"}
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
VIEWS = {"sender": "As the sender fills it", "receiver": "As the receiver reads it",
         "copy": "As a copy receiver reads it"}


def upload(page, filename, data):
    page.get_by_label(fi("Form package (.toml, .zip or .tar)")).set_input_files(
        {"name": filename, "mimeType": "application/zip", "buffer": data})
    page.get_by_role("button", name=fi("Upload and check")).click()


def test_an_admin_uploads_previews_and_enables_a_form_a_sender_then_starts(
        live_server, page, browser, check_accessibility, artifacts_dir):
    check = at_phone_width_too(check_accessibility)
    with live_server.app.app_context():
        social_work = create_unit(SENDING_UNIT, kind="child_welfare_social_work")
        social_work_id = social_work.id
        create_unit("Koivukylän koulu", kind="school")
        admin_id = create_user("admin.uploads@example.test", admin=True).id
        sender_id = create_user("sender.uploads@example.test",
                                memberships=[(social_work, "sender")]).id

    log_in_user(page, live_server, admin_id, PASSWORD)
    page.get_by_role("navigation", name=fi("Main")).get_by_role(
        "link", name=fi("Plugins"), exact=True).click()
    page.get_by_role("link", name=fi("Uploaded forms: upload, preview and enable a form "
                                     "package without a restart")).click()
    expect(page.get_by_role("heading", level=1, name=fi("Uploaded forms"))).to_be_visible()
    check(page)

    # A package with two mistakes: both are named with their place, and nothing is stored.
    upload(page, "ruokavalio.zip", package(replace=[
        ('receivers = ["school"]', 'receivers = ["koulu"]'),
        ("unopened_days = 90", "unopened_days = 0")]))
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text(fi("The package was not stored"))
    expect(problems.get_by_role("listitem")).to_have_count(2)
    expect(problems).to_contain_text(
        "ruokavalio.zip/special_diet.toml: routing.receivers: unknown unit kind 'koulu'")
    expect(problems).to_contain_text("ruokavalio.zip/special_diet.toml: retention.unopened_days")
    expect(page.get_by_text(fi("No form has been uploaded."))).to_be_visible()
    check(page)
    page.screenshot(path=str(artifacts_dir / "form-upload-problems.png"), full_page=True)

    # Corrected: stored, not enabled, and previewed.
    upload(page, "ruokavalio.zip", package())
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLES["fi"])
    expect(page.get_by_role("status")).to_contain_text(KEY)
    routing = page.get_by_role("table", name=fi("Routing rules of %(name)s", name=KEY))
    expect(routing.get_by_role("cell").nth(0)).to_have_text(fi("Child-welfare social work"))
    expect(routing.get_by_role("cell").nth(1)).to_contain_text(fi("School"))
    for language, view in [("fi", "sender"), ("sv", "receiver"), ("en", "copy"),
                           ("sv", "sender"), ("en", "receiver"), ("fi", "copy")]:
        page.get_by_role("navigation", name=fi("Language of the preview")).get_by_role(
            "link", name=LANGUAGE_NAMES[language]).click()
        page.get_by_role("navigation", name=fi("Whose view")).get_by_role(
            "link", name=fi(VIEWS[view])).click()
        preview = page.locator("#preview")
        expect(preview).to_have_attribute("lang", language)
        expect(preview.get_by_role("heading", level=3)).to_have_text(TITLES[language])
        if view == "sender":
            expect(preview.get_by_label(text("Allergies and how they are treated", language)
                                        if language == "en" else {
                                            "fi": "Allergiat ja niiden hoito",
                                            "sv": "Allergier och hur de sköts"}[language])
                   ).to_be_editable()
        else:
            expect(preview).to_contain_text(text("Example answer", language))
        check(page)
        page.screenshot(path=str(artifacts_dir / f"form-upload-preview-{language}-{view}.png"),
                        full_page=True)

    # Enabled: a sender on either worker can start it within a minute, without a restart.
    page.get_by_role("button", name=fi("Enable v%(version)s", version=1)).click()
    expect(page.get_by_role("status")).to_contain_text(
        fi("Version %(version)s of %(key)s enabled. Its senders can choose it on every server "
           "within a minute.", version=1, key=KEY))
    check(page)
    sender_context = browser.new_context()
    try:
        sender = sender_context.new_page()
        log_in_user(sender, live_server, sender_id, PASSWORD)
        choice = sender.get_by_role("group", name=fi("Form")).get_by_role(
            "radio", name=f"{TITLES['fi']} — {SENDING_UNIT}")
        deadline = time.monotonic() + 60
        agreeing = 0
        while agreeing < 6:     # several answers in a row, whichever worker gives each
            assert time.monotonic() < deadline, "the form did not reach the sender in a minute"
            sender.goto(live_server.url + "/handovers/new")
            agreeing = agreeing + 1 if choice.count() == 1 else 0
            if agreeing == 0:
                time.sleep(1)
        choice.check()
        sender.get_by_role("button", name=fi("Continue")).click()
        expect(sender).to_have_url(f"{live_server.url}/handovers/new/{social_work_id}/{KEY}")
        check(sender)
    finally:
        sender_context.close()
