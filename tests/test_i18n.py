"""Finnish is the default and Swedish and English are complete: every interface text in the
code and templates has a Finnish and a Swedish translation in the committed catalogues."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "handover" / "translations"


@pytest.fixture(scope="module")
def extracted_messages(tmp_path_factory):
    """The texts the code uses today, extracted exactly as scripts/translations does."""
    template = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
         "--no-location", "-o", str(template), "handover"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with template.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_interface_text_is_translated(language, extracted_messages):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        message.id for message in catalogue
        if message.id and message.string and not message.fuzzy
        and (not isinstance(message.string, tuple) or all(message.string))
    }
    missing = sorted(str(text) for text in extracted_messages - translated)
    assert missing == [], f"{len(missing)} texts lack a {language} translation: {missing[:20]}"


def test_finnish_is_the_default_language(client):
    response = client.get("/accessibility")
    assert '<html lang="fi">' in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("format", ["short", "medium", "long"])
def test_datetime_filter_gives_what_babel_gives_in_finland(app, language, format):
    """The pages' faster date filter must not change a single character of what Babel writes
    for the language as written in Finland: same pattern, same time zone (Helsinki, summer and
    winter). English's short date is a pattern of its own (d.M.y, not dd/MM/y), and so is
    the date of Swedish's and English's medium one, with seconds (d.M.y, not the month's
    name: the audit log writes 7.12.2026 beside its search fields' 14.3.2012)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime as babel_format_datetime
    from flask import session

    from handover.i18n import FORMAT_LOCALES, format_datetime

    values = [datetime(2026, 1, 5, 22, 7, 9, tzinfo=UTC), datetime(2026, 7, 31, 6, 0, tzinfo=UTC),
              datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)]
    helsinki = ZoneInfo("Europe/Helsinki")
    with app.test_request_context("/"):
        session["language"] = language
        pattern = {("en", "short"): "d.M.y, H.mm", ("en", "medium"): "d.M.y, H.mm.ss",
                   ("sv", "medium"): "d.M.y H.mm.ss"}.get((language, format), format)
        for value in values:
            assert format_datetime(value, format) == babel_format_datetime(
                value.astimezone(helsinki), pattern, locale=FORMAT_LOCALES[language])
        rendered = app.jinja_env.from_string("{{ v|datetimeformat('short') }}").render(v=values[0])
        assert rendered == format_datetime(values[0], "short")


@pytest.mark.parametrize("language, written", [
    ("fi", "6.1.2026 0.07 | 6.1.2026"),
    ("sv", "6.1.2026 0.07 | 6.1.2026"),
    ("en", "6.1.2026, 0.07 | 6.1.2026"),
])
def test_dates_and_times_put_the_day_first_in_every_language(app, language, written):
    """Every language writes dates as it is written in Finland, so that a page's times agree
    with its form dates (d.m.yyyy) and no one reads 6/1 as the first of June: Sweden's Swedish
    writes 2026-01-06 00:07, American English 1/6/26, 12:07 AM."""
    from datetime import UTC, datetime

    from flask import session

    moment = datetime(2026, 1, 5, 22, 7, 9, tzinfo=UTC)   # 00:07 on 6 January in Helsinki
    with app.test_request_context("/"):
        session["language"] = language
        assert app.jinja_env.from_string(
            "{{ v|datetimeformat('short') }} | {{ v|dateformat('short') }}").render(
            v=moment) == written


@pytest.mark.parametrize("language,one,many,members", [
    ("fi", "Täytä vähintään 1 rivi.", "Täytä vähintään 2 riviä.", ["1 jäsen", "2 jäsentä"]),
    ("sv", "Fyll i minst 1 rad.", "Fyll i minst 2 rader.", ["1 medlem", "2 medlemmar"]),
    ("en", "Fill in at least 1 row.", "Fill in at least 2 rows.", ["1 member", "2 members"]),
])
def test_counts_take_the_right_plural_in_every_language(app, language, one, many, members):
    from flask import session

    from handover.formdefs.content import too_few_rows

    with app.test_request_context("/"):
        session["language"] = language
        assert [str(too_few_rows(minimum)) for minimum in (1, 2)] == [one, many]
        counted = app.jinja_env.from_string(
            '{{ ngettext("%(num)s member", "%(num)s members", n) }}')
        assert [counted.render(n=1), counted.render(n=2)] == members


def test_template_texts_follow_a_forced_locale_and_escape_what_is_put_into_them(app):
    """The pages' gettext remembers the catalogue only while the same locale is in force: a
    text rendered under ``force_locale`` (an e-mail in the recipient's language) comes out in
    that language, and the page's language is back afterwards. Values put into a translated
    text are escaped; the translation itself is markup, and ``%%`` is a percent sign."""
    from flask import session
    from flask_babel import force_locale

    page = app.jinja_env.from_string(
        '{{ _("Log out") }}|{{ _("Answer with: %(title)s", title=title) }}|{{ _("100%%") }}')
    with app.test_request_context("/"):
        session["language"] = "fi"
        finnish = page.render(title="<script>x</script>")
        with force_locale("sv"):
            swedish = page.render(title="<b>")
        assert page.render(title="<script>x</script>") == finnish
    assert finnish.startswith("Kirjaudu ulos|")
    assert "&lt;script&gt;x&lt;/script&gt;" in finnish and "<script>" not in finnish
    assert finnish.endswith("|100%")
    assert swedish.startswith("Logga ut|") and "&lt;b&gt;" in swedish
