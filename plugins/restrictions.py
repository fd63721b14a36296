"""Rules on contact restrictions that every built-in form about a placed child shares.

Not a plugin itself (``DEFAULT_PLUGINS`` does not name it): the form plugins call it from their
``validate_form``. Why it exists: a parent barred from fetching the child keeps a guardian's
right to information; only a contact-restriction decision (Child Welfare Act, ss. 62-63),
made for a fixed period, can restrict it. So a form may record a guardian (or a ward visitor)
as getting less information only when it also records such a decision in force, covering
information and naming that person, with its date and end. A decision that has ended restricts
nothing: its row is refused, so the sender removes it or records the decision that replaced it.
"""

import re
from datetime import date

from handover.formdefs import content as content_rules

RESTRICTED_INFORMATION = ("limited", "none")

MESSAGES = {
    "information_needs_decision": {
        "fi": "Huoltajan tiedonsaantia voi rajoittaa vain yhteydenpidon rajoittamista koskeva "
              "päätös. Kirjaa päätös (päivämäärä, mitä se koskee ja mihin asti) kohtaan "
              "Yhteydenpidon rajoitukset, kirjoita huoltajan nimi kohtaan Kehen rajoitus "
              "kohdistuu ja valitse, että se koskee tietojen antamista, tai merkitse, että "
              "huoltaja saa tiedot.",
        "sv": "En vårdnadshavares rätt till uppgifter kan begränsas endast genom ett beslut om "
              "begränsning av kontakter. Ange beslutet (datum, vad det gäller och till vilket "
              "datum) under Begränsningar av kontakter, skriv vårdnadshavarens namn under Vem "
              "begränsningen gäller och välj att det gäller uppgifter om barnet, eller ange att "
              "vårdnadshavaren får uppgifter.",
        "en": "Only a contact-restriction decision can restrict a guardian's right to "
              "information. Record the decision (its date, what it covers and until when) under "
              "Contact restrictions, write the guardian's name under Whom the restriction "
              "concerns and choose that it covers information, or mark that the guardian "
              "receives information.",
    },
    "visitor_needs_decision": {
        "fi": "\"Ei yhteydenpitoa eikä tietoja\" edellyttää yhteydenpidon rajoittamista koskevaa "
              "päätöstä, joka koskee tietojen antamista tälle henkilölle. Kirjaa se kohtaan "
              "Yhteydenpidon rajoitukset ja kirjoita henkilön nimi kohtaan Kehen rajoitus "
              "kohdistuu.",
        "sv": "\"Inga kontakter och inga uppgifter\" förutsätter ett beslut om begränsning av "
              "kontakter som gäller uppgifter om barnet till den här personen. Ange det under "
              "Begränsningar av kontakter och skriv personens namn under Vem begränsningen "
              "gäller.",
        "en": "\"No contact and no information\" needs a contact-restriction decision that covers "
              "information and names this person. Record it under Contact restrictions, with the "
              "person's name under Whom the restriction concerns.",
    },
    "decision_ended": {
        "fi": "Päätös ei ole enää voimassa: poista rivi tai kirjaa uusi päätös.",
        "sv": "Beslutet gäller inte längre: ta bort raden eller ange ett nytt beslut.",
        "en": "The decision is no longer in force: remove the row or record the new decision.",
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


def _normalised(text):
    """``text`` compared as a person reads it: case and runs of white space do not matter."""
    return " ".join(str(text or "").casefold().split())


def _mentions(text, name):
    """Whether ``name`` occurs in ``text`` as whole words ("Timo" is in "Isä, Timo
    Esimerkki", "Ari" is not in "Marika")."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def names_person(whom, name):
    """Whether a decision's "whom" (``restriction_whom``) names the person ``name``: either
    contains the other, ignoring case and extra white space."""
    whom, name = _normalised(whom), _normalised(name)
    return bool(whom and name) and (_mentions(whom, name) or _mentions(name, whom))


def in_force(row, today):
    """Whether a decision row is still in force on ``today`` (its last day included). A row
    without an end is left to the field's own "required" check."""
    until = (row or {}).get("restriction_until")
    return not until or until >= today.isoformat()  # ISO dates compare as text


def covers_information(content, name, today=None):
    """Whether a recorded decision in force covers information about the child and names the
    person ``name``."""
    today = today or content_rules.today()
    return any("information" in ((row or {}).get("restriction_scope") or [])
               and in_force(row, today) and names_person((row or {}).get("restriction_whom"), name)
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
        elif not in_force(row, today):
            found[f"{where}.restriction_until"] = [say("decision_ended", language)]
    for index, row in enumerate(content.get("guardians") or []):
        row = row or {}
        if (row.get("guardian_information_right") in RESTRICTED_INFORMATION
                and not covers_information(content, row.get("guardian_name"), today)):
            found[f"guardians.{index}.guardian_information_right"] = [
                say("information_needs_decision", language)]
    for index, row in enumerate(content.get("ward_contact_persons") or []):
        row = row or {}
        if (row.get("contact_permission") == "no_information"
                and not covers_information(content, row.get("contact_person_name"), today)):
            found[f"ward_contact_persons.{index}.contact_permission"] = [
                say("visitor_needs_decision", language)]
    return found
