"""The handover pages, one blueprint: lists (inbox, outbox, find), filling a draft (choose a
form, route it, fill, preview, send) and reading a sent one (view, print, acknowledge, reply,
withdraw, correct, attachments). Their forms, fixed and built from a definition, are in
`forms`.

`bp` is made here, before the view modules that add to it are imported, so no module imports
another view module. Every view asks `handover.services.policy.require` first; domain
exceptions become answers in `handover.web.errors`.
"""

from flask import Blueprint

bp = Blueprint("handovers", __name__, url_prefix="/handovers")

# The view modules add their views to bp: journey is the child's journey (issue 15), sections
# the fill pages section by section (issue 14).
from handover.web.handovers import (  # noqa: E402,F401
    filling,
    journey,
    lists,
    reading,
    sections,
)
