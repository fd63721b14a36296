"""Built-in plugin: school transfer of a child in care, with the school's receipt and invitation.

The definition, its routing and the reply form live in ``forms/school_transfer.toml``. This
module registers it and adds the rule that spans fields: a support decision must belong to
the support model in force on its date (basic-education support was reformed on 1 August 2025).
"""

from datetime import date
from importlib.resources import files

from handover.builtin_plugins import restrictions

from handover import hookimpl
from handover.formdefs import content as content_rules

FORMS = files("handover.builtin_forms")
SUPPORT_REFORM = date(2025, 8, 1)

MESSAGES = {
    "decision_after_reform": {
        "fi": "Päätös on tehty 1.8.2025 tai myöhemmin, joten siihen sovelletaan uutta tuen "
              "mallia.",
        "sv": "Beslutet har fattats 1.8.2025 eller senare, så den nya stödmodellen tillämpas.",
        "en": "The decision was made on or after 1 August 2025, so the new support model "
              "applies.",
    },
    "decision_before_reform": {
        "fi": "Uuden mallin mukainen päätös voi olla aikaisintaan 1.8.2025.",
        "sv": "Ett beslut enligt den nya modellen kan vara daterat tidigast 1.8.2025.",
        "en": "A decision under the new model cannot be dated before 1 August 2025.",
    },
    "future_date": {
        "fi": "Päivämäärä ei voi olla tulevaisuudessa.",
        "sv": "Datumet kan inte ligga i framtiden.",
        "en": "The date cannot be in the future.",
    },
}


@hookimpl
def register_forms(app):
    return [FORMS / "school_transfer.toml"]


@hookimpl
def validate_form(content, language):
    """Asked only about this plugin's form, with content that passed every field's checks."""
    def say(name):
        texts = MESSAGES[name]
        return texts.get(language, texts["fi"])

    problems = restrictions.problems(content, language)
    decided = content.get("support_decision_date")
    if decided:
        decided = date.fromisoformat(decided)
        model = content.get("support_model")
        if decided > content_rules.today():
            problems["support_decision_date"] = [say("future_date")]
        elif model == "pre_2025" and decided >= SUPPORT_REFORM:
            problems["support_decision_date"] = [say("decision_after_reform")]
        elif model == "reform_2025" and decided < SUPPORT_REFORM:
            problems["support_decision_date"] = [say("decision_before_reform")]
    return problems

