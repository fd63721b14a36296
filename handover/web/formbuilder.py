"""WTForms classes built from a form definition, so that no plugin writes form code.

Repeating groups are a ``FieldList`` of ``FormField`` rows; a submit button named ``add_row``
whose value is the group key adds an empty row, and one named ``remove_row`` whose value is
``<group key>-<row index>`` takes that row out (a row with a radio chosen could otherwise
never be emptied), and the page re-renders with everything else typed kept, so it works
without JavaScript. Conditional fields (``show_if``) are all rendered; a field
whose condition is false is not required and its value is left out of ``content()``. Each
field, its validators and its stored value come from `handover.web.definition_fields`.
"""

from types import SimpleNamespace

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from wtforms.fields import FieldList

from handover.formdefs import content as rules
from handover.formdefs import display
from handover.services import LifecycleError, drafts
from handover.services.drafts import FORM_CHECKS_UNAVAILABLE
from handover.web.definition_fields import (
    group_required,
    row_content,
    stored_value,
    unbound_field,
)
from handover.web.form_base import HandoverForm


class DefinitionForm(HandoverForm):
    """Base of every built form; ``build_form`` makes a subclass per definition."""

    definition = None
    language = "fi"
    sender_kind = None
    #: The group key whose "add a row" or "remove" button was pressed: the page re-renders
    #: with the rows changed instead of validating.
    add_row_requested = None
    remove_row_requested = None
    #: The number (from 1) of the row taken out, said on the page after it.
    removed_row = None
    #: Messages of ``validate_form`` hooks for paths that name no field.
    extra_errors = ()

    @property
    def group_rows_changed(self):
        """Did the post only add or remove a row of a repeating group?"""
        return bool(self.add_row_requested or self.remove_row_requested)

    def definition_fields(self):
        return [f for f in self.definition.fields() if f.key in self]

    def section_fields(self, section):
        """(definition field, form field) pairs of ``section`` that this sender fills."""
        return [(f, self[f.key]) for f in section.fields if f.key in self]

    def content(self):
        """The JSON-able dict to store: {field_key: value, group_key: [{sub: value}, ...]}. A
        date or number that could not be read is kept as typed (`content.unreadable`): a draft
        loses nothing, and the rules refuse it wherever the content is checked."""
        values = {}
        for f in self.definition_fields():
            if f.type == "group":
                rows = [row_content(f.fields, entry.form) for entry in self[f.key].entries]
                values[f.key] = [row for row in rows if row is not None]
            else:
                values[f.key] = stored_value(f, self[f.key])
        return rules.without_unmet_conditions(self.definition_fields(), values)

    def validate(self, extra_validators=None):
        self.extra_errors = []
        valid = super().validate(extra_validators)
        # The cross-field checks run even when a field has an error, so that a page shows
        # every problem at once rather than one more after each correction.
        birth_date_agrees = self._birth_date_agrees()
        return self._plugin_validation() and birth_date_agrees and valid

    def validate_fields(self):
        """Each field's own rules and the birth date against the identity code, without the
        plugins' cross-field checks: what a section page must not save silently wrong, while an
        answer that depends on another section (a guardian's right to information on a decision
        recorded later) waits for the check-answers page."""
        self.extra_errors = []
        valid = super().validate()
        return self._birth_date_agrees() and valid

    def _birth_date_agrees(self):
        """Every form with both fields gets this check from the core, not from each plugin."""
        found = rules.birth_date_problem(self.definition, self.content(),
                                         self.definition_fields())
        for path, messages in rules.rendered(found, self.language).items():
            self._field_at(path).extend(messages)
        return not found

    def _plugin_validation(self):
        """The plugins' cross-field rules, asked as the send asks them (`drafts.plugin_problems`):
        a page shows what the send would refuse, no more and no less."""
        try:
            found = drafts.plugin_problems(self.definition, self.content(), self.sender_kind,
                                           self.language)
        except LifecycleError:
            self.extra_errors.append(str(FORM_CHECKS_UNAVAILABLE))
            return False
        for path, messages in found.items():
            shown = self._field_at(path)
            if not shown or shown is self.extra_errors:   # a field's own message comes first,
                shown.extend(messages)                      # as the send lists it
        return not found

    def add_errors(self, errors):
        """Show a service's refusal (``{path: [message, ...]}``) beside its fields."""
        for path, messages in errors.items():
            self._field_at(path).extend(str(message) for message in messages)

    def _field_at(self, path):
        """The error list of ``key`` or ``group.row.sub``; unknown paths go to the form."""
        parts = str(path).split(".")
        try:
            field = self[parts[0]]
            if len(parts) == 3:
                field = field.entries[int(parts[1])].form[parts[2]]
            elif len(parts) != 1:
                raise KeyError(path)
        except (KeyError, IndexError, ValueError):
            return self.extra_errors
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        return field.errors

    def leaf_fields(self):
        """Every field with its own errors, rows of groups included, for the error summary,
        each under a name that says which field it is (`display.field_name`)."""
        leaves = []
        section_of = {f.key: section for section in self.definition.sections
                      for f in section.fields}
        for f in self.definition_fields():
            field = self[f.key]
            if f.type != "group":
                name = (display.field_name(f, section_of.get(f.key), self.language)
                        if field.errors else field.label.text)
                leaves.append(field if name == field.label.text else SimpleNamespace(
                    id=field.id, errors=field.errors, label=SimpleNamespace(text=name)))
                continue
            leaves.append(SimpleNamespace(id=field.id, label=SimpleNamespace(
                text=f.label_in(self.language)), errors=group_messages(field)))
            for number, entry in enumerate(field.entries, start=1):
                for sub in entry.form:
                    text = f"{f.label_in(self.language)} {number}: {sub.label.text}"
                    leaves.append(SimpleNamespace(id=sub.id, errors=sub.errors,
                                                  label=SimpleNamespace(text=text)))
        return leaves


