"""Small helpers shared by the handover pages: the reader's language, status labels, and the
form builder's forms for filling a handover and a reply form."""

from flask import request

from handover.i18n import current_locale
from handover.i18n import lazy_gettext as _l
from handover.web import formbuilder

STATUS_LABELS = {
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    "opened": _l("Opened"),
    "acknowledged": _l("Received"),
    "withdrawn": _l("Withdrawn"),
}


def language():
    return str(current_locale() or "fi")


def status_label(status):
    return STATUS_LABELS.get(status, status)


def build_fill_form(definition, sender_kind, saved_content):
    """The fill page's form: typed values on POST, the saved draft otherwise."""
    formdata = request.form if request.method == "POST" else None
    return formbuilder.build_form(definition, language(), sender_kind=sender_kind,
                                  formdata=formdata, content=saved_content)


def build_reply_form(definition):
    formdata = request.form if request.method == "POST" else None
    return formbuilder.build_form(definition, language(), formdata=formdata)
