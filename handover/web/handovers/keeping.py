"""What a page where staff type needs so that nothing typed is lost (issue 14): the check that
comes before the session's, the background save's answer, the kept copy given back, and a file
attached from inside the section's own form (so the typing around it is saved first).

The pages: a draft's section pages and its whole form, a reply form, and the reply and the note
on receipt on a handover's page; `services.kept_typing` names their places. A post to them is
checked here (`check_post`, or `guard` for a view that also shows a page) rather than by the
app-wide CSRF check, because an expired session's post must be able to keep its text before
anything refuses it:

- logged in and the CSRF token is right: the ordinary post;
- logged in, the CSRF token is wrong (the user logged in again in another tab, which changed
  it), but the page's keep token names this user, handover and place: also the ordinary post,
  the keep token standing in for the CSRF token (only our own page holds it; the page's forms
  are built from `posted`, which says so to their own CSRF check);
- not logged in (or logged in as someone else) and the keep token is valid: the typing is kept,
  sealed, for the person the token names if their session ended by a timeout (not by logging
  out) and they still may do what the place is for, and the browser is sent to log in;
- anything else keeps nothing: a forged post has no valid token. (A cross-site post is refused
  even earlier, by `security.hardening`.)

Nothing kept is ever sent or acknowledged: after logging in the user finds it back in the
page's fields (`given_back`), with a notice, and presses the button themselves.
"""

from flask import current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.datastructures import MultiDict

from handover.formdefs import display
from handover.i18n import gettext as _
from handover.security import sessions
from handover.services import draft_merging, drafts, kept_typing
from handover.web import formbuilder
from handover.web.csrf import csrf
from handover.web.ui import language

#: Posted names that are not typing: the tokens, the buttons, the background marker.
NOT_TYPING = frozenset({"csrf_token", "keep_token", "submission_token", "continue", "to_tasks",
                        "attach", "save", "preview", "background_save",
                        "remove_attachment"})


def is_background():
    """A save the page's script made while the user typed (`static/js/keep-typing.js`)."""
    return request.form.get("background_save") == "1"


def typed_fields():
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in NOT_TYPING]


def token_for(handover_id, section_key):
    return kept_typing.token_for(current_user, handover_id, section_key)


def check_post(handover_id, section_key, back_to=None):
    """None when the post may go on as the logged-in user's; otherwise the answer. ``back_to``
    is the page to return to after logging in, when the post's own address is no page."""
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
                g.keep_token_vouched = True
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
        if _chose_a_file():
            flash(_("The file you chose was not attached and not kept: after logging in, "
                    "choose it again and press “Attach”."), "error")
    else:
        flash(_("Log in to continue."), "info")
    return redirect(url_for("auth.login", next=back_to or request.path))


def _chose_a_file():
    """Whether the expired post carried a file: only typing is kept, never a file's bytes."""
    return any(upload.filename for upload in request.files.values())


def guard(handover_id, place, back_to=None):
    """In place of `login_required` for a view that keeps typing (and is exempt from the
    app-wide CSRF check): a post goes through `check_post`, a page asked for without a session
    leads to the login. None when the view may go on."""
    if request.method == "POST":
        return check_post(handover_id, place, back_to)
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


def posted():
    """The posted fields to build the page's forms from. When the keep token stood in for a
    CSRF token that changed under the page (`check_post`), the request has been checked, so
    the forms' own CSRF check is given the session's present token rather than the stale one
    (which would refuse the post, and the text with it, a second time)."""
    if not g.get("keep_token_vouched"):
        return request.form
    fields = request.form.copy()
    fields["csrf_token"] = generate_csrf()
    return fields


#: In the session while typing kept from an expired session waits for the user. Typing is
#: kept only while no session of theirs is valid, so what waits is known at login: the pages
#: look for it only then, not with a query on every view of every handover.
TYPING_WAITS = "typing_kept"


def typing_waiting_at_login():
    """At login: where the user's newest kept typing waits (handover id, place), or None; and
    whether any does, remembered in the new session for `given_back`."""
    waiting = kept_typing.newest_for(current_user)
    if waiting is None:
        session.pop(TYPING_WAITS, None)
    else:
        session[TYPING_WAITS] = True
    return waiting


