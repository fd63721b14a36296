"""The handover pages, one blueprint: lists (inbox, outbox, find), filling a draft (choose a
form, route it, fill, preview, send) and reading a sent one (view, print, acknowledge, reply,
withdraw, correct, attachments). Their forms, fixed and built from a definition, are in
`forms`.

`bp` is made here, before the view modules that add to it are imported, so no module imports
another view module. Every view asks `handover.services.policy.require` first; domain
exceptions become answers in `handover.web.errors`.
"""

from flask import Blueprint, current_app, request

bp = Blueprint("handovers", __name__, url_prefix="/handovers")

#: The fill pages whose post may carry an attachment beside what was typed on the page.
POSTS_WITH_FILES = frozenset({"handovers.edit", "handovers.section", "handovers.upload"})


@bp.url_value_preprocessor
def read_a_large_file_with_the_typing(endpoint, _values):
    """A fill page's post carries what was typed and, maybe, a file. A file over the
    attachment limit (``ATTACHMENT_MAX_BYTES``) is refused by the view, which saves the typing
    all the same; but a post over the server's limit (``MAX_CONTENT_LENGTH``) is not read at
    all, and without JavaScript to stop the file before it is sent, the typing went with it.
    So these posts are read up to ``FILL_PAGE_MAX_CONTENT_LENGTH`` (the file goes to a
    temporary file, not to memory). A URL value preprocessor, because it runs before every
    before_request function, among them the CSRF check that reads the form."""
    if endpoint in POSTS_WITH_FILES and request.method == "POST":
        request.max_content_length = current_app.config["FILL_PAGE_MAX_CONTENT_LENGTH"]


# The view modules add their views to bp: journey is the child's journey (issue 15), sections
# the fill pages section by section (issue 14).
from handover.web.handovers import (  # noqa: E402,F401
    filling,
    journey,
    lists,
    reading,
    sections,
)
