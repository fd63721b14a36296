"""The interface language: Finnish by default, Swedish and English complete."""

import functools
from datetime import UTC, datetime

from babel import Locale, dates
from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, get_locale, get_timezone, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

babel = Babel()

LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


#: Where `answer_in_accept_language` keeps, per app, which requests ask by their header.
_ASKS_BY_HEADER = "handover.i18n.asks_by_header"


def select_locale():
    """A logged-in user's saved choice, else the choice made in this browser, else the
    Accept-Language of a request that asks by its header (`answer_in_accept_language`), else
    Finnish.

    The pages deliberately ignore Accept-Language: a shared ward computer set to English must
    not switch a Finnish user's forms.
    """
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands: no browser, no user
        return current_app.config.get("CLI_LANGUAGE") or current_app.config["BABEL_DEFAULT_LOCALE"]
    user_language = getattr(current_user, "language", None) if current_user else None
    for candidate in (user_language, session.get("language"), _language_asked_by_header()):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def answer_in_accept_language(app, asks_by_header):
    """Answer the requests for which ``asks_by_header()`` is true in their Accept-Language
    where no one has chosen a language: a system's requests (the JSON API's) share no screen
    with anyone, and are refused before any client is known to choose for them."""
    app.extensions[_ASKS_BY_HEADER] = asks_by_header


def _language_asked_by_header():
    asks_by_header = current_app.extensions.get(_ASKS_BY_HEADER)
    if asks_by_header is None or not asks_by_header():
        return None
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


#: The locale each language's dates and times are written in: as that language is written in
#: Finland. Finland-Swedish writes 16.6.2025 0.30 where Sweden writes 2025-06-16 00:30, and
#: English in Finland puts the day first (6/7/26 is the 7th of June to an American reader and
#: the 6th of July to a Finnish one); so a page's times agree with its form dates (d.m.yyyy).
FORMAT_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_FI"}


#: The date patterns written in place of a locale's own. English in Finland writes its short
#: date 06/12/2026: a reader who knows American dates takes it for the 12th of June, and it
#: stands beside form dates written 20.12.2026. So it is written d.m.yyyy, as the forms and
#: the Finnish and Swedish pages write it ("6.12.2026, 18.23"). Finnish and Swedish
#: already write d.M.y. With seconds (the audit log's "medium" time) Swedish and English
#: would write the month's name ("7 dec. 2026 16.34.35") beside the same log's 7.12.2026 and
#: the search fields' 14.3.2012: every language writes d.M.y there too.
DATE_PATTERNS = {("en_FI", "short"): "d.M.y", ("en_FI", "medium"): "d.M.y",
                 ("sv_FI", "medium"): "d.M.y"}


def format_locale():
    """The locale of the page's dates and times (`FORMAT_LOCALES`)."""
    language = str(get_locale())
    return FORMAT_LOCALES.get(language, language)


def _date_pattern(locale_name, format):
    """The date pattern of a named format in the locale (`DATE_PATTERNS` first)."""
    pattern = DATE_PATTERNS.get((locale_name, format))
    if pattern is not None:
        return dates.parse_pattern(pattern)
    return dates.get_date_format(format, locale=locale_name)


@functools.lru_cache(maxsize=32)
def _datetime_patterns(locale_name, format):
    """(skeleton, time pattern, date pattern) of a named format, parsed once per locale."""
    locale = Locale.parse(locale_name)
    skeleton = str(dates.get_datetime_format(format, locale=locale)).replace("'", "")
    return (locale, skeleton, dates.get_time_format(format, locale=locale),
            _date_pattern(locale_name, format))


def _local(value):
    """``value`` in the user's time zone (a time without one is UTC, as stored)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(get_timezone())


def format_datetime(value, format="medium"):
    """The ``datetimeformat`` filter: in the user's time zone and the page's `format_locale`,
    the "short" and "medium" formats the pages use without parsing the locale's patterns
    again for each value (a list formats one date per handover)."""
    if value is None:
        return ""
    local = _local(value)
    if format not in ("short", "medium"):
        return dates.format_datetime(local, format, locale=format_locale())
    locale, skeleton, time_pattern, date_pattern = _datetime_patterns(format_locale(), format)
    return (skeleton.replace("{0}", time_pattern.apply(local, locale))
            .replace("{1}", date_pattern.apply(local.date(), locale)))


def format_date(value, format="medium"):
    """The ``dateformat`` filter: the day of a date, or of a time in the user's time zone, in
    the page's `format_locale`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    locale_name = format_locale()
    format = DATE_PATTERNS.get((locale_name, format), format)
    return dates.format_date(value, format, locale=locale_name)


