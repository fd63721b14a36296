"""Rules on contact restrictions that every built-in form about a placed child shares.

Not a plugin itself (``DEFAULT_PLUGINS`` does not name it): the form plugins call it from their
``validate_form``. Why it exists: a parent barred from fetching the child keeps a guardian's
right to information; only a contact-restriction decision (Child Welfare Act, ss. 62-63),
made for a fixed period, can restrict it. So a form may record a guardian (or a ward visitor)
as getting less information only when it also records such a decision covering information,
with its date and end.
"""

from datetime import date

from handover.formdefs import content as content_rules

RESTRICTED_INFORMATION = ("limited", "none")

MESSAGES = {
    "information_needs_decision": {
        "fi": "Huoltajan tiedonsaantia voi rajoittaa vain yhteydenpidon rajoittamista koskeva "
              "päätös. Kirjaa päätös (päivämäärä, mitä se koskee ja mihin asti) kohtaan "
              "Yhteydenpidon rajoitukset ja valitse, että se koskee tietojen antamista, tai "
              "merkitse, että huoltaja saa tiedot.",
        "sv": "En vårdnadshavares rätt till uppgifter kan begränsas endast genom ett beslut om "
              "begränsning av kontakter. Ange beslutet (datum, vad det gäller och till vilket "
              "datum) under Begränsningar av kontakter och välj att det gäller uppgifter om "
              "barnet, eller ange att vårdnadshavaren får uppgifter.",
        "en": "Only a contact-restriction decision can restrict a guardian's right to "
              "information. Record the decision (its date, what it covers and until when) under "
              "Contact restrictions and choose that it covers information, or mark that the "
              "guardian receives information.",
    },
    "visitor_needs_decision": {
        "fi": "\"Ei yhteydenpitoa eikä tietoja\" edellyttää yhteydenpidon rajoittamista koskevaa "
              "päätöstä, joka koskee tietojen antamista. Kirjaa se kohtaan Yhteydenpidon "
              "rajoitukset.",
        "sv": "\"Inga kontakter och inga uppgifter\" förutsätter ett beslut om begränsning av "
              "kontakter som gäller uppgifter om barnet. Ange det under Begränsningar av "
              "kontakter.",
        "en": "\"No contact and no information\" needs a contact-restriction decision that covers "
              "information. Record it under Contact restrictions.",
    },
    "ends_before_decided": {
        "fi": "Rajoitus ei voi päättyä ennen päätöksen päivämäärää.",
        "sv": "Begränsningen kan inte upphöra före beslutets datum.",
        "en": "The restriction cannot end before the date of the decision.",
    },
    "decided_in_future": {
        "fi": "Päätöksen päivämäärä ei voi olla tulevaisuudessa.",
        "sv": "Beslutets datum kan inte ligga i framtiden.",
        "en": "The date of the decision cannot be in the future.",
    },
}


def say(name, language):
    texts = MESSAGES[name]
    return texts.get(language, texts["fi"])


def covers_information(content):
    """Whether a recorded restriction decision covers information about the child."""
    return any("information" in ((row or {}).get("restriction_scope") or [])
               for row in content.get("contact_restrictions") or [])


def problems(content, language, today=None):
    """{path: [message]} for the shared rules, on content that passed the field checks."""
    today = today or content_rules.today()
    found = {}
    for index, row in enumerate(content.get("contact_restrictions") or []):
        decided, until = (row or {}).get("restriction_decision_date"), (row or {}).get(
            "restriction_until")
        where = f"contact_restrictions.{index}"
        if decided and date.fromisoformat(decided) > today:
            found[f"{where}.restriction_decision_date"] = [say("decided_in_future", language)]
        if until and decided and until < decided:  # ISO dates compare as text
            found[f"{where}.restriction_until"] = [say("ends_before_decided", language)]
    if not covers_information(content):
        for index, row in enumerate(content.get("guardians") or []):
            if (row or {}).get("guardian_information_right") in RESTRICTED_INFORMATION:
                found[f"guardians.{index}.guardian_information_right"] = [
                    say("information_needs_decision", language)]
        for index, row in enumerate(content.get("ward_contact_persons") or []):
            if (row or {}).get("contact_permission") == "no_information":
                found[f"ward_contact_persons.{index}.contact_permission"] = [
                    say("visitor_needs_decision", language)]
    return found
