"""A page whose only errors are inside a repeating group's row starts its title with "Error:"
like every other failed page: a screen reader reads the title first. The section page keeps a
row's messages on the row's inputs only, so the group's own error list is empty."""

import re

import lifecycle_support
import pytest
from lifecycle_support import login_as
from test_error_summary_links import ward_draft

app_config = lifecycle_support.app_config
world = lifecycle_support.world

ROW_DATE = "restrictive_measure_list-0-measure_last_date"


def title_of(page):
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def restrictive_measures_page(app, client, world, language, data):
    draft_id = ward_draft(app, world)
    login_as(client, app, world.users["sending_sender"])
    with client.session_transaction() as session:
        session["language"] = language
    return client.post(f"/handovers/{draft_id}/sections/restrictive_measures", data=data)


@pytest.mark.parametrize("language, prefix", [("fi", "Virhe:"), ("sv", "Fel:"),
                                              ("en", "Error:")])
def test_a_date_that_is_no_date_in_a_row_marks_the_page_title(app, client, world, language,
                                                               prefix):
    page = restrictive_measures_page(app, client, world, language,
                                     {ROW_DATE: "31.2.2026", "continue": "1"})
    text = page.get_data(as_text=True)
    assert f'id="{ROW_DATE}-error"' in text and 'class="error-summary"' in text
    assert title_of(text).startswith(f"{prefix} ")


def test_a_row_added_without_errors_leaves_the_title_alone(app, client, world):
    page = restrictive_measures_page(app, client, world, "fi",
                                     {ROW_DATE: "1.2.2026",
                                      "add_row": "restrictive_measure_list"})
    text = page.get_data(as_text=True)
    assert 'class="error-summary"' not in text
    assert not title_of(text).startswith("Virhe:")
