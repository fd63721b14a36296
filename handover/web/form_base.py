"""The base of every form Handover builds: Flask-WTF's (CSRF) with WTForms' own messages
("Not a valid date value.") in the request's language.

Flask-WTF's translations read WTForms' catalogue file from disk again on every request that
builds a form; `WTFormsTranslations` reads each language's catalogue once per process.
"""

import functools

from babel import support
from flask_wtf import FlaskForm
from wtforms import Form
from wtforms.i18n import messages_path

from handover.i18n import current_locale
from handover.web.widgets import WidgetsMeta


@functools.cache
def _wtforms_catalogue(language):
    return support.Translations.load(messages_path(), [language], domain="wtforms")


class WTFormsTranslations:
    """WTForms' ``translations`` interface, answered in the current request's language."""

    def gettext(self, string):
        return _wtforms_catalogue(str(current_locale())).ugettext(string)

    def ngettext(self, singular, plural, n):
        return _wtforms_catalogue(str(current_locale())).ungettext(singular, plural, n)


wtforms_translations = WTFormsTranslations()


class HandoverForm(FlaskForm):
    class Meta(WidgetsMeta, FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations


class RowForm(Form):
    """The base of one row of a repeating group (a `FormField` in a `FieldList`): no token of
    its own (the page's form has it), the same widgets."""

    class Meta(WidgetsMeta):
        pass