def current_locale():
    """The locale in force: the request's, or one set with Flask-Babel's ``force_locale``."""
    return get_locale()


def _translations():
    """Flask-Babel's translations for the locale in force (the request's, or one set with
    ``force_locale``), remembered on `g` for as long as that locale is."""
    if not has_app_context():
        return get_translations()   # Flask-Babel's pass-through catalogue
    context = g._get_current_object()
    locale = get_locale()
    remembered = getattr(context, "_handover_translations", None)
    if remembered is None or remembered[0] is not locale:
        remembered = context._handover_translations = (locale, get_translations())
    return remembered[1]


def gettext(string, **variables):
    """Flask-Babel's `gettext`, through the remembered catalogue."""
    translated = _translations().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular, plural, num, **variables):
    """Flask-Babel's `ngettext` (``num`` given to the text as ``%(num)s``), through the
    remembered catalogue."""
    return _translations().ungettext(singular, plural, num) % {"num": num, **variables}


def lazy_gettext(string, **variables):
    """Flask-Babel's `lazy_gettext` (the same lazy string), through `gettext` above."""
    return LazyString(gettext, string, **variables)


def _as_markup(eval_context, translated):
    """A translation is trusted markup, as Jinja's own gettext treats it: the texts come from
    our catalogues, and the values put into them are escaped by ``%``."""
    if eval_context.autoescape:
        return Markup(translated)  # noqa: S704  # nosec B704
    return translated


def _template_functions(catalogue):
    """``_()``/``gettext()`` and ``ngettext()`` for templates, as Jinja's "newstyle" gettext
    behaves, translating with ``catalogue``."""

    @pass_eval_context
    def template_gettext(eval_context, string, **variables):
        translated = _as_markup(eval_context, catalogue.ugettext(string))
        return translated % variables if variables or "%" in translated else translated

    @pass_eval_context
    def template_ngettext(eval_context, singular, plural, num, **variables):
        translated = _as_markup(eval_context, catalogue.ungettext(singular, plural, num))
        return translated % {"num": num, **variables}

    return {"_": template_gettext, "gettext": template_gettext, "ngettext": template_ngettext}


class _CatalogueInForce:
    """Stands for the catalogue of the locale in force at each look-up (`_translations`):
    for macros, which see the environment's globals, not the page's context."""

    def ugettext(self, string):
        return _translations().ugettext(string)

    def ungettext(self, singular, plural, num):
        return _translations().ungettext(singular, plural, num)


def init_app(app):
    app.jinja_env.filters["datetimeformat"] = format_datetime
    app.jinja_env.filters["dateformat"] = format_date
    # Installed by Flask-Babel; replaced by the same behaviour without its per-text look-ups.
    app.jinja_env.globals.update(_template_functions(_CatalogueInForce()))

    @app.context_processor
    def language_choices():
        return {"languages": LANGUAGE_NAMES, "current_language": str(current_locale())}

    @app.context_processor
    def translations_of_the_page():
        """The page's own ``_()``, ``gettext()`` and ``ngettext()``, bound once per rendering
        to the catalogue of the locale in force (a page renders inside any ``force_locale``
        its view set): a page translates dozens of texts, and finding the locale in force
        again for each cost more than translating it. Macros, which see only the
        globals, translate through the global ones above."""
        return _template_functions(_translations())


def localised(texts, language):
    """Pick ``language`` from a {fi, sv, en} mapping, falling back to Finnish then English."""
    if not texts:
        return ""
    return texts.get(language) or texts.get("fi") or texts.get("en") or ""


__all__ = ["DATE_PATTERNS", "FORMAT_LOCALES", "LANGUAGE_NAMES", "answer_in_accept_language",
           "current_locale", "format_date", "format_datetime", "format_locale", "gettext",
           "init_app", "lazy_gettext", "localised", "select_locale"]
