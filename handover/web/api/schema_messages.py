"""The API's refusals of a request's shape, in the language the request asks for.

Marshmallow's own per-field messages ("Not a valid integer.", "Unknown field.") are English
only. `InputSchema`, the base of every schema a view reads its input with, gives each field the
texts of its kind as it is bound, and inner fields (a list's items, a mapping's keys and values)
too; the validators below carry their own. A field given a message of its own keeps it.

A field's message is a list of one lazy text: marshmallow passes a list on as it is (a lazy
text alone it would read as a list of letters), and the error handler's ``str()`` translates it
for the request. A validator's lazy text is formatted while the request is being answered, so
it is in the request's language by then. The schema-level texts are plain lazy texts, as
marshmallow wraps those in a list itself.
"""

from apiflask import Schema
from apiflask.fields import (
    AwareDateTime,
    Boolean,
    DateTime,
    Field,
    Integer,
    List,
    Mapping,
    Nested,
    Number,
    String,
    Tuple,
)
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, pre_load
from webargs.multidictproxy import MultiDictProxy

from handover.i18n import lazy_gettext as _l
from handover.web.api import json_text

AN_OBJECT = _l("Give a JSON object.")
#: Said of a query field that takes one value, given more than once.
ONE_VALUE = _l("Give this only once: it takes one value.")
#: Said at a key that another key of the same object becomes without its control characters.
KEYS_COLLIDE = _l("Two keys of this object are this key once their control characters are "
                  "removed: give the value under this key only.")

#: Each field kind's texts by error key; a kind has those of the kinds it is made from, too.
FIELD_MESSAGES = {
    Field: {"required": _l("Give a value: this is required."),
            "null": _l("Give a value, not null."),
            "validator_failed": _l("Give a valid value.")},
    String: {"invalid": _l("Give a string."), "invalid_utf8": _l("Give text in UTF-8.")},
    Number: {"invalid": _l("Give a number."), "too_large": _l("Give a smaller number.")},
    Integer: {"invalid": _l("Give a whole number.")},
    Boolean: {"invalid": _l("Give true or false.")},
    DateTime: {"invalid": _l("Give a time in ISO 8601, for example "
                             "2026-12-01T00:00:00+02:00.")},
    AwareDateTime: {"invalid_awareness": _l("Give the time with its offset from UTC, for "
                                            "example 2026-12-01T00:00:00+02:00.")},
    List: {"invalid": _l("Give a list.")},
    Mapping: {"invalid": AN_OBJECT},
    Nested: {"type": AN_OBJECT},
}


def within(smallest, largest):
    """A whole number from ``smallest`` to ``largest``."""
    return Range(min=smallest, max=largest, error=_l("Give a number from {min} to {max}."))


def length(largest, smallest=None):
    """Text of at most ``largest`` characters (and at least ``smallest``)."""
    if smallest is None:
        return Length(max=largest, error=_l("Give at most {max} characters."))
    return Length(min=smallest, max=largest, error=_l("Give from {min} to {max} characters."))


def one_of(choices):
    """One of ``choices``, which the refusal lists (an empty one as ``""``, not as nothing)."""
    labels = [str(choice) if choice != "" else '""' for choice in choices]
    return OneOf(choices, labels, error=_l("Choose one of: {labels}."))


def translate(field):
    """Give ``field`` (and the fields inside it) its kind's texts for every message it still
    has as marshmallow's default."""
    defaults, texts = {}, {}
    for kind in reversed(type(field).__mro__):
        defaults.update(getattr(kind, "default_error_messages", {}))
        texts.update(FIELD_MESSAGES.get(kind, {}))
    for key, text in texts.items():
        if field.error_messages.get(key) == defaults.get(key):
            field.error_messages[key] = [text]
    for inner in _fields_inside(field):
        translate(inner)


def _fields_inside(field):
    if isinstance(field, List):
        return [field.inner]
    if isinstance(field, Tuple):
        return list(field.tuple_fields)
    if isinstance(field, Mapping):
        return [inner for inner in (field.key_field, field.value_field) if inner is not None]
    return []


class InputSchema(Schema):
    """The base of every schema a request's body, query or headers are read with."""

    error_messages = {"type": AN_OBJECT, "unknown": _l("Leave out this unknown field.")}

    def on_bind_field(self, field_name, field_obj):
        translate(field_obj)

    @pre_load
    def _one_value_each(self, data, **kwargs):
        """A query (or header) field that takes one value, given more than once
        (``?status=sent&status=opened``), is refused at its path: taking the first would answer
        another question than the client asked."""
        if not isinstance(data, MultiDictProxy) or not hasattr(data.data, "getlist"):
            return data
        single = {field.data_key or name
                  for name, field in self.fields.items()} - data.multiple_keys
        repeated = sorted(key for key in single if len(data.data.getlist(key)) > 1)
        if repeated:
            raise ValidationError({key: [ONE_VALUE] for key in repeated})
        return data

    @pre_load
    def _text_a_person_could_type(self, data, **kwargs):
        """A JSON body's text as the web forms' text (`json_text`): control characters removed
        and text that is not Unicode refused at its path, before any field (or service) reads
        it; so are two keys of one object that become the same key without them. The query and
        the headers are Werkzeug's, cleaned by `hardening` already."""
        if not isinstance(data, dict):
            return data
        data, not_unicode, collided = json_text.cleaned(data)
        if not_unicode:
            raise ValidationError(json_text.error_tree(
                not_unicode, FIELD_MESSAGES[String]["invalid_utf8"]))
        if collided:
            raise ValidationError(json_text.error_tree(collided, KEYS_COLLIDE))
        return data
