"""The interface language: Finnish by default, Swedish and English complete."""

from flask import current_app, has_request_context, session
from flask_babel import lazy_gettext
from flask_login import current_user

LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


def select_locale():
    """A logged-in user's saved choice, else the choice made in this browser, else Finnish.

    The browser's Accept-Language is deliberately not used: a shared ward computer set to
    English must not switch a Finnish user's forms.
    """
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands: no browser, no user
        return current_app.config.get("CLI_LANGUAGE") or current_app.config["BABEL_DEFAULT_LOCALE"]
    user_language = getattr(current_user, "language", None) if current_user else None
    for candidate in (user_language, session.get("language")):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    @app.context_processor
    def language_choices():
        from flask_babel import get_locale

        return {"languages": LANGUAGE_NAMES, "current_language": str(get_locale())}


def localised(texts, language):
    """Pick ``language`` from a {fi, sv, en} mapping, falling back to Finnish then English."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("fi") or texts.get("en") or ""


__all__ = ["LANGUAGE_NAMES", "init_app", "lazy_gettext", "localised", "select_locale"]
