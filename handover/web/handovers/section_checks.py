"""Which errors a section page shows: only its own inputs', and an empty required answer
only when the user came to fix it; and how the check-answers page lists every problem, each
linked to the page where it is corrected.

A section page saves whatever was typed and goes on, so that a half-filled section can be left
and resumed ("in progress" on the task list). What is wrong as typed (31.2.2026, an identity
code with a wrong check character) is saved as typed and comes back at once with its error, so
that it is not left unseen. So is a repeating group's row used but not finished (a decision
recorded without what it covers): the row was started here, and a row half given is wrong as it
stands, not merely still to fill. Coming from a problem on the check-answers page (``?check``),
the page shows every error of the section, missing answers included, in the same words.
"""

from flask import url_for
from flask_login import current_user

from handover.formdefs import display
from handover.formdefs.required import is_required_message
from handover.services import drafts
from handover.web.definition_fields import TooFewRows
from handover.web.ui import language


def section_errors(form, section, with_required=False):
    """Validates ``form`` and keeps only the errors of ``section``'s inputs; whether any are
    left. Without ``with_required`` (a save), neither an empty required answer (a group's
    missing rows too) nor a plugin's check across sections stops the user, except an answer
    missing from a row that is used; with it (coming from check answers), every message of
    the section shows, as there."""
    if with_required:
        form.validate()
    else:
        form.validate_fields()
    form.extra_errors = []
    own = {f.key for f in section.fields}
    found = False
    for definition_field in form.definition_fields():
        field = form[definition_field.key]
        fields = [field]
        if definition_field.type == "group":
            fields += [sub for entry in field.entries for sub in entry.form]
        for each in fields:
            in_row = each is not field   # a row's input: the rules ask it only of a used row
            kept = [message for message in each.errors
                    if definition_field.key in own and not isinstance(message, dict | list)
                    and (with_required or in_row or not _missing(message))]
            each.errors = kept
            found = found or bool(kept)
    return found


def _missing(message):
    """An answer not given yet: an empty required field, or a group with too few rows."""
    return is_required_message(message) or isinstance(message, TooFewRows)


def check_answers_problems(handover, definition, problems, units):
    """(link, label, message) triples for the check-answers page's error summary: what the
    send would refuse in the routing first (linked to its choice on the routing page), then
    each content problem of ``problems`` (`drafts.validate_content`). ``units`` holds the
    handover's units by id."""
    problem = drafts.routing_problem(current_user, handover, units)
    routed = [] if problem is None else [(url_for(
        ".change_routing", handover_id=handover.id, check=1, _anchor=problem.choice), None,
        problem.message)]
    return routed + _labelled(handover, definition, problems)


def _labelled(handover, definition, problems):
    """A path names its field by the first key ("group.0.sub" by the group; a label that only
    names its type, with its section: `display.field_name`), and the link opens the field's
    section page with the same messages beside the inputs. A path that names no field shows
    its message alone."""
    section_of = {f.key: section for section in definition.sections for f in section.fields}
    shown = []
    for path, messages in problems.items():
        key = path.split(".", 1)[0]
        try:
            field = definition.field(key)
        except KeyError:
            label = None
        else:
            label = display.field_name(field, section_of.get(key), language())
        link = None
        if key in section_of:
            link = url_for(".section", handover_id=handover.id, section_key=section_of[key].key,
                           check=1, _anchor=path.replace(".", "-"))
        shown += [(link, label, str(message)) for message in messages]
    return shown
