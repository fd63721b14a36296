"""A refused withdrawal says why: an unopened handover whose content the retention rule erased
was told "it has been opened"."""

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from handover.services.policy_refusals import refusal
from handover.store.models import Handover


@pytest.mark.parametrize("status, erased, expected", [
    ("sent", True, "its content was erased"),
    ("opened", False, "it has been opened"),
    ("acknowledged", False, "it has been opened"),
    ("returned", False, "can no longer be withdrawn."),
])
def test_a_refused_withdrawal_gives_its_reason(app, status, erased, expected):
    handover = Handover(id=7, status=status,
                        erased_at=datetime(2026, 12, 1, tzinfo=UTC) if erased else None)
    with app.test_request_context(), force_locale("en"):
        told = str(refusal(handover, "withdraw"))
    assert expected in told
    if expected != "it has been opened":
        assert "opened" not in told
