"""Review of a plugin written from docs/plugins.md: a definition without legal bases is refused
where it is checked (it could never be sent), and a draft is routed against the form version it
was started with, not the newest one."""

from pathlib import Path

import pytest
from formdef_samples import install_plugins
from support import create_unit, create_user

from handover.cli.plugins import plugins_group
from handover.services import LifecycleError, drafts
from handover.store.database import db
from handover.store.models import Handover, Unit, User

EXAMPLE = (Path(__file__).resolve().parent.parent
           / "examples/handover-health-check/src/handover_health_check")
MISSING = "legal_bases: is missing: add at least one [[legal_bases]] table"


def _without_legal_bases(tmp_path):
    """The example definition with its [[legal_bases]] tables cut out, as a plugin author
    following the tutorial before this fix would have written it."""
    raw = (EXAMPLE / "health_check.toml").read_text()
    start = raw.index("[[legal_bases]]")
    end = raw.index("\n[", raw.rindex("[[legal_bases]]") + 1)
    path = tmp_path / "health_check.toml"
    path.write_text(raw[:start] + raw[end + 1:])
    assert "legal_bases" not in path.read_text()
    return path


def test_plugins_check_refuses_a_definition_without_legal_bases(runner, tmp_path):
    path = _without_legal_bases(tmp_path)
    result = runner.invoke(plugins_group, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}: {MISSING}" in result.output


@pytest.fixture
def versioned_app(instance_path, database_backend, request):
    """The test plugin `versioned`: v1 offers the basis "necessary", v2 "necessary_for_care"."""
    install_plugins(instance_path, "versioned")
    return request.getfixturevalue("app")


@pytest.fixture
def v1_draft(versioned_app):
    """A draft started on v1 of `versioned_form` with v1's basis, still in flight."""
    with versioned_app.app_context():
        school, other = create_unit("School", kind="school"), create_unit("Other", kind="school")
        user = create_user("teacher@example.org", memberships=[(school, "sender")])
        draft = Handover(form_key="versioned_form", form_version=1, status="draft",
                         sender_unit_id=school.id, receiver_unit_id=other.id,
                         created_by_id=user.id, legal_basis="necessary")
        db.session.add(draft)
        db.session.commit()
        return draft.id, user.id


def _units():
    return {unit.id: unit for unit in db.session.query(Unit)}


def test_an_old_drafts_basis_still_lets_it_be_sent_after_a_version_bump(versioned_app, v1_draft):
    with versioned_app.app_context():
        draft = db.session.get(Handover, v1_draft[0])
        user = db.session.get(User, v1_draft[1])
        assert drafts.routing_problem(user, draft, _units()) is None


def test_an_old_draft_cannot_take_a_basis_only_a_later_version_declares(versioned_app,
                                                                       v1_draft):
    with versioned_app.app_context():
        draft = db.session.get(Handover, v1_draft[0])
        user = db.session.get(User, v1_draft[1])
        receiver = db.session.get(Unit, draft.receiver_unit_id)
        with pytest.raises(LifecycleError, match="oikeusperuste"):
            drafts.change_routing(user, draft, receiver, (), "necessary_for_care")
        assert db.session.get(Handover, v1_draft[0]).legal_basis == "necessary"
