"""The audit log for auditors: filters, and the per-child report the client-data act asks for
("who used my child's data, when and why"), found through the keyed identity-code hash.

Only auditors see these pages; anyone else gets 404 like any page they have no business with.
The identity code is posted, never put into a URL, and the search is itself audited (without
the code).
"""

import csv
import io
from datetime import UTC, datetime
from html import unescape

from flask import Blueprint, Response, get_template_attribute, render_template, request
from flask_login import current_user, login_required
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from handover.formdefs import content_values, display
from handover.formdefs.content import TIMEZONE
from handover.i18n import format_datetime
from handover.i18n import gettext as _
from handover.i18n import lazy_gettext as _l
from handover.services import access_report, audit_labels, audit_search, policy
from handover.services.listing import InvalidIdentityCode
from handover.web import posted_id
from handover.web.definition_fields import DATE_FORMATS
from handover.web.form_base import HandoverForm
from handover.web.ui import language

bp = Blueprint("audit", __name__, url_prefix="/audit")


#: Under a date typed as d.m.yyyy (the forms' dates say the same).
DATE_HINT = _l("Day, month and year, for example 14.3.2012")
#: The app's own words for a filter it cannot read, in place of WTForms' ("Not a valid
#: integer value."): the same the forms say of a number, a date or a choice.
NOT_A_HANDOVER_NUMBER = _l("Enter the number of a handover, for example 1234.")
UNTIL_BEFORE_SINCE = _l("Enter a date on or after the From date.")
#: The longest name or e-mail address searched for (an e-mail address is at most 254).
LONGEST_USER = 254


class HandoverNumberField(IntegerField):
    """A handover's number as the pages write it: "#7" reads as 7 (the log, the lists and the
    report print "#" before the number, and an auditor copies it from there)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        typed = str(valuelist[0]).strip()
        digits = typed.removeprefix("#").strip()
        self.data = None
        if not typed:
            return
        self.data = posted_id(digits)   # ASCII digits, within the ids there can be
        if self.data is None:
            raise ValueError(NOT_A_HANDOVER_NUMBER)


class FilterDateField(DateField):
    """A day typed as d.m.yyyy (or ISO); one that cannot be read is refused in the app's
    words, as the forms refuse it."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(content_values.NOT_A_DATE) from None


def _a_handover_number(form, field):
    """A number no handover can have (0, negative, or larger than the database holds) is
    refused like one that is no number at all, rather than asked of the database."""
    if field.data is not None and not policy.is_handover_id(field.data):
        raise ValidationError(NOT_A_HANDOVER_NUMBER)


def _a_searchable_day(form, field):
    if field.data is not None and not (
            audit_search.FIRST_DAY <= field.data <= audit_search.LAST_DAY):
        raise ValidationError(_("Enter a date from %(first)s to %(last)s.",
                                first=_day(audit_search.FIRST_DAY),
                                last=_day(audit_search.LAST_DAY)))


def _not_before_since(form, field):
    """A period ending before it starts holds no event: said on the To date, rather than
    answered with an empty page the auditor takes for "nobody did anything"."""
    if field.data is not None and form.since.data is not None and field.data < form.since.data:
        raise ValidationError(UNTIL_BEFORE_SINCE)


def _day(day):
    return display.date_text(day)


class FilterForm(HandoverForm):
    """GET filters: nothing secret, so no CSRF token in the URL."""

    class Meta:
        csrf = False

    user = StringField(_l("User (name or e-mail)"),
                       validators=[Optional(), Length(
                           max=LONGEST_USER,
                           message=content_values.too_long(LONGEST_USER))],
                       description=_l("Finds what the person did, and what administrators and "
                                      "unit leads did to their account."))
    # A unit or action no longer offered (a hand-edited address) is refused in the app's words.
    unit = SelectField(_l("Unit"), validators=[Optional()], choices=[],
                       invalid_choice_message=content_values.NOT_A_CHOICE)
    handover = HandoverNumberField(_l("Handover number"),
                                   validators=[Optional(), _a_handover_number])
    action = SelectField(_l("Action"), validators=[Optional()], choices=[],
                         invalid_choice_message=content_values.NOT_A_CHOICE)
    # Typed as d.m.yyyy in every language, never in the browser's locale's date picker.
    since = FilterDateField(_l("From (date)"), validators=[Optional(), _a_searchable_day],
                            format=DATE_FORMATS, widget=TextInput(), description=DATE_HINT)
    until = FilterDateField(_l("To (date)"),
                            validators=[Optional(), _a_searchable_day, _not_before_since],
                            format=DATE_FORMATS, widget=TextInput(), description=DATE_HINT)


