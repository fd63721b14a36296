"""What the browser tests share: the interface texts in each language (read from the same compiled
catalogues the server uses, so a rewording in a translation pass does not break a test), logging
in through the real pages, and filling a form definition's fields by their visible labels.

Every locator here is an accessible one (label, role and name): a field a test cannot find by its
label is a field a screen-reader user cannot find either.
"""

import gettext
import re
import time
from pathlib import Path

import pyotp
from playwright.sync_api import expect

import handover

TRANSLATIONS = Path(handover.__file__).resolve().parent / "translations"


def text(msgid, language="fi", **values):
    """``msgid`` as the server shows it in ``language`` (English when the catalogue lacks it)."""
    if language == "en":
        message = msgid
    else:
        catalogue = gettext.translation("messages", localedir=TRANSLATIONS,
                                        languages=[language], fallback=True)
        message = catalogue.gettext(msgid)
    return message % values if values else message


def fi(msgid, **values):
    return text(msgid, "fi", **values)


def fi_plural(singular, plural, num):
    """The plural text ``singular``/``plural`` for ``num`` as the server shows it in Finnish."""
    catalogue = gettext.translation("messages", localedir=TRANSLATIONS, languages=["fi"],
                                    fallback=True)
    return catalogue.ngettext(singular, plural, num) % {"num": num}


def exactly(words):
    """A pattern matching ``words`` as the whole accessible name (ignoring outer spaces)."""
    return re.compile(rf"^\s*{re.escape(words)}\s*$")


def labelled(label, language="fi"):
    """The accessible name of a field or group labelled ``label``: a required field's legend
    ends with "(required)" in the page's language."""
    required = re.escape(text("required", language))
    return re.compile(rf"^\s*{re.escape(label)}(\s*\({required}\))?\s*$")


def log_in(page, server, email, password, code, check=None):
    """Password step, then the code step; ``code`` is a string or a callable giving one
    (called only when the code page is there, so a fresh code is used)."""
    page.goto(server.url + "/login")
    if check:
        check(page)
    page.get_by_label(fi("E-mail address")).fill(email)
    page.get_by_label(fi("Password"), exact=True).fill(password)
    page.get_by_role("button", name=fi("Continue")).click()
    expect(page.get_by_role("heading", level=1, name=fi("Login code"))).to_be_visible()
    if check:
        check(page)
    page.get_by_label(fi("Code"), exact=True).fill(code() if callable(code) else code)
    page.get_by_role("button", name=fi("Log in"), exact=True).click()


def log_in_user(page, server, user_id, password, check=None):
    """Log in a user enrolled in set-up; the code comes from their stored secret and never
    repeats one the server has seen (codes are single use)."""
    from support import totp_code

    from handover.store.database import db
    from handover.store.models import User

    def code():
        with server.app.app_context():
            return totp_code(db.session.get(User, user_id))

    user_email = _email_of(server, user_id)
    log_in(page, server, user_email, password, code, check)
    expect(page.get_by_role("button", name=fi("Log out"))).to_be_visible()


def _email_of(server, user_id):
    from handover.store.database import db
    from handover.store.models import User

    with server.app.app_context():
        return db.session.get(User, user_id).email


def current_code(secret):
    return pyotp.TOTP(secret).now()


#: The last login code used per demo user in this test process (a code is single use).
_USED_DEMO_CODES = {}


def _fresh_demo_code(email):
    """The demo user's current code, once the one used last has expired."""
    from handover.cli.demo import USERS

    totp = pyotp.TOTP({user[0]: user[5] for user in USERS}[email])
    while totp.now() == _USED_DEMO_CODES.get(email):
        time.sleep(1)
    _USED_DEMO_CODES[email] = totp.now()
    return _USED_DEMO_CODES[email]


def log_in_demo_user(page, server, email):
    """Log in one of `handover demo`'s users (their TOTP secrets are fixed) through the real
    pages, with a code this process has not used yet."""
    from handover.cli.demo import DEMO_PASSWORD

    log_in(page, server, email, DEMO_PASSWORD, lambda: _fresh_demo_code(email))
    expect(page.get_by_role("button", name=fi("Log out"))).to_be_visible()


