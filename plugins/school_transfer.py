"""Built-in plugin: school transfer of a child in care, with the school's receipt and invitation.

The definition, its routing and the reply form live in ``forms/school_transfer.toml``; the
sending school's own routing (a copy to the social worker only) is registered here, as one
``[routing]`` table cannot give each kind of sender its own copies (``register_routing_rules``).
This module also adds the rule that spans fields: a support decision must belong to
the support model in force on its date (basic-education support was reformed on 1 August 2025).
"""

from datetime import date
from importlib.resources import files

from handover.builtin_plugins import restrictions

from handover import hookimpl
from handover.formdefs import content as content_rules

FORMS = files("handover.builtin_forms")
SUPPORT_REFORM = date(2025, 8, 1)
#: The protection flags of the shared section (``common:protection``): either hides the placement.
LOCATION_FLAGS = ("non_disclosure", "location_hidden")

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
    "school_may_not_send": {
        "fi": "Lapsen sijoituspaikka on salattu: tämän tiedonsiirron lähettää lapsen "
              "sosiaalityöntekijä, ei koulu.",
        "sv": "Barnets placeringsplats är hemlig: den här överlämningen skickas av barnets "
              "socialarbetare, inte av skolan.",
        "en": "The child's placement is hidden: the child's social worker sends this handover, "
              "not the school.",
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
def register_routing_rules(app):
    """A sending school sends the form with a copy to the child's social worker only, never to
    the placement (an institution, family home or foster carer): a school is not the one to
    tell where the child lives. Routing is the union of every rule whose senders include the
    sending unit's kind, so this narrows nothing by itself: it takes effect once the
    ``[routing]`` of ``forms/school_transfer.toml`` names only child-welfare social work as the
    sender."""
    return [{"form": "school_transfer",
             "senders": ["school"],
             "receivers": ["school"],
             "copies": ["child_welfare_social_work"]}]


@hookimpl
def validate_form(content, language, sender_kind):
    """Asked only about this plugin's form, with content that passed every field's checks.

    A school does not send the transfer of a child whose placement is hidden or who has a
    non-disclosure marking: the old school is the one in touch with the birth parents, and
    the form asks where the child lives. The child's social worker sends it instead."""
    def say(name):
        texts = MESSAGES[name]
        return texts.get(language, texts["fi"])

    problems = restrictions.problems(content, language)
    if sender_kind == "school":
        for flag in LOCATION_FLAGS:
            if content.get(flag) == "yes":
                problems[flag] = [say("school_may_not_send")]
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

