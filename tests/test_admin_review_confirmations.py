"""What an administrator and an operator see after the review of the admin pages and the backup
command: a backup into a folder that cannot be made or written is refused in one line and leaves
nothing half-written; revoking an integration client, removing a webhook endpoint and
deactivating a unit each ask first, on a page of their own; an administrator's own password is
changed on their account page, never reset on the admin pages."""

import errno
from datetime import UTC, datetime, timedelta

import pytest
from support import create_user, invoke, text_of

from handover.security import keys
from handover.services import client_confirmation, integration_clients, webhooks
from handover.services.backup import KEYS_BACKUP, MANIFEST
from handover.store.database import db
from handover.store.models import Handover, IntegrationClient, Unit, User, WebhookEndpoint


def one_line_error(result):
    """The command's only line, checked to be a refusal (exit code 1) and no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


# --- A. `handover backup` into a folder it cannot make or write ---------------------------


def test_a_backup_under_a_file_is_refused_in_one_line(app, tmp_path):
    (tmp_path / "file.log").write_text("a log\n")
    destination = tmp_path / "file.log" / "bk"

    line = one_line_error(invoke(app, "backup", str(destination)))

    assert line == f"Error: cannot create the backup folder {destination}: Not a directory"


def test_a_backup_where_no_folder_can_be_made_is_refused_in_one_line(app):
    line = one_line_error(invoke(app, "backup", "/proc/handover-backup"))

    assert line == ("Error: cannot create the backup folder /proc/handover-backup: "
                    "No such file or directory")


def test_a_full_disk_leaves_no_half_written_backup_behind(app, tmp_path, monkeypatch):
    destination = tmp_path / "nightly" / "2026-12-06"
    keys_file = destination / KEYS_BACKUP

    def disk_full(path, keyring, exclusive=False):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    with monkeypatch.context() as patched:
        patched.setattr(keys, "write_key_file", disk_full)
        line = one_line_error(invoke(app, "backup", str(destination)))

    assert line == (f"Error: cannot write the backup file {keys_file}: No space left on "
                    "device. What this run wrote was removed.")
    assert not (tmp_path / "nightly").exists()   # the folders this run made are gone too
    # The next night's run into the same folder is not refused as "already holds a backup".
    result = invoke(app, "backup", str(destination))
    assert result.exit_code == 0, result.output
    assert (destination / MANIFEST).is_file() and keys_file.is_file()


def test_a_restore_that_cannot_read_the_backup_is_refused_in_one_line(app, tmp_path):
    folder = tmp_path / "backup"
    assert invoke(app, "backup", str(folder)).exit_code == 0
    keys_backup = folder / KEYS_BACKUP
    keys_backup.unlink()
    keys_backup.mkdir()   # read as a file, it fails as an unreadable one does

    line = one_line_error(invoke(app, "restore", str(folder), "--with-keys", "--force"))

    assert line == (f"Error: cannot read the backup file {keys_backup}: Is a directory. "
                    "Nothing was changed.")


# --- B. revoking, removing and deactivating ask first ---------------------------------------


@pytest.fixture
def unit_id(app, admin):
    with app.app_context():
        return db.session.get(Unit, 1).id


@pytest.fixture
def client_id(app, admin, unit_id):
    """A confirmed integration client, Ward EHR, whose token works."""
    with app.app_context():
        made, _token = integration_clients.create(
            db.session.get(User, admin), "Ward EHR", db.session.get(Unit, unit_id),
            {"inbox:read"}, datetime.now(UTC) + timedelta(days=90))
        client_confirmation.confirm(None, made)
        return made.id


def test_revoking_a_client_asks_first_and_only_the_confirmation_revokes(
        app, admin_client, client_id):
    listing = admin_client.get("/admin/clients").get_data(as_text=True)
    assert f'href="/admin/clients/{client_id}/revoke"' in listing
    assert f'action="/admin/clients/{client_id}/revoke"' not in listing   # no one-click form

    page = admin_client.get(f"/admin/clients/{client_id}/revoke")

    assert page.status_code == 200
    html, text = page.get_data(as_text=True), text_of(page)
    assert "<h1" in html and "Revoke Ward EHR?" in text
    assert "Its system stops working now" in text and "cannot be undone" in text
    assert f'method="post" action="/admin/clients/{client_id}/revoke"' in html
    assert 'name="csrf_token"' in html and 'href="/admin/clients">Cancel</a>' in html
    with app.app_context():
        assert db.session.get(IntegrationClient, client_id).revoked_at is None

    assert admin_client.post(f"/admin/clients/{client_id}/revoke").status_code == 302
    with app.app_context():
        assert db.session.get(IntegrationClient, client_id).revoked_at is not None


def test_removing_a_webhook_endpoint_asks_first_and_only_the_confirmation_removes(
        app, admin_client, admin, unit_id):
    with app.app_context():
        endpoint, _secret = webhooks.create_endpoint(
            db.session.get(User, admin), unit_id, "https://ehr.example.fi/hook", ["arrived"])
        endpoint_id = endpoint.id
    listing = admin_client.get("/admin/webhooks").get_data(as_text=True)
    assert f'href="/admin/webhooks/{endpoint_id}/remove"' in listing

    page = admin_client.get(f"/admin/webhooks/{endpoint_id}/remove")

    assert page.status_code == 200
    html, text = page.get_data(as_text=True), text_of(page)
    assert "Remove the endpoint https://ehr.example.fi/hook?" in text
    assert "signing secret is lost" in text
    assert f'method="post" action="/admin/webhooks/{endpoint_id}/remove"' in html
    assert 'href="/admin/webhooks">Cancel</a>' in html
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).active

    assert admin_client.post(f"/admin/webhooks/{endpoint_id}/remove").status_code == 302
    with app.app_context():
        assert not db.session.get(WebhookEndpoint, endpoint_id).active


def test_deactivating_a_unit_says_how_many_handovers_still_await_it(
        app, admin_client, admin, unit_id):
    with app.app_context():
        sender = Unit(name="Lastenkoti Majakka", kind="child_welfare_institution")
        db.session.add(sender)
        db.session.flush()
        for status in ("sent", "opened", "acknowledged"):
            db.session.add(Handover(status=status, sender_unit_id=sender.id,
                                    receiver_unit_id=unit_id, created_by_id=admin,
                                    form_key="example", form_version=1))
        db.session.commit()
    unit_page = admin_client.get(f"/admin/units/{unit_id}").get_data(as_text=True)
    assert f'href="/admin/units/{unit_id}/active"' in unit_page

    page = admin_client.get(f"/admin/units/{unit_id}/active")

    assert page.status_code == 200
    html, text = page.get_data(as_text=True), text_of(page)
    assert "Deactivate Demo: Koulu Kivikko?" in text
    assert "2 handovers sent to the unit still await its acknowledgement." in text
    assert "Its members lose access to its inbox" in text
    assert f'href="/admin/units/{unit_id}">Cancel</a>' in html
    with app.app_context():
        assert db.session.get(Unit, unit_id).is_active

    assert admin_client.post(f"/admin/units/{unit_id}/active",
                             data={"active": "0"}).status_code == 302
    with app.app_context():
        assert not db.session.get(Unit, unit_id).is_active


# --- C. an administrator's own password -----------------------------------------------------


def test_an_admin_cannot_reset_their_own_password_and_stays_logged_in(
        app, admin_client, admin):
    with app.app_context():
        other = create_user("toinen@example.fi").id
    other_page = admin_client.get(f"/admin/users/{other}").get_data(as_text=True)
    assert f'action="/admin/users/{other}/reset-password"' in other_page   # still offered
    own_page = admin_client.get(f"/admin/users/{admin}").get_data(as_text=True)
    assert f'action="/admin/users/{admin}/reset-password"' not in own_page
    assert 'href="/account/password"' in own_page

    response = admin_client.post(f"/admin/users/{admin}/reset-password",
                                 follow_redirects=True)

    assert response.request.path == f"/admin/users/{admin}"   # still signed in, not /login
    assert "You cannot reset your own password here" in text_of(response)
    assert "Change it on your account page." in text_of(response)
    with app.app_context():
        assert not db.session.get(User, admin).must_change_password

