"""Handover plugin: the health check of a child moving into substitute care.

Social work sends the form to the health service that does the check; the health service sends
the results back to the social worker, the placement getting a copy of what daily care needs.
The plugin adds that kind of unit, ships its two form definitions as package data and checks
two cross-field rules.
"""

from importlib.resources import files

from handover import hookimpl

FORM = files(__name__) / "health_check.toml"
#: The results, from the health service back to the social worker, with the placement's copy.
RESULTS = files(__name__) / "health_check_results.toml"


@hookimpl
def register_unit_kinds(app):
    return [{
        "key": "health_service",
        "labels": {
            "fi": "Terveyspalvelu (terveystarkastukset)",
            "sv": "Hälsotjänst (hälsokontroller)",
            "en": "Health service (health checks)",
        },
    }]


@hookimpl
def register_forms(app):
    return [FORM, RESULTS]


MESSAGES = {
    "no_identity": {
        "fi": "Anna henkilötunnus tai, jos sitä ei ole, syntymäaika.",
        "sv": "Ange personbeteckning eller, om den saknas, födelsedatum.",
        "en": "Give the identity code or, if there is none, the date of birth.",
    },
    "due_before_start": {
        "fi": "Tarkastuksen toivottu ajankohta ei voi olla ennen sijoituksen alkua.",
        "sv": "Önskad tidpunkt för kontrollen kan inte vara före placeringens början.",
        "en": "The wished date of the check cannot be before the placement starts.",
    },
}


@hookimpl
def validate_form(content, language):
    """Rules a single field cannot express; asked only about this plugin's form. Never logs
    content: it is child data."""
    errors = {}
    language = language if language in ("fi", "sv", "en") else "fi"
    if not content.get("child_identity_code") and not content.get("child_birth_date"):
        errors["child_birth_date"] = [MESSAGES["no_identity"][language]]
    start, due = content.get("placement_start"), content.get("check_wished_by")
    if start and due and due < start:  # ISO dates compare as text
        errors["check_wished_by"] = [MESSAGES["due_before_start"][language]]
    return errors
