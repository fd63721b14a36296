"""Issue 20, the service: an uploaded form package is read strictly, checked exactly as
`handover plugins check` checks a definition, stored only when it passes, never stored twice
under one version with different content, and hostile uploads are refused with a clear message
and nothing stored. Every step, refusals included, is audited."""

import io
import tarfile

import pytest
from form_upload_support import (
    DEFINITION,
    FRAGMENT,
    KEY,
    audit_actions,
    definition,
    package,
    stored_count,
    tarred,
    zipped,
)

from handover.cli.plugins import check_path
from handover.plugins import manager as plugin_manager
from handover.services import form_uploads
from handover.services.form_packages import PackageRefused
from handover.store.database import db


def refused(filename, data):
    """The problems of a refused upload, as the admin reads them; nothing may be stored."""
    with pytest.raises(PackageRefused) as caught:
        form_uploads.upload(filename, data)
    assert stored_count() == 0
    assert audit_actions()[-1][0] == "forms.upload_refused"
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_package_is_stored_disabled_with_its_checksum(app):
    with app.app_context():
        outcome = form_uploads.upload("special_diet.zip", package())
        assert (outcome.key, outcome.version, outcome.created) == (KEY, 1, True)
        stored, = form_uploads.uploads()
        assert stored["enabled"] is False and stored["released_at"] is None
        assert len(stored["checksum"]) == 64 and stored["filename"] == "special_diet.zip"
        assert stored["title"]["sv"] == "Specialkost i skolan"
        # Stored is not offered: no sender can start it before an admin enables it.
        assert KEY not in {d.key for d in plugin_manager.registry().forms()}
        action, detail, _actor = audit_actions()[-1]
        assert action == "forms.uploaded"
        assert detail == {"form": KEY, "version": 1, "checksum": stored["checksum"],
                          "filename": "special_diet.zip"}


def test_every_problem_is_reported_with_its_location_as_plugins_check_reports_it(
        app, tmp_path):
    broken = definition(replace=[('receivers = ["school"]', 'receivers = ["shcool"]'),
                                 ('acknowledge_within_hours = 72',
                                  'acknowledge_within_hours = "soon"')])
    (tmp_path / "special_diet.toml").write_bytes(broken)
    (tmp_path / "diet.toml").write_bytes(FRAGMENT)
    with app.app_context():
        expected = [line.removeprefix(f"{tmp_path}/")
                    for line in check_path(tmp_path / "special_diet.toml", app)]
        problems = refused("county.zip", zipped({"special_diet.toml": broken,
                                                 "diet.toml": FRAGMENT}))
    assert len(expected) == 2
    assert problems == [f"county.zip/{line}" for line in expected]
    assert any("routing.receivers: unknown unit kind 'shcool'" in p for p in problems)
    assert any(p.startswith("county.zip/special_diet.toml: acknowledge_within_hours")
               for p in problems)


def test_a_missing_fragment_file_is_named_without_the_servers_folders(app):
    with app.app_context():
        problems = refused("special_diet.toml", DEFINITION)
    assert problems == ["special_diet.toml: sections[1] (use 'diet.toml:diet'): fragment file "
                        "diet.toml is missing: it must lie beside the definition file (an "
                        "uploaded form carries both in one .zip or .tar package)"]


def test_the_same_version_with_other_content_is_refused_and_the_same_content_is_no_change(app):
    with app.app_context():
        form_uploads.upload("special_diet.zip", package())
        again = form_uploads.upload("renamed.tar.gz", tarred(
            {"special_diet.toml": definition(), "diet.toml": FRAGMENT}))
        assert again.created is False and stored_count() == 1
        with pytest.raises(PackageRefused) as caught:
            form_uploads.upload("special_diet.zip", package(replace=[("Specialkost", "Kost")]))
        assert "Version 1 of form special_diet is already stored with different content" \
            in str(caught.value)
        assert stored_count() == 1
        assert [a for a, _d, _u in audit_actions()] == [
            "forms.uploaded", "forms.uploaded", "forms.upload_refused"]


