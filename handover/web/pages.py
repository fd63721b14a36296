"""Public pages every footer links: the accessibility statement and the privacy notice.

Operators edit `templates/pages/*.html` (or override them in the instance's templates)."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from handover.security import sessions
from handover.store.database import db

bp = Blueprint("pages", __name__)

#: The name of the header's language buttons on a fill page (base.html's ``fill_form_id``):
#: they post the page's own form, so the typing is saved before the language changes.
SWITCH_LANGUAGE = "switch_language"


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.post("/language")
def set_language():
    """Switch the interface language; saved on the account so it follows the user."""
    remember_language(request.form.get("language", ""))
    target = request.form.get("next", "")
    if not _is_local_path(target):
        target = url_for("home.index")
    return redirect(target)


def remember_language(language):
    """Work in ``language`` from now on, if it is one of the interface's: in the session and
    on the account. A fill page's language buttons post the page's own form, which saves what
    was typed and then calls this (`handovers.sections`), so no typing is lost."""
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session.commit()
        else:   # chosen for the next login (`sessions.start`), not left by the last person
            session[sessions.CHOSEN_BEFORE_LOGIN] = True


def _is_local_path(target):
    """Only paths on this site: browsers read "//host" and "/\\host" as another site."""
    parts = urlsplit(target)
    return (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
    )