def form_class_for(definition, language, sender_kind=None):
    """The WTForms class of ``definition`` in ``language`` for a ``sender_kind``, built once
    per app: definitions are immutable and few, and building a class translates every label.

    The classes live with the app (``app.extensions["handover_form_classes"]``), so a new app
    (a test's, or a worker's after a plugin change) builds its own. A definition's key and
    version name it; the entry keeps the definition itself, so that one loaded again under the
    same name gets a class of its own."""
    form_classes = current_app.extensions.setdefault("handover_form_classes", {})
    key = (definition.plugin_name, definition.key, definition.version, language, sender_kind)
    cached = form_classes.get(key)
    if cached is None or cached[0] is not definition:
        cached = form_classes[key] = (definition, _build_form_class(definition, language,
                                                                    sender_kind))
    return cached[1]


def _build_form_class(definition, language, sender_kind):
    fields = [f for f in definition.fields() if f.shown_for(sender_kind)]
    with force_locale(language):
        attributes = {f.key: unbound_field(f, language, fields) for f in fields}
    attributes.update(definition=definition, language=language, sender_kind=sender_kind)
    return type(f"{definition.key}_v{definition.version}_form", (DefinitionForm,), attributes)


def build_form(definition, language, sender_kind=None, formdata=None, content=None):
    """A form for ``definition`` in ``language`` with the fields a ``sender_kind`` fills.

    ``formdata`` defaults to the request's form on POST (Flask-WTF); ``content`` is stored
    content to start from (a draft): what the post leaves out (another section's fields) keeps
    its stored value. When the user pressed an "add row" button,
    ``form.add_row_requested`` is the group key: re-render instead of validating.
    """
    form_class = form_class_for(definition, language, sender_kind)
    data = _form_data(definition, content) if content else None
    form = form_class(data=data) if formdata is None else form_class(formdata=formdata, data=data)
    if formdata is None and has_request_context() and form.is_submitted():
        formdata = request.form
    if formdata is not None and data:
        _keep_groups_not_posted(form, formdata, data)
    if formdata is None:
        return form
    requested = formdata.get("add_row")
    if requested in form and isinstance(form[requested], FieldList):
        group = form[requested]
        most = definition.field(requested).max_rows   # 0: no maximum, as in the rules
        if not most or len(group.entries) < most:
            group.append_entry()
        form.add_row_requested = requested
    key, _dash, index = (formdata.get("remove_row") or "").rpartition("-")
    # Only a group on the posted page (its inputs are in the post): one on another section's
    # page is not the one the person sees.
    if key in form and isinstance(form[key], FieldList) and any(
            name.startswith(f"{key}-") for name in formdata):
        rows = form[key].entries
        if index.isascii() and index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
            form.removed_row = int(index) + 1
        form.remove_row_requested = key
    return form


def group_messages(group):
    """A repeating group's own messages (too few or too many rows, a plugin's or a rule's
    message about the group as a whole), as text: the group's error list also holds one dict
    of errors per row, which are shown beside the rows' inputs instead."""
    return [str(message) for message in group.errors if not isinstance(message, dict | list)]


def _keep_groups_not_posted(form, formdata, data):
    """A repeating group whose inputs the post does not hold (it is on another section's
    page) keeps its stored rows: WTForms would rebuild it from the post, with no rows."""
    for field in form:
        name = field.short_name
        if isinstance(field, FieldList) and name in data and not any(
                key.startswith(f"{name}-") for key in formdata):
            field.process(None, data[name])


def _form_data(definition, content):
    """Stored content as the fields take it: each date and number field reads its stored
    value itself (ISO text, a number, or what was kept as typed)."""
    data = {}
    for f in definition.fields():
        if f.key not in content:
            continue
        if f.type == "group":
            data[f.key] = [{sub.key: row.get(sub.key) for sub in f.fields}
                           for row in content[f.key] or [] if isinstance(row, dict)]
        else:
            data[f.key] = content[f.key]
    return data


def init_app(app):
    app.jinja_env.globals.update(
        formdef_display_value=display.display_value,
        formdef_sections=display.sections_to_show,
        formdef_emphasis=lambda definition: definition.emphasis(),
        formdef_group_messages=group_messages,
        formdef_group_required=group_required,
    )