def test_a_key_of_a_built_in_form_cannot_be_taken_over(app):
    with app.app_context():
        problems = refused("x.zip", package(replace=[('key = "special_diet"',
                                                      'key = "daycare_placed_child"')]))
    assert problems == ["x.zip/special_diet.toml: key: Form key daycare_placed_child belongs "
                        "to plugin daycare; an upload cannot replace it. Choose another key."]


def test_a_built_in_reply_forms_key_cannot_be_taken_over(app):
    """The ward's receipt is the ward plugin's, although no form has its key: an upload of
    that key would have become its owner, and the ward's own checks were no longer asked."""
    with app.app_context():
        problems = refused("x.zip", package(replace=[('key = "special_diet"',
                                                      'key = "ward_receipt"')]))
    assert problems == ["x.zip/special_diet.toml: key: Form key ward_receipt belongs "
                        "to plugin psychiatric_ward; an upload cannot replace it. Choose another "
                        "key."]


@pytest.mark.parametrize("version", [2**31, 9223372036854775808])
def test_a_version_larger_than_the_database_holds_is_a_located_problem(app, version):
    with app.app_context():
        problems = refused("x.zip", package(version=version))
    assert problems == [f"x.zip/special_diet.toml: version: must be a whole number of at most "
                        f"2147483647, not {version}"]
    with app.app_context():
        assert stored_count() == 0


TEN_MB = b"# padding\n" * (1024 * 1024)
DEEP_ARRAYS = b'key = "deep"\nvalue = ' + b"[" * 400 + b"]" * 400 + b"\n"
DEEP_TABLES = b'key = "deep"\n[' + b".".join(b"t%d" % i for i in range(40)) + b"]\nx = 1\n"


@pytest.mark.parametrize("filename, data, message", [
    ("huge.toml", TEN_MB, "huge.toml: The file is 10240 kB; a form package may be at most "
                          "512 kB."),
    ("deep.toml", DEEP_TABLES, "deep.toml: Tables and lists are nested more than 16 levels "
                               "deep; a form definition never needs that."),
    ("deeper.toml", DEEP_ARRAYS, "deeper.toml: Tables and lists are nested more than 16 "
                                 "levels deep; a form definition never needs that."),
    ("escape.zip", zipped({"special_diet.toml": DEFINITION, "../diet.toml": FRAGMENT}),
     "escape.zip/../diet.toml: A name inside the archive must be a plain relative path, "
     "without “..” or a leading “/”."),
    ("escape.tar.gz", tarred({"forms/../../etc/diet.toml": FRAGMENT}),
     "escape.tar.gz/forms/../../etc/diet.toml: A name inside the archive must be a plain "
     "relative path, without “..” or a leading “/”."),
    ("absolute.tar", tarred({"/tmp/diet.toml": FRAGMENT}, mode="w"),
     "absolute.tar//tmp/diet.toml: A name inside the archive must be a plain relative path, "
     "without “..” or a leading “/”."),
    ("plugin.py", b"import os\nos.system('id')\n", "plugin.py: This is program code."),
    ("with_code.zip", zipped({"special_diet.toml": DEFINITION, "hooks.py": b"print(1)"}),
     "with_code.zip/hooks.py: This is program code."),
    ("latin1.toml", b'key = "x"\n# \xe4iti\n', "latin1.toml, line 2: The text is not valid "
                                              "UTF-8 (byte 12). Save the file as UTF-8."),
    ("mars.zip", package(replace=[('receivers = ["school"]', 'receivers = ["mars_base"]')]),
     "mars.zip/special_diet.toml: routing.receivers: unknown unit kind 'mars_base' (known: "),
    ("notes.zip", zipped({"special_diet.toml": DEFINITION, "readme.html": b"<p>"}),
     "notes.zip/readme.html: Only .toml files may be in a form package."),
    ("empty.zip", b"", "empty.zip: The file is empty."),
    ("renamed.tar.gz", b"PK not really an archive\n" * 20,
     "renamed.tar.gz: The archive cannot be read: it is damaged, encrypted, or not the kind "
     "of archive its name says (.zip, .tar, .tar.gz)."),
    ("cut.zip", zipped({"special_diet.toml": DEFINITION})[:-30],
     "cut.zip: The archive cannot be read: it is damaged, encrypted, or not the kind of "
     "archive its name says (.zip, .tar, .tar.gz)."),
])
def test_a_hostile_upload_is_refused_with_a_clear_message_and_nothing_stored(
        app, tmp_path, filename, data, message):
    with app.app_context():
        problems = refused(filename, data)
        _action, detail, _actor = audit_actions()[-1]
    assert problems[0].startswith(message), problems
    assert detail == {"filename": filename, "problems": len(problems)}
    assert not (tmp_path / "diet.toml").exists() and not (tmp_path.parent / "diet.toml").exists()