class ChildReportForm(HandoverForm):
    identity_code = StringField(_l("Child's personal identity code"),
                                validators=[DataRequired(message=content_values.REQUIRED),
                                            Length(max=20, message=content_values.too_long(20))])


@bp.before_request
def auditors_only():
    if not policy.is_auditor(current_user):
        raise policy.NotFound("audit")


def _filter_form(names):
    form = FilterForm(request.args)
    form.unit.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(str(unit_id), name) for unit_id, name in names.items()]
    form.action.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(action, words)
        for action, words in audit_labels.choices(audit_search.actions_in_log())]
    return form


@bp.get("/")
@login_required
def index():
    """The log, newest first, narrowed by the filters. Filters that do not pass show their
    messages and no events at all: the whole log in their place would read as the answer to
    the question asked ("what did this person do to #7?")."""
    names = audit_search.unit_names()
    form = _filter_form(names)
    page, rows = None, []
    asked_page = request.args.get("page", 1, type=int)
    if form.validate():
        page = audit_search.search(_chosen(form), asked_page)
        rows = access_report.event_rows(page.items)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    # A page past the last (an empty page of a search that found events) says so by the
    # number asked for, and links to the last page, rather than "No events match".
    return render_template("audit/index.html", form=form, page=page, args=args, rows=rows,
                           units=names, report_form=ChildReportForm(),
                           asked_page=asked_page)


def _chosen(form):
    """The filters of a form that passed, as the search takes them."""
    return audit_search.EventFilter(
        user=form.user.data or "", unit_id=int(form.unit.data) if form.unit.data else None,
        handover_id=form.handover.data, action=form.action.data or "",
        since=form.since.data, until=form.until.data)


#: The caption of the child's report's events, by the kinds of row it holds (`_kind_of`):
#: events on the handovers listed above it, on drafts not listed (discarded, or given another
#: code) while they named the child, and searches and look-ups by the child's code and views
#: of this report. No caption claims rows of one kind are another's.
REPORT_CAPTIONS = {
    frozenset(): _l("Events, oldest first"),
    frozenset({"search"}): _l("Searches for this child, oldest first"),
    frozenset({"handover"}): _l("Events on these handovers, oldest first"),
    frozenset({"draft"}): _l("Events on drafts while they named this child, oldest first"),
    frozenset({"handover", "search"}): _l(
        "Events on these handovers and searches for this child, oldest first"),
    frozenset({"draft", "search"}): _l(
        "Events on drafts while they named this child, and searches for this child, "
        "oldest first"),
    frozenset({"handover", "draft"}): _l(
        "Events on these handovers and on drafts while they named this child, oldest first"),
    frozenset({"handover", "draft", "search"}): _l(
        "Events on these handovers and on drafts while they named this child, and searches "
        "for this child, oldest first"),
}


def _kind_of(row, listed):
    """What a row of the child's report is: "search" (a search or look-up by the child's
    code, a view of the report), "handover" (an event on a handover listed in the report) or
    "draft" (an event on a draft no longer listed: discarded, or given another code)."""
    if row.action in audit_search.NAMING_ACTIONS or row.handover_id is None:
        return "search"
    return "handover" if row.handover_id in listed else "draft"


@bp.post("/child-report")
@login_required
def child_report():
    """Every event on the handovers of one child and every search, look-up and view of this
    report that named the child (`audit_search.child_report`), oldest first, in words: people
    and units by name, events by label, repeats folded; and the disclosure record of those
    handovers."""
    return _report()


