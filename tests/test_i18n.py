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
