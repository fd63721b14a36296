"""Dates are typed as d.m.yyyy in one text field in every language (issue 14): a browser's
date picker follows the browser's locale (mm/dd/yyyy in an English browser) while the service
shows d.m.yyyy, so no page may use one."""

import re
from pathlib import Path

import lifecycle_support
from lifecycle_support import login_as

app_config = lifecycle_support.app_config
world = lifecycle_support.world

TEMPLATES = Path(__file__).resolve().parent.parent / "handover" / "templates"


def test_no_template_asks_the_browser_for_a_date_picker():
    pickers = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
               if re.search(r"""type=["']?(date|datetime-local|month|week)\b|"""
                            r"""input_type=["'](date|datetime-local|month|week)["']""",
                            path.read_text())]
    assert pickers == []


def test_the_audit_filter_takes_a_date_as_day_month_year(app, client, world):
    login_as(client, app, world.users["auditor"])
    page = client.get("/audit/?since=1.1.2000&until=2.1.2000").get_data(as_text=True)
    since = re.search(r'<input[^>]*id="since"[^>]*>', page).group(0)
    assert 'type="text"' in since and 'value="1.1.2000"' in since.replace("01.01", "1.1")
    assert "Day, month and year" in page
    assert "govuk-error-message" not in page and "field__error" not in page
