"""Built-in plugin: pre-information from a child-welfare institution to a psychiatric ward.

The definition, its routing and the ward's two reply forms (receipt, discharge summary) live in
``forms/psychiatric_ward.toml``. This module registers it and adds the rules that span fields:
"measures were used" without saying which ones leaves the ward guessing, and nobody is kept
from information about the child without a recorded contact-restriction decision
(``restrictions``).
"""

from datetime import date
from importlib.resources import files

from handover.builtin_plugins import restrictions

from handover import hookimpl
from handover.formdefs import content as content_rules

FORMS = files("handover.builtin_forms")

MESSAGES = {
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
def validate_form(content, language):
    """Asked only about this plugin's form, with content that passed every field's checks."""
    def say(name):
        texts = MESSAGES[name]
        return texts.get(language, texts["fi"])

    problems = restrictions.problems(content, language)
    rows = content.get("restrictive_measure_list") or []
    if content.get("restrictive_measures_used") == "yes" and not rows:
        problems["restrictive_measure_list"] = [say("measures_missing")]
    for index, row in enumerate(rows):
        last = (row or {}).get("measure_last_date")
        if last and date.fromisoformat(last) > content_rules.today():
            problems[f"restrictive_measure_list.{index}.measure_last_date"] = [say("future_date")]
    return problems

