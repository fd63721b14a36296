"""The forms of the handover pages: the handover's own form and a reply form, built by the
form builder from their definitions, and the small fixed ones: choosing a form, routing,
sending, acknowledging, replying, attaching, finding."""

import secrets

from flask import request
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from handover.i18n import lazy_gettext as _l
from handover.services import withdrawal
from handover.services.reading import NOTE_MAX_LENGTH
from handover.services.replies import MESSAGE_MAX_LENGTH
from handover.web import formbuilder
from handover.web.definition_fields import MultiCheckboxField
from handover.web.form_base import HandoverForm
from handover.web.ui import language


def build_fill_form(definition, sender_kind, saved_content):
    """The fill page's form: typed values on POST, the saved draft otherwise."""
    formdata = request.form if request.method == "POST" else None
    return formbuilder.build_form(definition, language(), sender_kind=sender_kind,
                                  formdata=formdata, content=saved_content)


def build_reply_form(definition, prefilled=None):
    """A reply form: typed values on POST, else what the server fills in (``prefilled``)."""
    formdata = request.form if request.method == "POST" else None
    return formbuilder.build_form(definition, language(), formdata=formdata, content=prefilled)


def choices(pairs):
    """WTForms 3.3 wants SelectChoice objects rather than (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


def unit_choices(units, grouped=True):
    """Units to choose from, by organisation and name. Among units of several organisations (a
    wellbeing services county's wards beside a city's schools, a hundred or more in all), a
    list is grouped by organisation (``grouped``: a select's option groups) or, where it
    cannot be (checkboxes), each unit says its organisation."""
    def organisation(unit):
        return " ".join((unit.organisation or "").split())

    # Grouped by the organisation as sorted: "HUS" and "Hus" are one group, under the name
    # its first unit gives it, or WTForms would open a group at each change of spelling.
    ordered = sorted(units, key=lambda unit: (not organisation(unit),   # those with none last
                                              organisation(unit).casefold(),
                                              unit.name.casefold()))
    names = {}
    for unit in ordered:
        names.setdefault(organisation(unit).casefold(), organisation(unit))
    several = len(names) > 1

    def group_of(unit):
        return names[organisation(unit).casefold()]

    return [SelectChoice(
        str(unit.id),
        unit.name if grouped or not several or not group_of(unit)
        else f"{unit.name} – {group_of(unit)}",
        optgroup=(group_of(unit) or None) if grouped and several else None)
        for unit in ordered]


class ChooseFormForm(HandoverForm):
    #: "<unit id>:<form key>" — a sender in several units picks the unit and the form at once.
    choice = RadioField(_l("Form"), validators=[InputRequired()], choices=[])


class RoutingForm(HandoverForm):
    receiver = SelectField(_l("Receiving unit"), validators=[InputRequired()], choices=[])
    copies = MultiCheckboxField(_l("Units that get a copy"), choices=[])
    legal_basis = RadioField(_l("Legal basis of the disclosure"),
                             validators=[InputRequired()], choices=[])


#: Tokens are stored in a column of this width (handovers and replies).
SUBMISSION_TOKEN_MAX_LENGTH = 64


def fresh_submission_token():
    """A one-time token for a page whose post must take effect once however often it arrives:
    the service finds what the first post made by it."""
    return secrets.token_urlsafe(24)


def posted_submission_token():
    """The token a post carries, when it could have been one of ours (else a fresh one, which
    finds nothing)."""
    token = request.form.get("submission_token", "")
    return token if 0 < len(token) <= SUBMISSION_TOKEN_MAX_LENGTH else fresh_submission_token()


class SendForm(HandoverForm):
    #: A fresh token per preview page: a send posted twice finds the first handover.
    submission_token = HiddenField(validators=[DataRequired()])


def one_character_line_breaks(text):
    """A browser counts a line break as one character against a textarea's ``maxlength`` but
    sends it as CR LF: stored as LF, a text the textarea allowed is as long as it was there."""
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


class WithdrawForm(HandoverForm):
    """Why the sender takes the handover back: its receivers are told (`withdrawal`)."""

    reason = RadioField(
        _l("Why is the handover withdrawn?"),
        choices=choices(withdrawal.WITHDRAWAL_REASONS.items()),
        validators=[InputRequired(message=_l("Choose why the handover is withdrawn."))],
        description=_l("The receiving unit and the copy units are told this."))


class AcknowledgeForm(HandoverForm):
    #: Labelled apart from the reply's "Message" on the same page.
    note = TextAreaField(_l("Note on receipt (optional)"),
                         filters=[one_character_line_breaks],
                         validators=[Length(max=NOTE_MAX_LENGTH,
                                            message=_l("Write a note of at most %(max)s "
                                                       "characters.", max=NOTE_MAX_LENGTH))],
                         description=_l("A short note to the sender, e.g. who will look after "
                                        "the child."))


class MessageForm(HandoverForm):
    message = TextAreaField(
        _l("Message"), filters=[one_character_line_breaks],
        validators=[DataRequired(message=_l("Write a message.")),
                    Length(max=MESSAGE_MAX_LENGTH,
                           message=_l("Write a message of at most 5000 characters."))])
    #: The page's one-time token: a reply posted twice (a double click, a retry) is made once.
    submission_token = HiddenField(default=fresh_submission_token,
                                   validators=[Length(max=SUBMISSION_TOKEN_MAX_LENGTH)])


class AttachmentForm(HandoverForm):
    file = FileField(_l("File (PDF, JPEG or PNG)"), validators=[FileRequired()])


class IdentityCodeForm(HandoverForm):
    """The code travels only in a POST body, never in a URL or a log line."""

    identity_code = StringField(_l("Personal identity code"),
                                validators=[DataRequired(), Length(max=20)])


class EmptyForm(HandoverForm):
    """Only the CSRF token: for buttons that change state (withdraw, correct, print)."""
