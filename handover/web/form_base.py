"""The base of every form Handover builds: Flask-WTF's (CSRF) with WTForms' messages translated
from a catalogue read once per language (`handover.i18n.WTFormsTranslations`)."""

from flask_wtf import FlaskForm

from handover.i18n import wtforms_translations


class HandoverForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations
