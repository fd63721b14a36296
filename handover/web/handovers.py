"""Inbox, outbox and writing a handover: choose a form, route it, fill it, preview and send.

Reading, acknowledging, replying, withdrawing and attachments are in `handover_reading`, which
adds its views to this same blueprint. Every handover URL goes through `handover.services.policy`.
"""

import secrets
from math import ceil

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from stdnum.fi import hetu

from handover.i18n import gettext as _
from handover.security import crypto
from handover.services import (
    LifecycleError,
    commit_keeping_loaded,
    definition_of,
    drafts,
    routing,
    sending,
)
from handover.services import policy as access
from handover.services.accounts import units_by_id
from handover.services.notifications import is_overdue
from handover.services.reading import summary_for_reader
from handover.services.replies import replied_by_receiver
from handover.services.routing import RouteRefused
from handover.store import audit
from handover.store.database import db
from handover.store.models import Handover, Unit
from handover.web import handover_forms as forms
from handover.web.handover_views import build_fill_form, language, status_label

bp = Blueprint("handovers", __name__, url_prefix="/handovers")

PER_PAGE = 20
LIST_STATUSES = ("sent", "opened", "acknowledged", "withdrawn")


def _rows(handovers, user):
    """What a list shows of each handover; the summary only to those who may read it."""
    handovers = list(handovers)
    _load_copies_and_replies(handovers)
    rows = []
    for handover in handovers:
        row = {"handover": handover, "overdue": is_overdue(handover),
               "replied": replied_by_receiver(handover), "summary": None, "tampered": False}
        try:
            row["title"] = definition_of(handover).title_in(language())
        except Exception:
            row["title"] = handover.form_key
        if handover.status != "withdrawn" and access.evaluate(user, handover).can("read"):
            try:
                row["summary"] = summary_for_reader(handover)
            except crypto.TamperedRecord:
                row["tampered"] = True
                audit.record("handover.integrity_failed", handover_id=handover.id,
                             outcome="failed", detail={"part": "summary"})
                db.session.commit()
        rows.append(row)
    # A summary names the child: showing it is a read of client data, logged per handover.
    shown = [row["handover"].id for row in rows if row["summary"] is not None]
    if shown:
        audit.record_many("handover.listed", shown)
        commit_keeping_loaded()
    return rows


def _load_copies_and_replies(handovers):
    """Two queries for the whole list instead of two per row (access needs the copies, the
    "replied" mark the replies)."""
    missing = [h for h in handovers if "copies" not in h.__dict__ or "replies" not in h.__dict__]
    if missing:
        db.session.execute(
            select(Handover).where(Handover.id.in_([h.id for h in missing]))
            .options(selectinload(Handover.copies), selectinload(Handover.replies))
        ).scalars().all()


class _Page:
    """What the pager macro needs of a page (the names of Flask-SQLAlchemy's Pagination).

    ``total`` is exact up to `COUNT_LIMIT`; beyond it ``more`` is True and the pager says "page
    N" without "of M": counting every one of a unit's 10,000 handovers on each page view would
    make the inbox slower the longer the service runs, for a number nobody pages through.
    """

    def __init__(self, items, total, number, per_page, *, more, has_next):
        self.items, self.total, self.page, self.per_page = items, total, number, per_page
        self.more = more
        self.pages = ceil(total / per_page) if total else 0
        self.has_prev, self.prev_num = number > 1, number - 1
        self.has_next, self.next_num = has_next, number + 1


#: Matches counted per list for the pager (50 pages); filters and search find older ones.
COUNT_LIMIT = 1000


def _newest_first(row):
    return (row.sent_at is not None, row.sent_at.timestamp() if row.sent_at else 0, row.id)