def typing_may_wait():
    """Whether kept typing may wait for the user (see `TYPING_WAITS`)."""
    return bool(session.get(TYPING_WAITS))


def given_back(handover, place, notice, unit_id=None):
    """The user's kept copy of ``place`` as form data, with ``notice`` flashed, or None. The
    copy is deleted as it is given back; the caller has asked the policy that the user may
    still do what the place is for."""
    if not typing_may_wait():
        return None
    fields = kept_typing.take(current_user, handover, place, unit_id)
    if fields is None:
        return None
    if kept_typing.newest_for(current_user) is None:
        session.pop(TYPING_WAITS, None)
    flash(notice, "info")
    return MultiDict(fields)


def page_for(handover_id, place):
    """The page where the kept copy of ``place`` is given back. The reply and the note on
    receipt post to addresses that are no page: theirs is the handover's page."""
    if place == kept_typing.WHOLE_FORM:
        return url_for("handovers.edit", handover_id=handover_id)
    if place in (kept_typing.REPLY_MESSAGE, kept_typing.ACKNOWLEDGE_NOTE):
        return url_for("handovers.view", handover_id=handover_id)
    form_key = kept_typing.reply_form_key(place)
    if form_key is not None:
        return url_for("handovers.reply_form", handover_id=handover_id, form_key=form_key)
    return url_for("handovers.section", handover_id=handover_id, section_key=place)


def restored_form(handover, definition, sender_kind, content, section_key):
    """The draft's form (a section page's or the whole form's) holding the user's kept copy
    (which is then deleted), or None. The caller saves it in the draft, as the notice says."""
    fields = given_back(handover, section_key, _(
        "Your session had ended before this page was saved. What you typed was kept, is back "
        "in the fields below and has been saved in the draft."))
    if fields is None:
        return None
    form = formbuilder.build_form(definition, language(), sender_kind=sender_kind,
                                  formdata=fields, content=content)
    form.kept_digests = fields.get(LOADED)   # the kept page's, for `save_typed`
    return form


def background_saved(handover=None, form=None, shown=None, also_changed=()):
    """The script's answer: saved, how long the session now lasts, and (for a draft's page)
    the digests of what is now saved of the page's fields, which the script puts in the page
    in place of those it was loaded with, and the fields someone else also changed."""
    extra = {}
    if handover is not None:
        extra = {"digests": loaded_digests(handover, form, shown),
                 "also_changed": list(also_changed)}
    return jsonify(saved=True, expires_in=sessions.seconds_left(current_user), **extra)


#: The hidden input of a draft's fill page: per field it shows, the keyed digest of the value
#: the page was loaded with (`services.draft_merging`), so that a save changes only what was
#: changed on the page, not what someone else saved meanwhile in another tab.
LOADED = "loaded_digests"


def loaded_digests(handover, form, shown):
    """The hidden input's value for a page showing ``form``'s fields ``shown`` (keys)."""
    return draft_merging.encode(draft_merging.digests_of(handover.id, form.content(), shown))


def save_typed(handover, form, stored, digests=None):
    """Save ``form``'s typing over the draft as ``stored`` now: only what was changed on the
    page changes (see `services.draft_merging`). The labels of the fields someone else also
    changed since the page was loaded (this page's answer was kept), each with its section."""
    loaded = draft_merging.decode(digests if digests is not None else request.form.get(LOADED))
    merged = draft_merging.merge(handover.id, loaded, form.content(), stored,
                                 form.definition_fields())
    drafts.save(current_user, handover, merged.content)
    definition = form.definition
    section_of = {f.key: section for section in definition.sections for f in section.fields}
    return [display.field_name(definition.field(key), section_of.get(key), language())
            for key in merged.also_changed]


def tell_also_changed(labels):
    """Flash which fields someone else also changed while the page was open, if any."""
    if labels:
        flash(_("Someone else also changed these answers after you opened the page: "
                "%(fields)s. Your answers were saved in their place; check them.",
                fields="; ".join(labels)), "error")
