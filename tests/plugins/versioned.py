"""Test plugin: two versions of one form, a hook routing rule, cross-field validation, and a
recorder for the event hooks."""

from handover.hookspecs import hookimpl

__version__ = "2.5"

EVENTS = []
DEFINITIONS_SEEN = []


def _texts(word):
    return {"fi": f"{word} fi", "sv": f"{word} sv", "en": word}


def _definition(version, fields, basis):
    return {
        "key": "versioned_form", "version": version, "title": _texts(f"Versioned v{version}"),
        "routing": {"senders": ["school"], "receivers": ["school"]},
        "legal_bases": [{"key": basis, "label": _texts(basis)}],
        "sections": [{"key": "only", "title": _texts("Only"), "fields": fields}],
    }


@hookimpl
def register_forms(app):
    first = [{"key": "pupil", "type": "text", "label": _texts("Pupil")}]
    second = first + [{"key": "grade", "type": "number", "label": _texts("Grade")}]
    return [_definition(1, first, "necessary"), _definition(2, second, "necessary_for_care")]


@hookimpl
def register_routing_rules(app):
    return [{"form": "versioned_form", "senders": ["child_welfare_social_work"],
             "receivers": ["school"], "copies": ["family_care"]}]


@hookimpl
def validate_form(definition, content, language):
    DEFINITIONS_SEEN.append(definition)
    if content.get("pupil") == "nobody":
        return {"pupil": [f"not a pupil ({language})"], "nowhere": ["form-level problem"]}
    return None


@hookimpl
def handover_sent(handover, app):
    EVENTS.append(("sent", handover))


@hookimpl
def handover_opened(handover, unit):
    EVENTS.append(("opened", handover, unit))


@hookimpl
def handover_acknowledged(handover):
    EVENTS.append(("acknowledged", handover))
