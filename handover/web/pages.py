"""Public pages every footer links: the accessibility statement and the privacy notice.

Operators edit `templates/pages/*.html` (or override them in the instance's templates)."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from handover.store.database import db

bp = Blueprint("pages", __name__)


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.post("/language")
def set_language():
    """Switch the interface language; saved on the account so it follows the user."""
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session.commit()
    target = request.form.get("next", "")
    if not _is_local_path(target):
        target = url_for("home.index")
    return redirect(target)


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
