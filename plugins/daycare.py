"""Built-in plugin: "Sijoitettu lapsi varhaiskasvatuksessa", pre-information for the daycare.

The definition and its routing live in ``forms/daycare.toml``. This module registers it and adds
the rules that span fields: a birth date that contradicts the identity code means the wrong
child, and sharing or publishing photos of a child whose whereabouts are protected would undo
the protection.
"""

from datetime import date
from pathlib import Path

from stdnum.fi import hetu

from handover.hookspecs import hookimpl

FORMS = Path(__file__).resolve().parent.parent / "forms"
FORM_KEY = "daycare_placed_child"
LOCATION_FLAGS = ("non_disclosure", "location_hidden")

#: Century of the birth year by the identity code's separator (since 2023 several per century).
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}

MESSAGES = {
    "birth_date": {
        "fi": "Syntymäaika ei vastaa henkilötunnusta.",
        "sv": "Födelsedatumet stämmer inte överens med personbeteckningen.",
        "en": "The date of birth does not match the personal identity code.",
    },
    "photos_protected": {
        "fi": "Lapsella on turvakielto tai salattu sijoituspaikka: kuvia ei saa jakaa eikä "
              "julkaista.",
        "sv": "Barnet har spärrmarkering eller hemlig placeringsplats: bilder får inte delas "
              "eller publiceras.",
        "en": "The child has a non-disclosure marking or a hidden placement: photos must not be "
              "shared or published.",
    },
}


@hookimpl
def register_forms(app):
    return [FORMS / "daycare.toml"]


@hookimpl
def validate_form(form_key, form_version, content, language):
    if form_key != FORM_KEY or not isinstance(content, dict):
        return None
    try:
        return _problems(content, language)
    except (TypeError, ValueError, AttributeError, KeyError):
        return None  # malformed content is the field validation's business, never a crash


def _problems(content, language):
    def say(name):
        texts = MESSAGES[name]
        return texts.get(language, texts["fi"])

    problems = {}
    if not _birth_date_matches(content.get("child_identity_code"), content.get("child_birth_date")):
        problems["child_birth_date"] = [say("birth_date")]
    if any(content.get(flag) == "yes" for flag in LOCATION_FLAGS):
        if content.get("photo_permission") == "shared_with_families":
            problems["photo_permission"] = [say("photos_protected")]
        if content.get("publication_permission") == "allowed":
            problems["publication_permission"] = [say("photos_protected")]
    return problems


def _birth_date_matches(identity_code, birth_date):
    """False only when both are given and the code's date differs from the birth date."""
    if not identity_code or not birth_date:
        return True
    if not hetu.is_valid(identity_code, allow_temporary=True):
        return True
    code = hetu.compact(identity_code)
    born = date(CENTURIES[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))
    return born == date.fromisoformat(birth_date)
