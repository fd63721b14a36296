"""Which errors a section page shows: only its own inputs', and an empty required answer
only when the user came to fix it.

A section page saves whatever was typed and goes on, so that a half-filled section can be left
and resumed ("in progress" on the task list). What cannot be kept as typed (31.2.2026, an
identity code with a wrong check character) comes back at once with its error, or it would be
lost unseen. Coming from a problem on the check-answers page (``?check``), the page shows
every error of the section, missing answers included, in the same words.
"""

from handover.formdefs.required import is_required_message


def section_errors(form, section, with_required=False):
    """Validates ``form`` and keeps only the errors of ``section``'s inputs; whether any are
    left. Without ``with_required`` (a save), neither an empty required answer nor a plugin's
    check across sections stops the user; with it (coming from check answers), every message
    of the section shows, as there."""
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
            kept = [message for message in each.errors
                    if definition_field.key in own and not isinstance(message, dict | list)
                    and (with_required or not is_required_message(message))]
            each.errors = kept
            found = found or bool(kept)
    return found
