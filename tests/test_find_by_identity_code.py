"""Finding a child's handovers by identity code refuses what the handover form refuses, in the
form's words: a code whose check character is wrong, or whose birth date lies in the future (a
child born in 2050 was mistyped). A refused code searches nothing and leaves no search event."""

from datetime import date

import lifecycle_support
import pytest
from lifecycle_support import CHILD_CODE, login_as, send_handover
from sqlalchemy import func, select

from handover.store.database import db
from handover.store.models import AuditEvent

app_config = lifecycle_support.app_config
world = lifecycle_support.world

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def identity_code(day, century_sign, individual="902"):
    """A well-formed code born on ``day``, its check character computed."""
    digits = day.strftime("%d%m%y") + individual
    return digits[:6] + century_sign + individual + CHECK[int(digits) % 31]


FUTURE_CODE = identity_code(date(2050, 1, 1), "A")


def _searches(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "handover.searched")).scalar()


@pytest.mark.parametrize("code, message", [
    (FUTURE_CODE, "The date of birth in the identity code is in the future. Check the "
                  "identity code."),
    (CHILD_CODE[:-1] + "A", "The check character of the identity code is wrong."),
    ("1234", "Enter the identity code as DDMMYY"),
])
def test_find_refuses_a_code_the_form_refuses_with_its_message(app, client, world, code,
                                                               message):
    login_as(client, app, world.users["receiving_receiver"])
    page = client.post("/handovers/find", data={"identity_code": code}).get_data(as_text=True)
    assert message in page
    assert "No handovers you can see have this identity code." not in page
    assert _searches(app) == 0


def test_a_child_born_today_or_before_is_still_found_and_the_search_audited(app, client, world):
    with app.app_context():
        found = send_handover(world)
    login_as(client, app, world.users["receiving_receiver"])
    page = client.post("/handovers/find", data={"identity_code": f" {CHILD_CODE.lower()} "})
    assert f"#{found}" in page.get_data(as_text=True)
    assert _searches(app) == 1
