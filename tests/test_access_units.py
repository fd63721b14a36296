"""`access.units_of`: the units a page shows come with the handover when `require` loads them,
and are never stale when a draft's route changed after they were loaded."""

import lifecycle_support
from lifecycle_support import send_handover
from support import statements_during

from handover.services import policy as access
from handover.store.database import db

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def test_units_loaded_with_the_handover_need_no_query_of_their_own(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        db.session.expunge_all()
        granted = access.require(world.user("receiving_receiver"), handover_id,
                                 with_units=True)
        units, statements = statements_during(lambda: access.units_of(granted.handover))
        assert statements == []
        assert {unit.name for unit in units.values()} == {
            "Sending unit", "Receiving unit", "Copy unit"}


def test_a_route_changed_after_loading_gives_the_new_units(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        db.session.expunge_all()
        handover = access.require(world.user("sending_sender"), handover_id,
                                  with_units=True).handover
        handover.receiver_unit_id = world.unit("other").id
        units, statements = statements_during(lambda: access.units_of(handover))
        assert any(statement.startswith("SELECT units.") for statement in statements)
        assert units[world.unit("other").id].name == "Other unit"
        assert world.unit("receiving").id not in units
