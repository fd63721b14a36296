"""What a section page's post needs so that nothing typed is lost (issue 14): the check that
comes before the session's, the background save's answer, the kept copy given back, and a file
attached from inside the section's own form (so the typing around it is saved first).

A post to a section page is checked here rather than by the app-wide CSRF check, because an
expired session's post must be able to keep its text before anything refuses it:

- logged in and the CSRF token is right: the ordinary save;
- logged in, the CSRF token is wrong (the user logged in again in another tab, which changed
  it), but the page's keep token names this user, draft and section: also the ordinary save,
  the keep token standing in for the CSRF token (only our own page holds it);
- not logged in (or logged in as someone else) and the keep token is valid: the typing is kept,
  sealed, for the person the token names if their session ended by a timeout (not by logging
  out), and the browser is sent to log in;
- anything else keeps nothing: a forged post has no valid token. (A cross-site post is refused
  even earlier, by `security.hardening`.)
"""

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict

from handover.i18n import gettext as _
from handover.security import sessions
from handover.services import kept_typing
from handover.web import formbuilder
from handover.web.csrf import csrf
from handover.web.ui import language

#: Posted names that are not typing: the tokens, the buttons, the background marker.
NOT_TYPING = frozenset({"csrf_token", "keep_token", "continue", "to_tasks", "attach",
                        "background_save"})


def is_background():
    """A save the page's script made while the user typed (`static/js/keep-typing.js`)."""
    return request.form.get("background_save") == "1"


def typed_fields():
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in NOT_TYPING]


def token_for(handover_id, section_key):
    return kept_typing.token_for(current_user, handover_id, section_key)


def check_post(handover_id, section_key):
    """None when the post may go on as the logged-in user's save; otherwise the answer."""
    owner = kept_typing.token_owner(request.form.get("keep_token"), handover_id, section_key)
    if current_user.is_authenticated:
        try:
            if current_app.config.get("WTF_CSRF_ENABLED", True):   # as the app-wide check
                csrf.protect()
            return None
        except CSRFError:
            if owner is None:
                raise
            if owner.user_id == current_user.id:
                return None
    kept = owner is not None and kept_typing.keep(owner, handover_id, section_key,
                                                  typed_fields())
    if is_background():
        return jsonify(signed_out=True, kept=kept), 401
    if current_user.is_authenticated:   # someone else logged in meanwhile in this browser
        if kept:
            flash(_("What was typed on that page was kept for the person who typed it. They "
                    "get it back when they log in."), "info")
        return redirect(url_for("home.index"))
    if kept:
        flash(_("Your session had ended, so you were logged out. What you typed is kept "
                "safe: log in again and it will be back on the page."), "info")
    else:
        flash(_("Log in to continue."), "info")
    return redirect(url_for("auth.login", next=request.path))


def restored_form(handover, definition, sender_kind, content, section_key):
    """The section's form holding the user's kept copy (which is then deleted), or None."""
    fields = kept_typing.take(current_user, handover, section_key)
    if fields is None:
        return None
    flash(_("Your session had ended before this page was saved. What you typed was kept, is "
            "back in the fields below and has been saved in the draft."), "info")
    return formbuilder.build_form(definition, language(), sender_kind=sender_kind,
                                  formdata=MultiDict(fields), content=content)


def background_saved():
    """The script's answer: saved, and how long the session now lasts."""
    return jsonify(saved=True, expires_in=sessions.seconds_left(current_user))
