"""The pages' class names are ones the stylesheet styles: a button with a class the stylesheet
does not know is drawn as the browser's bare grey button, and a GOV.UK modifier that GOV.UK
Frontend does not have (or no longer has, after an upgrade) silently changes nothing.

Read from the templates as written and from the built stylesheet the server sends
(`handover/static/govuk/handover.css`, built by scripts/build-assets from GOV.UK Frontend and
`assets/`)."""

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "handover"
TEMPLATES = sorted((PACKAGE / "templates").rglob("*.html"))
STYLESHEET = (PACKAGE / "static" / "govuk" / "handover.css").read_text(encoding="utf-8")

BUTTON = re.compile(r"<button\b[^>]*>", re.S)
#: A class attribute written out in full (one that Jinja fills in is left to the pages' tests).
CLASSES = re.compile(r'\bclass="([^"{}]*)"')
GOVUK_MODIFIER = re.compile(r'\bgovuk-[a-z-]+(?:__[a-z-]+)?--[a-z0-9-]+')


def styled(name):
    """Whether the stylesheet has a rule for the class ``name`` (``!`` escaped, as GOV.UK's
    override classes are written)."""
    selector = re.escape("." + name.replace("!", "\\!"))
    return re.search(selector + r"(?![\w-])", STYLESHEET) is not None


def _where(path, text, offset):
    return f"{path.relative_to(PACKAGE)}:{text.count(chr(10), 0, offset) + 1}"


def test_the_templates_and_the_stylesheet_are_there():
    assert len(TEMPLATES) > 50
    assert styled("govuk-button") and styled("govuk-button--secondary")
    assert not styled("govuk-button--nonexistent")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_class_of_a_button_is_styled(path):
    text = path.read_text(encoding="utf-8")
    unstyled = [f"{_where(path, text, tag.start())} {name}"
                for tag in BUTTON.finditer(text)
                for classes in CLASSES.findall(tag.group(0))
                for name in classes.split()
                if not name.startswith("js-") and not styled(name)]
    assert unstyled == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_govuk_modifier_is_one_govuk_frontend_has(path):
    text = path.read_text(encoding="utf-8")
    unknown = [f"{_where(path, text, found.start())} {found.group(0)}"
               for found in GOVUK_MODIFIER.finditer(text) if not styled(found.group(0))]
    assert unknown == []
