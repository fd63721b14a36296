"""Built-in plugin: pre-information from a child-welfare institution to a psychiatric ward.

The definition, its routing and the ward's two reply forms (receipt, discharge summary) live in
``forms/psychiatric_ward.toml``. This module registers it and adds the rules that span fields:
a birth date that contradicts the identity code means the wrong child, and "measures were used"
without saying which ones leaves the ward guessing.
"""

from datetime import date
from pathlib import Path

from stdnum.fi import hetu

from handover.hookspecs import hookimpl

FORMS = Path(__file__).resolve().parent.parent / "forms"
FORM_KEY = "psychiatric_ward_preinfo"

#: Century of the birth year by the identity code's separator (since 2023 several per century).
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}

MESSAGES = {
    "birth_date": {
        "fi": "Syntymäaika ei vastaa henkilötunnusta.",
        "sv": "Födelsedatumet stämmer inte överens med personbeteckningen.",
        "en": "The date of birth does not match the personal identity code.",
    },
    "measures_missing": {
        "fi": "Kerro, mitä rajoitustoimenpiteitä on käytetty.",
        "sv": "Ange vilka begränsningsåtgärder som har använts.",
        "en": "Say which restrictive measures were used.",
    },
    "future_date": {
        "fi": "Päivämäärä ei voi olla tulevaisuudessa.",
        "sv": "Datumet kan inte ligga i framtiden.",
        "en": "The date cannot be in the future.",
    },
}


@hookimpl
def register_forms(app):
    return [FORMS / "psychiatric_ward.toml"]


@hookimpl
def validate_form(form_key, form_version, content, language):
    if form_key != FORM_KEY or not isinstance(content, dict):
        return None
    try:
        return _problems(content, language)
    except (TypeError, ValueError, AttributeError):
        return None  # malformed content is the field validation's business, never a crash


def _problems(content, language):
    def say(name):
        texts = MESSAGES[name]
        return texts.get(language, texts["fi"])

    problems = {}
    if not _birth_date_matches(content.get("child_identity_code"), content.get("child_birth_date")):
        problems["child_birth_date"] = [say("birth_date")]
    rows = content.get("restrictive_measure_list") or []
    if content.get("restrictive_measures_used") == "yes" and not rows:
        problems["restrictive_measure_list"] = [say("measures_missing")]
    for index, row in enumerate(rows):
        last = (row or {}).get("measure_last_date")
        if last and date.fromisoformat(last) > date.today():
            problems[f"restrictive_measure_list.{index}.measure_last_date"] = [say("future_date")]
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