def test_an_archive_may_keep_its_files_in_a_folder(app):
    with app.app_context():
        outcome = form_uploads.upload("county.tar", tarred(
            {"forms/special_diet.toml": DEFINITION, "forms/diet.toml": FRAGMENT}, mode="w"))
    assert (outcome.key, outcome.created) == (KEY, True)


def test_a_link_inside_an_archive_is_refused(app):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        link = tarfile.TarInfo("diet.toml")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        bundle.addfile(link)
    with app.app_context():
        problems = refused("links.tar", buffer.getvalue())
    assert problems == ["links.tar/diet.toml: Links and special files are not allowed in a "
                        "form package."]


def test_a_zip_bomb_is_refused_after_reading_no_more_than_the_bound(app):
    bomb = zipped({"special_diet.toml": b"# " + b"0" * (50 * 1024 * 1024)})
    assert len(bomb) < 512 * 1024
    with app.app_context():
        problems = refused("bomb.zip", bomb)
    assert problems == ["bomb.zip: Unpacked, the archive is larger than 512 kB."]


def test_nothing_of_a_refused_upload_reaches_the_session(app):
    with app.app_context():
        refused("mars.zip", package(replace=[('receivers = ["school"]',
                                              'receivers = ["mars_base"]')]))
        db.session.commit()
        assert stored_count() == 0


def test_the_key_of_a_removed_plugins_stored_handovers_cannot_be_taken(app):
    """A plugin's form sent handovers, then the plugin was removed: an upload of its key was
    accepted, and the stored handovers were then read with the upload's fields and labels (a
    choice shown as its raw value). An earlier version of the same upload is no other form."""
    from support import create_unit, create_user

    from handover.store.models import Handover

    with app.app_context():
        unit = create_unit("Old clinic", kind="child_welfare_institution")
        author = create_user("old.author@example.test")
        db.session.add(Handover(form_key=KEY, form_version=1, status="sent",
                                sender_unit_id=unit.id, created_by_id=author.id))
        db.session.commit()
        problems = refused("x.zip", package())
    assert problems == [f"x.zip/special_diet.toml: key: Form key {KEY} is the key of stored "
                        "handovers of a form that is no longer installed; an upload cannot "
                        "take them over. Choose another key."]


def test_an_uploads_own_stored_handovers_do_not_stop_its_next_version(app):
    from support import create_unit, create_user

    from handover.store.models import Handover

    with app.app_context():
        form_uploads.upload("special_diet.zip", package())
        unit = create_unit("Clinic", kind="child_welfare_institution")
        author = create_user("author@example.test")
        db.session.add(Handover(form_key=KEY, form_version=1, status="sent",
                                sender_unit_id=unit.id, created_by_id=author.id))
        db.session.commit()
        outcome = form_uploads.upload("special_diet.zip", package(version=2))
    assert (outcome.key, outcome.version, outcome.created) == (KEY, 2, True)
