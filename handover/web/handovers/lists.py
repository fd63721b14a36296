"""The inbox, the outbox (with the user's drafts) and finding a child's handovers. The lists
themselves, and the audit of every summary they show, come from `handover.services.listing`."""

from flask import render_template, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from handover.i18n import lazy_gettext as _l
from handover.plugins.manager import registry
from handover.services import listing, listing_keyset, policy
from handover.services.accounts import units_by_id
from handover.services.sections import draft_rows
from handover.web.api.cursors import cursor_for, place_of
from handover.web.handovers import bp, forms
from handover.web.ui import language, status_label


def form_choices():
    """(key, title) of every form the server knows, for the list filter: asked of the registry,
    not of the stored handovers (a DISTINCT over a unit's handovers grows with them)."""
    titles = {}
    for definition in registry().all_definitions():   # oldest version first: newest title wins
        titles[definition.key] = definition.title_in(language())
    return sorted(titles.items(), key=lambda item: item[1].lower())


#: The list filter's own choice that is no stored status (`listing.LIST_STATUSES`).
CLOSED = _l("Closed")


def list_status_label(status):
    """The words for a status in the lists and their filter, "closed" included."""
    return CLOSED if status == "closed" else status_label(status)


def units_shown(handovers):
    """{id: Unit} of every unit the listed ``handovers`` name, in one query."""
    return units_by_id({unit_id for h in handovers for unit_id in (
        h.sender_unit_id, h.receiver_unit_id, *(c.unit_id for c in h.copies))})


def _list_page(template, read_page, read_after, **extra):
    """Page ``page`` of a list. "Older" carries the place of the page's last handover
    (``after``, signed): the next page is read from there (`listing_keyset`), so a handover
    that reading took out of a filter ("sent" to "opened") does not push an unseen one past
    the page boundary, as counting an offset again would. A page number alone, or an ``after``
    not of ours, reads by offset."""
    status = request.args.get("status", "")
    form_key = request.args.get("form", "")
    number = min(max(request.args.get("page", 1, type=int), 1), listing.LAST_PAGE)
    after = _place(request.args.get("after"))
    if after is not None and number > 1:
        page = read_after(current_user, after, status=status, form_key=form_key,
                          language=language(), number=number)
    else:
        page = read_page(current_user, page=number, status=status, form_key=form_key,
                         language=language())
    return render_template(
        template, page=page, rows=page.rows, older=cursor_for(page.next_key),
        units=units_shown(page.items + list(extra.get("drafts", ()))),
        statuses=listing.LIST_STATUSES, status=status, form_key=form_key,
        form_choices=form_choices(), status_label=list_status_label, **extra,
    )


def _place(cursor):
    """The (sending time, id) an ``after`` of ours names; None for none, or one not ours."""
    try:
        return place_of(cursor) if cursor else None
    except ValidationError:
        return None


@bp.get("/inbox")
@login_required
def inbox():
    return _list_page("handovers/inbox.html", listing.inbox, listing_keyset.inbox_after,
                      find_form=forms.IdentityCodeForm())


@bp.get("/outbox")
@login_required
def outbox():
    rows = draft_rows(current_user, language())
    return _list_page("handovers/outbox.html", listing.outbox, listing_keyset.outbox_after,
                      draft_rows=rows,
                      drafts=[row.handover for row in rows],
                      can_send=bool(policy.sending_units(current_user)),
                      find_form=forms.IdentityCodeForm())


@bp.route("/find", methods=["GET", "POST"])
@login_required
def find():
    """A child's handovers visible to the user, by exact identity code."""
    form = forms.IdentityCodeForm()
    rows = None
    if form.validate_on_submit():
        try:
            rows = listing.find_by_identity_code(current_user, form.identity_code.data,
                                                 language())
        except listing.InvalidIdentityCode as refusal:
            form.identity_code.errors.append(str(refusal))
    units = units_shown([row.handover for row in rows or ()])
    # Each found handover under what it is to the user: sent by their units, or received
    # (as the receiver or a copy), with the sending or the receiving unit named accordingly.
    sent = [row for row in rows or () if row.relation == policy.SENDING]
    received = [row for row in rows or () if row.relation != policy.SENDING]
    return render_template("handovers/find.html", form=form, rows=rows, units=units,
                           sent=sent, received=received, status_label=status_label)
