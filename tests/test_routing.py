"""Routing: which forms a unit may send and to which units; a forbidden route is refused on the
server whatever the browser posted."""

import pytest
from formdef_samples import install_plugins
from support import create_unit

from handover.plugins.manager import set_enabled
from handover.services.routing import (
    RouteRefused,
    allowed_copy_units,
    allowed_receivers,
    check_route,
    sendable_forms,
)

HEALTH = "placement_health_check"


@pytest.fixture
def units(app):
    """A social-work unit, two health services (one deactivated), a daycare and a school."""
    with app.app_context():
        made = {
            "social": create_unit("Sosiaalityö Turku", "child_welfare_social_work"),
            "social_2": create_unit("Sosiaalityö Rauma", "child_welfare_social_work"),
            "health": create_unit("Neuvola Turku", "health_service"),
            "closed": create_unit("Suljettu neuvola", "health_service", is_active=False),
            "daycare": create_unit("Päiväkoti Satakieli", "daycare"),
            "school": create_unit("Koulu", "school"),
            "family": create_unit("Perhehoito", "family_care"),
        }
        return {name: unit.id for name, unit in made.items()}


def get(unit_id):
    from handover.store.database import db
    from handover.store.models import Unit

    return db.session.get(Unit, unit_id)


def test_social_work_may_send_the_health_check_and_a_daycare_may_not(app, units):
    with app.app_context():
        assert HEALTH in [d.key for d in sendable_forms(get(units["social"]))]
        assert HEALTH not in [d.key for d in sendable_forms(get(units["daycare"]))]


def test_receivers_are_active_units_of_allowed_kinds(app, units):
    with app.app_context():
        receivers = allowed_receivers(HEALTH, get(units["social"]))
        assert [u.id for u in receivers] == [units["health"]]
        assert allowed_copy_units(HEALTH, get(units["social"])) == []


def test_an_allowed_route_passes(app, units):
    with app.app_context():
        assert check_route(HEALTH, get(units["social"]), get(units["health"]), []) is None


@pytest.mark.parametrize("sender, receiver, copies", [
    ("social", "daycare", []),          # receiver of a kind the rules do not name
    ("social", "closed", []),           # deactivated receiver
    ("daycare", "health", []),          # sender kind may not send this form
    ("social", "health", ["daycare"]),  # copy to a kind that gets no copies
    ("social", "social_2", []),         # social work to social work
])
def test_a_forbidden_route_is_refused(app, units, sender, receiver, copies):
    with app.app_context():
        with pytest.raises(RouteRefused):
            check_route(HEALTH, get(units[sender]), get(units[receiver]),
                        [get(units[c]) for c in copies])


@pytest.fixture
def versioned_app(instance_path, database_backend, request):
    """An app whose plugins folder holds the `versioned` plugin (routing from TOML and hook)."""
    install_plugins(instance_path, "versioned")
    return request.getfixturevalue("app")


def test_rules_from_a_hook_add_to_the_definitions_own(versioned_app):
    app = versioned_app
    with app.app_context():
        social = create_unit("Sosiaalityö", "child_welfare_social_work")
        school = create_unit("Koulu", "school")
        family = create_unit("Perhehoito", "family_care")
        assert "versioned_form" in [d.key for d in sendable_forms(social)]
        assert allowed_copy_units("versioned_form", social) == [family]
        check_route("versioned_form", social, school, [family])
        with pytest.raises(RouteRefused):
            check_route("versioned_form", social, school, [family, family])
        with pytest.raises(RouteRefused):
            check_route("versioned_form", school, family, [])


def test_a_unit_cannot_send_to_itself(versioned_app):
    with versioned_app.app_context():
        first = create_unit("Koulu A", "school")  # school -> school is allowed
        second = create_unit("Koulu B", "school")
        assert allowed_receivers("versioned_form", first) == [second]
        with pytest.raises(RouteRefused):
            check_route("versioned_form", first, first, [])


def test_a_disabled_plugins_form_can_no_longer_be_sent(app, units):
    with app.test_request_context("/"):
        set_enabled("health_check", False)
        assert HEALTH not in [d.key for d in sendable_forms(get(units["social"]))]
        with pytest.raises(RouteRefused):
            check_route(HEALTH, get(units["social"]), get(units["health"]), [])
