"""What a review of dates found: a date in the right format whose year nobody means (30.12.9999
for the ward's arrival, 1.1.0001, 14.3.0025 typed for 2025) answered 500 on saving, losing the
page's typing, or was stored and shown back as "14.3.25", which the same field then refused.
A form takes the years 1900 to 2199; a date outside them is kept as typed and refused with
"check the year", on the page, on check answers and through the API."""

import re
from html import unescape

import lifecycle_support
import pytest
from lifecycle_support import login_as
from support import page_text, stored_content

from handover.formdefs import content as content_rules
from handover.formdefs.display import date_text
from handover.services import drafts
from handover.store.database import db
from handover.store.models import Handover

app_config = lifecycle_support.app_config
world = lifecycle_support.world
ward_draft = lifecycle_support.ward_draft

REASON = "Itsetuhoisia puheita, toive arviosta ja lääkityksen tarkistuksesta"


@pytest.fixture
def sender(app, client, world):
    return login_as(client, app, world.users["sending_sender"])


def _field(page, field_id):
    tag = re.search(rf'<(?:input|textarea)[^>]*\bid="{field_id}"[^>]*>([^<]*)', page)
    assert tag, f"no field {field_id}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1) if value else tag.group(1)).strip()


def _error(page, field_id):
    found = re.search(rf'id="{field_id}-error">([^<]*)<', page)
    return unescape(found.group(1)).strip() if found else None


@pytest.mark.parametrize("typed", ["30.12.9999", "31.12.9999", "1.1.0001", "14.3.0025"])
def test_a_year_nobody_means_is_kept_as_typed_with_the_page_and_refused(
        app, sender, ward_draft, typed):
    response = sender.post(f"/handovers/{ward_draft}/sections/arrival",
                           data={"arrival_date": typed, "arrival_reason": REASON,
                                 "continue": "1"})
    assert response.status_code == 200, "the page again, with its error (not a 500)"
    page = page_text(response)
    assert _field(page, "arrival_date") == typed
    assert _field(page, "arrival_reason") == REASON, "the rest of the page is kept"
    assert _error(page, "arrival_date") == f"Check the year of {typed}: date of arrival"
    assert stored_content(app, ward_draft)["arrival_reason"] == REASON


def test_the_check_answers_page_names_the_year_to_check(app, sender, ward_draft):
    sender.post(f"/handovers/{ward_draft}/sections/arrival",
                data={"arrival_date": "14.3.0025", "back_to_tasks": "1"})
    preview = page_text(sender.get(f"/handovers/{ward_draft}/preview"))
    assert "Check the year of 14.3.0025: date of arrival" in preview
    assert "14.3.25" not in preview


@pytest.mark.parametrize("stored, message", [
    ("9999-12-30", "Check the year of 30.12.9999: date of arrival"),
    ("0025-03-14", "Check the year of 14.3.0025: date of arrival"),
    ("1899-12-31", "Check the year of 31.12.1899: date of arrival"),
])
def test_a_stored_date_outside_the_years_is_refused_at_send(app, world, ward_draft, stored,
                                                            message):
    """What a system sends as JSON is checked by the same rules; saving it computes no send-by
    date off the calendar (that was the 500)."""
    with app.test_request_context():
        handover = db.session.get(Handover, ward_draft)
        definition = drafts.definition_of(handover.form_key)
        drafts.save(world.user("sending_sender"), handover,
                    {**drafts.content_of(handover), "arrival_date": stored,
                     "arrival_type": "planned"})
        problems = drafts.validate_content(definition, drafts.content_of(handover),
                                           "child_welfare_institution", "en")
    assert [str(p) for p in problems["arrival_date"]] == [message]


@pytest.mark.parametrize("day", ["1900-01-01", "2199-12-31", "2026-12-07"])
def test_the_years_a_form_takes_are_read(day):
    assert content_rules.as_date(day).isoformat() == day


def test_a_date_shows_its_year_in_four_digits():
    from datetime import date
    assert date_text(date(25, 3, 14)) == "14.3.0025"


def test_days_of_retention_are_finnish_calendar_days_across_the_clocks_turn():
    """Closed at 00:30 on 12 October in Helsinki, "14 days after closing" ends at 00:30 on
    26 October, the day a reader counts to; in 24-hour steps it ended at 23:30 on the 25th,
    an hour early (the clocks went back on the 25th), and the page named the 25th."""
    from datetime import UTC, datetime

    from handover.services import retention

    closed = datetime(2026, 10, 11, 21, 30, tzinfo=UTC)
    rule = {**retention.DEFAULT_RETENTION, "after_last_activity_days": 30,
            "after_closing_days": 14, "max_days": 365}
    erased = retention.deadline(rule, status="acknowledged", updated_at=closed,
                                sent_at=closed, last_activity_at=closed, closed_at=closed)
    assert erased == datetime(2026, 10, 25, 22, 30, tzinfo=UTC)
    assert date_text(erased.astimezone(content_rules.TIMEZONE).date()) == "26.10.2026"


def _ward_content_born(born, **dates):
    """The ward form's content as `validate_content` reads it: a child born ``born``, with
    ``dates``."""
    return {"child_birth_date": born, **dates}


@pytest.mark.parametrize("dates, refused", [
    ({"arrival_date": "2011-12-31"}, ["arrival_date"]),
    ({"placement_start_date": "2002-03-14"}, ["placement_start_date"]),
    ({"arrival_date": "2012-03-14", "placement_start_date": "2020-03-14"}, []),
    ({"restrictive_measure_list": [{"measure_last_date": "2000-01-01"}]},
     ["restrictive_measure_list.0.measure_last_date"]),
])
def test_a_date_before_the_child_was_born_is_refused(app, dates, refused):
    """A year typed wrong (2002 for 2020) read as a date like any other: a placement that
    began ten years before the child was born reached the receiver as a fact."""
    from handover.formdefs import content as content_rules
    from handover.plugins import manager as plugin_manager

    with app.test_request_context():
        definition = plugin_manager.registry(app).get("psychiatric_ward_preinfo")
        problems = content_rules.problems(
            definition, _ward_content_born("2012-03-14", **dates), "child_welfare_institution",
            "en")
    before = {path: [str(m) for m in messages] for path, messages in problems.items()
              if any("before the child's date of birth" in str(m) for m in messages)}
    assert sorted(before) == refused
    for path in refused:
        label = {"arrival_date": "Date of arrival",
                 "placement_start_date": "Placement start date"}.get(path, "Last used on")
        assert before[path] == [f"The date cannot be before the child's date of birth: {label}"]


def test_a_list_line_shows_a_stored_short_year_as_the_page_does():
    """A date stored before years were checked (0025) read "14.3.25" in the lists while the
    handover's page said 14.3.0025."""
    from handover.web.ui import summary_line

    assert summary_line({"child_name": "Testi", "child_birth_date": "0025-03-14"}) == \
        "Testi, 14.3.0025"