def switch_language_to(page, code):
    """The header's language switch by language code (fi, sv, en), whatever language the page
    is in; returns once the page in that language has loaded, so that nothing (axe above all)
    reads a page still navigating."""
    on_a_fill_page = page.locator(f'button[name="switch_language"][value="{code}"]')
    if on_a_fill_page.count():   # a fill page's languages save the typing first: buttons
        on_a_fill_page.click()
    else:
        page.locator("#language-select").select_option(code)
        page.locator("form.language-form").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", code)
    page.wait_for_load_state()


def switch_language(page, language_name):
    """The language switch in every page's header."""
    page.get_by_role("combobox", name=fi("Language")).select_option(label=language_name)
    page.get_by_role("button", name=fi("Change language"), exact=True).click()


def log_out(page, language="fi"):
    page.get_by_role("button", name=text("Log out", language)).click()


# --- filling a form definition ------------------------------------------------------------------


def yes_no(value, language="fi"):
    return text("Yes" if value == "yes" else "No", language)


def fill_field(scope, definition_field, value, language="fi"):
    """Type or choose ``value`` (content as stored: ISO dates, choice values) in the field that
    ``definition_field`` describes, found inside ``scope`` by its label or legend."""
    f = definition_field
    label = f.label_in(language)
    if f.type in ("yesno", "choice"):
        group = scope.get_by_role("group", name=labelled(label, language))
        option = yes_no(value, language) if f.type == "yesno" else f.choice_label(value, language)
        group.get_by_role("radio", name=option, exact=True).check()
    elif f.type == "multichoice":
        group = scope.get_by_role("group", name=labelled(label, language))
        for item in value:
            group.get_by_role("checkbox", name=f.choice_label(item, language),
                              exact=True).check()
    elif f.type == "group":
        for index, row in enumerate(value, start=1):
            row_group = scope.get_by_role("group", name=f"{label} {index}", exact=True)
            for sub in f.fields:
                if sub.key in row:
                    fill_field(row_group, sub, row[sub.key], language)
    else:
        scope.get_by_label(labelled(label, language)).fill(str(value))


def fill_definition(page, definition, content, language="fi"):
    """Fill ``content`` section by section (labels repeat across sections, e.g. "Date")."""
    for section in definition.sections:
        fields = [f for f in section.fields if f.key in content]
        if not fields:
            continue
        scope = page.get_by_role("group", name=section.title_in(language), exact=True)
        for f in fields:
            fill_field(scope, f, content[f.key], language)


def sample_value(definition_field, marker):
    """A plausible value of the field's type; text carries ``marker`` so that the reader's page
    can be checked for the text exactly as typed."""
    f = definition_field
    if f.type in ("text", "textarea"):
        return f"{marker} {f.key.replace('_', ' ')}"
    if f.type == "date":
        return "2025-05-06"
    if f.type == "yesno":
        return "no"
    if f.type == "choice":
        return f.choices[0].value
    if f.type == "multichoice":
        return [f.choices[0].value]
    if f.type == "hetu":
        return "010594Y9032"
    if f.type == "phone":
        return "+358 40 123 4567"
    if f.type == "email":
        return "contact@example.test"
    if f.type == "number":
        return "3"
    if f.type == "group":
        return [{sub.key: sample_value(sub, marker) for sub in f.fields
                 if sub.required and not sub.show_if}]
    raise ValueError(f.type)


def required_content(definition, sender_kind, marker, overrides=None):
    """Every field the sender must fill (unconditional and required), with sample values."""
    content = {}
    for f in definition.fields():
        if not f.shown_for(sender_kind) or f.show_if:
            continue
        if f.required or f.min_rows:
            content[f.key] = sample_value(f, marker)
    content.update(overrides or {})
    return content


def at_phone_width_too(check_accessibility, phone_width=390):
    """``check_accessibility`` run at a phone's width and then at the page's own width: tables
    that scroll sideways on a phone must be reachable by keyboard, and only show it there."""

    def check(page):
        size = page.viewport_size
        page.set_viewport_size({"width": phone_width, "height": size["height"]})
        try:
            check_accessibility(page)
        finally:
            page.set_viewport_size(size)
        check_accessibility(page)

    return check