@bp.post("/child-report/download")
@login_required
def child_report_download():
    """The report's events as a CSV file (`report_csv`), for the guardian's answer or the
    case file: posted like the report, so that the identity code never goes into a URL, and
    audited like showing it (naming the download). A code the report refuses shows the
    report page with the message, not a file."""
    return _report(download=True)


def _report(download=False):
    form = ChildReportForm()
    events, handovers = None, []
    if form.validate_on_submit():
        try:
            handovers, events = audit_search.child_report(current_user,
                                                          form.identity_code.data,
                                                          download=download)
        except InvalidIdentityCode as refusal:
            form.identity_code.errors.append(str(refusal))
    status = 400 if form.errors or events is None else 200
    units = audit_search.unit_names()
    shown = {}
    if events is not None:
        rows = access_report.event_rows(events, fold=True)
        if download:
            return _csv_response(rows, units)
        listed = {handover.id for handover in handovers}
        kinds = [(row, _kind_of(row, listed)) for row in rows]
        shown = {"rows": rows,
                 "caption": REPORT_CAPTIONS[frozenset(kind for _row, kind in kinds)],
                 "other_drafts": ", ".join(f"#{handover_id}" for handover_id in sorted(
                     {row.handover_id for row, kind in kinds if kind == "draft"})),
                 "handovers": access_report.handover_rows(handovers, language()),
                 "disclosures": access_report.disclosure_rows(handovers, language())}
    return render_template("audit/report.html", form=form, found=events is not None,
                           units=units, **shown), status


#: What a spreadsheet would run as a formula if a cell began with it (a name typed by whoever
#: signed in as "=HYPERLINK(…)"): such a cell is written with an apostrophe first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    text = str(value or "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _with_offset(moment):
    """A time as the page writes it, in Finnish time, with its offset from UTC: the file
    leaves the page that says whose time it is, and the hour the clocks go back happens
    twice (3.30 on the last Sunday of October is UTC+3, then UTC+2)."""
    hours = int(moment.astimezone(TIMEZONE).utcoffset().total_seconds() // 3600)
    return f"{format_datetime(moment, 'medium')} UTC{hours:+d}"


def report_csv(rows, units):
    """The report's event table as CSV, the columns the page shows (the "Concerning" column
    only when a row has something there), each cell as the page writes it. UTF-8 with a byte
    order mark and ";" between cells: what Excel in Finnish and Swedish opens as columns with
    ä, ö and å intact."""
    target_words = get_template_attribute("audit/_events.html", "target_words")
    with_targets = any(row.target for row in rows)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Time"), _("Who"), _("Unit"), _("What happened"),
                     *([_("Concerning")] if with_targets else []), _("Handover"),
                     _("Outcome"), _("Client address")])
    for row in rows:
        when = _with_offset(row.first_at)
        if row.count > 1:
            when += " – " + _with_offset(row.last_at)
        unit = (units.get(row.unit_id, "") if row.unit_id
                else _("Not recorded") if row.unit_unrecorded else "")
        what = row.label + (f": {row.found_words}" if row.found_words else "") + (
            f" ×{row.count}" if row.count > 1 else "")
        concerning = ([unescape(str(target_words(row.target))) if row.target else ""]
                      if with_targets else [])
        writer.writerow([_cell(value) for value in (
            when, row.person + (f" ({row.person_detail})" if row.person_detail else ""),
            unit, what, *concerning, f"#{row.handover_id}" if row.handover_id else "",
            row.outcome, row.client_address)])
    return "\ufeff" + out.getvalue()


def _csv_response(rows, units):
    # The file's name says what and when, never whose: no identity code in a download folder.
    name = f"access-report-{datetime.now(UTC).astimezone(TIMEZONE):%Y-%m-%d-%H%M}.csv"
    response = Response(report_csv(rows, units).encode("utf-8"),
                        mimetype="text/csv", headers={
                            "Content-Disposition": f'attachment; filename="{name}"',
                            "Cache-Control": "no-store"})
    response.charset = "utf-8"
    return response