def _page_of(branches, number):
    """Page ``number`` of the union of disjoint ``branches`` (lists of WHERE conditions).

    Each branch is read newest first and cut one row after the page ends (to know whether
    another page follows), then the few candidates are merged here; one query over the union
    would have to sort every match (or scan the table) before it could cut a page, and so grow
    with the number of stored handovers. Counts stop at `COUNT_LIMIT` for the same reason.
    """
    end = number * PER_PAGE
    candidates = _newest_ids(branches, end + 1)
    items = _handovers_in_order(candidates[end - PER_PAGE:end])
    counted = sum(db.session.execute(select(func.count()).select_from(
        select(Handover.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery())).scalar()
        for conditions in branches)
    more = counted > COUNT_LIMIT
    return _Page(items, min(counted, COUNT_LIMIT), number, PER_PAGE, more=more,
                 has_next=len(candidates) > end)


def _newest_ids(branches, count):
    """Ids of the newest ``count`` handovers matching any of the disjoint ``branches``."""
    candidates = []
    for conditions in branches:
        candidates += db.session.execute(
            select(Handover.id, Handover.sent_at).where(*conditions)
            .order_by(Handover.sent_at.desc(), Handover.id.desc()).limit(count)
        ).all()
    candidates.sort(key=_newest_first, reverse=True)
    return [row.id for row in candidates[:count]]


def _handovers_in_order(ids):
    """The handovers ``ids`` in that order, with the copies and replies the list shows."""
    found = {handover.id: handover for handover in db.session.execute(
        select(Handover).where(Handover.id.in_(ids))
        .options(selectinload(Handover.copies), selectinload(Handover.replies))
    ).scalars()} if ids else {}
    return [found[i] for i in ids if i in found]


def newest(branches, count):
    """The ``count`` newest handovers of ``branches`` (`access.inbox_branches` and the like),
    at the same cost however many are stored."""
    return _handovers_in_order(_newest_ids(branches, count))


def _form_choices():
    """(key, title) of every form the server knows, for the list filter: asked of the registry,
    not of the stored handovers (a DISTINCT over a unit's handovers grows with them)."""
    from handover.plugins.manager import registry

    titles = {}
    for definition in registry().all_definitions():   # oldest version first: newest title wins
        titles[definition.key] = definition.title_in(language())
    return sorted(titles.items(), key=lambda item: item[1].lower())


def _list_page(template, branches, **extra):
    status = request.args.get("status", "")
    form_key = request.args.get("form", "")
    chosen = []
    if status in LIST_STATUSES:
        chosen.append(Handover.status == status)
    if form_key:
        chosen.append(Handover.form_key == form_key)
    number = max(request.args.get("page", 1, type=int), 1)
    page = _page_of([[where, *chosen] for where in branches], number)
    shown = page.items + list(extra.get("drafts", ()))
    units = units_by_id({unit_id for h in shown for unit_id in (
        h.sender_unit_id, h.receiver_unit_id, *(c.unit_id for c in h.copies))})
    return render_template(
        template, page=page, rows=_rows(page.items, current_user), units=units,
        statuses=LIST_STATUSES, status=status, form_key=form_key, form_choices=_form_choices(),
        status_label=status_label, **extra,
    )


@bp.get("/inbox")
@login_required
def inbox():
    return _list_page("handovers/inbox.html", access.inbox_branches(current_user),
                      find_form=forms.IdentityCodeForm())


@bp.get("/outbox")
@login_required
def outbox():
    my_drafts = db.session.execute(
        select(Handover).where(access.draft_filter(current_user), Handover.erased_at.is_(None))
        .order_by(Handover.updated_at.desc())
    ).scalars().all()
    return _list_page("handovers/outbox.html", access.outbox_branches(current_user),
                      drafts=my_drafts)


@bp.route("/find", methods=["GET", "POST"])
@login_required
def find():
    """A child's handovers visible to the user, by exact identity code (through its keyed hash)."""
    form = forms.IdentityCodeForm()
    rows = None
    if form.validate_on_submit():
        code = form.identity_code.data.strip().upper()
        if not hetu.is_valid(code, allow_temporary=True):
            form.identity_code.errors.append(_("Check the personal identity code."))
        else:
            visible = access.inbox_filter(current_user) | (
                access.outbox_filter(current_user) & (Handover.status != "draft"))
            found = db.session.execute(
                select(Handover).where(Handover.identity_hash == crypto.identity_hash(code),
                                       visible).order_by(Handover.sent_at.desc())
            ).scalars().all()
            audit.record("handover.searched", detail={"found": len(found)})
            db.session.commit()
            rows = _rows(found, current_user)
    units = {unit.id: unit for unit in db.session.execute(select(Unit)).scalars()}
    return render_template("handovers/find.html", form=form, rows=rows, units=units,
                           status_label=status_label)


def _sender_units():
    return sorted({m.unit for m in current_user.memberships
                   if m.role == "sender" and m.unit.is_active}, key=lambda unit: unit.name)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Step 1: which form, from which of the user's sending units."""
    options = [(unit, definition) for unit in _sender_units()
               for definition in routing.sendable_forms(unit)]
    form = forms.ChooseFormForm()
    form.choice.choices = forms.choices(
        (f"{unit.id}:{definition.key}", f"{definition.title_in(language())} — {unit.name}")
        for unit, definition in options
    )
    if form.validate_on_submit():
        unit_id, form_key = form.choice.data.split(":", 1)
        return redirect(url_for(".start", unit_id=int(unit_id), form_key=form_key))
    return render_template("handovers/new.html", form=form, options=options)


def _routing_form(sender_unit, form_key, definition, handover=None):
    form = forms.RoutingForm(obj=None)
    receivers = routing.allowed_receivers(form_key, sender_unit)
    copy_units = routing.allowed_copy_units(form_key, sender_unit)
    form.receiver.choices = forms.choices(
        [("", _("Choose…"))] + [(str(u.id), u.name) for u in receivers])
    form.copies.choices = forms.choices((str(u.id), u.name) for u in copy_units)
    form.legal_basis.choices = forms.choices(
        (choice.value, choice.label_in(language())) for choice in definition.legal_bases)
    if handover is not None and request.method == "GET":
        form.receiver.data = str(handover.receiver_unit_id or "")
        form.copies.data = [str(copy.unit_id) for copy in handover.copies]
        form.legal_basis.data = handover.legal_basis or None
    return form


def _chosen_units(form):
    def unit(value):
        return db.session.get(Unit, int(value)) if value and str(value).isdigit() else None

    return unit(form.receiver.data), [u for u in map(unit, form.copies.data or []) if u]


@bp.route("/new/<int:unit_id>/<form_key>", methods=["GET", "POST"])
@login_required
def start(unit_id, form_key):
    """Step 2: receiving unit, copies and legal basis; creates the draft."""
    sender_unit = db.session.get(Unit, unit_id)
    if sender_unit is None or not drafts.is_sender(current_user, unit_id):
        abort(404)
    if form_key not in {d.key for d in routing.sendable_forms(sender_unit)}:
        abort(404)
    definition = definition_of(form_key)
    form = _routing_form(sender_unit, form_key, definition)
    if request.method == "POST":
        # Validated by the services (routing re-checked), not only by the offered choices.
        receiver, copy_units = _chosen_units(form)
        try:
            handover = drafts.start(current_user, sender_unit, form_key, receiver, copy_units,
                                    form.legal_basis.data or "")
        except (RouteRefused, LifecycleError) as refusal:
            flash(str(refusal), "error")
            return render_template("handovers/routing.html", form=form, definition=definition,
                                   sender_unit=sender_unit, handover=None), 400
        return redirect(url_for(".edit", handover_id=handover.id))
    return render_template("handovers/routing.html", form=form, definition=definition,
                           sender_unit=sender_unit, handover=None)


@bp.route("/<int:handover_id>/routing", methods=["GET", "POST"])
@login_required
def change_routing(handover_id):
    granted = access.require(current_user, handover_id, "edit_draft")
    handover = granted.handover
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    definition = definition_of(handover)
    form = _routing_form(sender_unit, handover.form_key, definition, handover)
    if request.method == "POST":
        receiver, copy_units = _chosen_units(form)
        try:
            drafts.change_routing(current_user, handover, receiver, copy_units,
                                  form.legal_basis.data or "")
        except (RouteRefused, LifecycleError) as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            return render_template("handovers/routing.html", form=form, definition=definition,
                                   sender_unit=sender_unit, handover=handover), 400
        return redirect(url_for(".edit", handover_id=handover.id))
    return render_template("handovers/routing.html", form=form, definition=definition,
                           sender_unit=sender_unit, handover=handover)


@bp.route("/<int:handover_id>/edit", methods=["GET", "POST"])
@login_required
def edit(handover_id):
    """Fill the form. "Save draft" keeps anything typed; "Preview" validates first."""
    granted = access.require(current_user, handover_id, "edit_draft")
    handover = granted.handover
    definition = definition_of(handover)
    sender_unit = db.session.get(Unit, handover.sender_unit_id)
    saved = drafts.content_of(handover)
    form = build_fill_form(definition, sender_unit.kind, saved)
    if request.method == "POST" and form.add_row_requested:
        drafts.save(current_user, handover, form.content())
        return _edit_page(handover, definition, form, sender_unit)
    if request.method == "POST":
        drafts.save(current_user, handover, form.content())
        if "preview" in request.form:
            if form.validate():
                return redirect(url_for(".preview", handover_id=handover.id))
            flash(_("Check the highlighted answers."), "error")
            return _edit_page(handover, definition, form, sender_unit), 400
        flash(_("Draft saved."), "success")
        return redirect(url_for(".edit", handover_id=handover.id))
    return _edit_page(handover, definition, form, sender_unit)


def _edit_page(handover, definition, form, sender_unit):
    from handover.services.attachments import name_of

    attachments = [(a, name_of(handover, a)) for a in handover.attachments]
    return render_template(
        "handovers/edit.html", handover=handover, definition=definition, form=form,
        sender_unit=sender_unit, units=access.units_of(handover), attachments=attachments,
        attachment_form=forms.AttachmentForm(), discard_form=forms.EmptyForm(),
        language=language(),
    )


@bp.get("/<int:handover_id>/preview")
@login_required
def preview(handover_id):
    granted = access.require(current_user, handover_id, "send", with_units=True)
    handover = granted.handover
    definition = definition_of(handover)
    send_form = forms.SendForm(submission_token=secrets.token_urlsafe(24))
    return render_template(
        "handovers/preview.html", handover=handover, definition=definition,
        content=drafts.content_of(handover), units=access.units_of(handover), send_form=send_form,
        language=language(),
    )


@bp.post("/<int:handover_id>/send")
@login_required
def send(handover_id):
    user = current_user._get_current_object()  # one look-up instead of one per touch
    granted = access.require(user, handover_id, "send", with_units=True)
    handover = granted.handover
    form = forms.SendForm()
    token = form.submission_token.data if form.validate_on_submit() else None
    try:
        sent = sending.send(user, handover, token, language=language())
    except drafts.ValidationFailed:
        flash(_("Check the highlighted answers."), "error")
        return redirect(url_for(".edit", handover_id=handover.id))
    except (RouteRefused, LifecycleError) as refusal:
        db.session.rollback()
        flash(str(refusal) or _("The handover could not be sent."), "error")
        return redirect(url_for(".preview", handover_id=handover.id))
    flash(_("The handover was sent."), "success")
    return redirect(url_for(".view", handover_id=sent.id))


@bp.post("/<int:handover_id>/discard")
@login_required
def discard(handover_id):
    granted = access.require(current_user, handover_id, "edit_draft")
    drafts.discard(current_user, granted.handover)
    flash(_("The draft was deleted."), "success")
    return redirect(url_for(".outbox"))


from handover.web import handover_reading  # noqa: E402,F401  (adds its views to `bp`)
