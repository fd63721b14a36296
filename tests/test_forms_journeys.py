"""Each built-in form end to end through the web pages: a sender fills every field the fill page
renders (names parsed from its HTML, a second row added to every repeating group), previews and
sends; the receiver, every copy receiver and the sender then read it, on screen and in print.

What each reader must see: the receiver every value in its sections; a copy only the sections
the definition gives its kind, and, when the child has a non-disclosure marking or a hidden
placement, not the fields that reveal where the child lives; every reader the warning banner
when (and only when) one of those flags is set. The receiver answers with the form's reply
forms and the sender reads the answers.
"""

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from lifecycle_support import login_as
from support import create_unit, create_user

from handover.services import definition_of
from handover.store.database import db
from handover.store.models.base import utcnow

CODE, BIRTH_DATE = "010516B903X", "2016-05-01"  # temporary range (900-999): nobody real
PAST = "2024-01-05"  # before the support reform and before today, as the plugins' rules want
BANNER = "do not reveal where the child lives"
HIDDEN = "Hidden to protect where the child lives."

#: form key -> (sender kind, receiver kind); every kind the routing allows gets a copy.
JOURNEYS = {
    "psychiatric_ward_preinfo": ("child_welfare_institution", "psychiatric_ward"),
    "daycare_placed_child": ("child_welfare_social_work", "daycare"),
    # The social worker: a school may not send it for a child whose placement is hidden.
    "school_transfer": ("child_welfare_social_work", "school"),
}
REPLY_FORMS = {"psychiatric_ward_preinfo": ("ward_receipt", "ward_discharge"),
               "daycare_placed_child": (), "school_transfer": ("school_receipt",)}
#: Answers the plugins' cross-field rules insist on (photos of a protected child stay inside).
FIXED = {"publication_permission": "not_allowed", "photo_permission": "internal_only",
         # a contact-restriction decision still in force (one that has ended is refused)
         "restriction_until": (date.today() + timedelta(days=400)).isoformat()}
FLAGS = {"none": {}, "non_disclosure": {"non_disclosure": "yes"},
         "location_hidden": {"location_hidden": "yes"}}


# -- Reading the HTML -------------------------------------------------------------------------

class FormFields(HTMLParser):
    """The inputs of every <form> on a page: {name: {"type", "options"}} and add-row buttons."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select = [], None, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "fields": {}, "add_rows": []}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields, name = self._form["fields"], a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("hidden", "submit", "file"):
            entry = fields.setdefault(name, {"type": a.get("type", "text"), "options": []})
            if entry["type"] in ("radio", "checkbox"):
                entry["options"].append(a.get("value"))
        elif tag == "textarea" and name:
            fields[name] = {"type": "textarea", "options": []}
        elif tag == "select" and name:
            self._select = fields[name] = {"type": "select", "options": []}
        elif tag == "option" and self._select is not None and a.get("value"):
            self._select["options"].append(a["value"])
        elif tag == "button" and name == "add_row":
            self._form["add_rows"].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def form(self, containing):
        return next(f for f in self.forms if containing in f["fields"])


class ShownContent(HTMLParser):
    """{section key: {label: shown text}} of the read-only content (first of each section)."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.sections, self._section, self._in, self._label, self._text = {}, None, None, "", []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and (a.get("aria-labelledby") or "").startswith("content-"):
            key = a["aria-labelledby"].removeprefix("content-")
            # a reply form's section of the same key later on does not overwrite the content's
            self._section = {} if key in self.sections else self.sections.setdefault(key, {})
        elif tag in ("dt", "dd") and self._section is not None:
            self._in, self._text = tag, []
        elif tag in ("td", "th", "br") and self._in == "dd":
            self._text.append(" | ")

    def handle_endtag(self, tag):
        if tag == self._in:
            text = " ".join("".join(self._text).split())
            if tag == "dt":
                self._label = text
            else:
                self._section[self._label] = text
            self._in = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._in:
            self._text.append(data)


# -- Filling ----------------------------------------------------------------------------------

def _definition_field(definition, name):
    """(definition field, group key or None) of a posted name such as ``guardians-1-x``."""
    parts = name.split("-")
    top = definition.field(parts[0])
    if len(parts) == 3:
        return next(sub for sub in top.fields if sub.key == parts[2]), top.key
    return top, None


def _best_choice(f, definition_fields, options):
    """The option that makes the most conditional fields apply (so they get filled too)."""
    def unlocked(value):
        return sum(1 for other in definition_fields
                   if other.show_if and other.show_if.get("field") == f.key
                   and other.condition_met({f.key: value}))
    return max(options, key=lambda value: (unlocked(value), -options.index(value)))


def _value(definition, name, spec, flags):
    f, group = _definition_field(definition, name)
    siblings = definition.field(group).fields if group else list(definition.fields())
    if f.key in flags:
        return flags[f.key]
    if f.key in FIXED:
        return FIXED[f.key]
    if f.key in ("non_disclosure", "location_hidden"):
        return "no"
    if f.type == "hetu":
        return CODE
    if f.key == "child_birth_date":
        return BIRTH_DATE
    if spec["type"] == "checkbox":
        return list(spec["options"])
    if spec["type"] in ("radio", "select"):
        return _best_choice(f, siblings, spec["options"])
    if f.type == "date":
        return PAST
    if f.type == "number":
        return str(min(7, f.max if f.max is not None else 7))
    if f.type == "phone":
        return f"040 {len(name):03d} {sum(map(ord, name)) % 10000:04d}"
    if f.type == "email":
        return f"{name.replace('-', '.')}@example.fi"
    return f"[{name}]"


def fill(definition, fields, flags):
    return {name: _value(definition, name, spec, flags) for name, spec in fields.items()}


def _leaves(fields):
    return {name.split("-")[0] for name in fields}


# -- Expected display -------------------------------------------------------------------------

def _shown(f, value):
    """What the read-only page shows for one posted value (in English)."""
    if f.type == "date":
        day = date.fromisoformat(value)
        return [f"{day.day}.{day.month}.{day.year}"]
    if f.type == "yesno":
        return ["Yes" if value == "yes" else "No"]
    if f.type == "choice":
        return [f.choice_label(value, "en")]
    if f.type == "multichoice":
        return [f.choice_label(v, "en") for v in value]
    return [str(value)]


def _typed_texts(definition, posted, keys):
    """Free text typed into the fields ``keys`` (each unique, so its absence means something)."""
    return [value for name, value in posted.items()
            if name.split("-")[0] in keys and isinstance(value, str) and value.startswith("[")]


def check_reader(page, definition, posted, visible, hide_location):
    """Every filled value of the visible sections is shown (location fields hidden when asked);
    nothing typed into a section outside ``visible`` or a hidden field is anywhere on the page."""
    shown = ShownContent(page).sections
    values = {name: value for name, value in posted.items() if "-" not in name}
    for section in definition.sections:
        keys = {f.key for f in section.fields}
        if section.key not in visible:
            assert section.key not in shown, section.key
            assert not [t for t in _typed_texts(definition, posted, keys) if t in page]
            continue
        for f in section.fields:
            if f.key not in _leaves(posted) or not f.condition_met(values):
                continue
            text = shown[section.key].get(f.label_in("en"))
            assert text is not None, (section.key, f.key)
            if hide_location and f.reveals_location:
                assert text == HIDDEN, f.key
                assert not [t for t in _typed_texts(definition, posted, {f.key}) if t in page]
                continue
            for name, value in posted.items():
                sub, group = _definition_field(definition, name)
                if (group or sub.key) != f.key:
                    continue
                if group and hide_location and sub.reveals_location:
                    assert value not in page, name
                    continue
                for piece in _shown(sub, value):
                    assert piece in text, (name, piece, text)


# -- The world and the journey ----------------------------------------------------------------

@pytest.fixture
def people(app, monkeypatch):
    """A unit of every kind the built-in forms route between (two schools), a member in each;
    no real password hashing (`login_as` does not need it)."""
    import support

    monkeypatch.setattr(support, "hash_password", lambda password: "not-a-password-hash")
    kinds = {"child_welfare_institution", "child_welfare_social_work", "family_care",
             "psychiatric_ward", "daycare", "professional_family_home", "outpatient_psychiatry"}
    made = {}
    with app.app_context():
        for name in sorted(kinds) + ["sending_school", "school"]:
            kind = "school" if name.endswith("school") else name
            unit = create_unit(f"{name} unit", kind=kind, email="")
            role = "sender" if name != "school" else "receiver"
            roles = [(unit, "sender"), (unit, "receiver")] if role == "sender" else [
                (unit, "receiver")]
            user = create_user(f"{name}@example.test", name=f"Reader of {name}",
                               memberships=roles)
            for item in (unit, user):
                db.session.refresh(item)
                db.session.expunge(item)
            made[name] = (unit, user)
    return made


def _units_for(form_key, people):
    sender_kind, receiver_kind = JOURNEYS[form_key]
    sender = people["sending_school" if sender_kind == "school" else sender_kind]
    receiver = people[receiver_kind]
    return sender, receiver


def _client(app, user):
    client = app.test_client()
    login_as(client, app, user)
    return client


def send_through_the_pages(app, form_key, people, flags):
    """Sender's journey: new -> route -> fill (rows added) -> preview -> send. Returns
    (handover id, copy (unit, user) pairs, posted values, definition)."""
    (sender_unit, sender), (receiver_unit, _receiver) = _units_for(form_key, people)
    with app.app_context():
        definition = definition_of(form_key)
        copy_kinds = sorted(set(definition.routing.copies) - {sender_unit.kind})
    copies = [people[kind] for kind in copy_kinds]
    client = _client(app, sender)

    assert f"{sender_unit.id}:{form_key}" in client.get("/handovers/new").get_data(as_text=True)
    response = client.post("/handovers/new", data={"choice": f"{sender_unit.id}:{form_key}"})
    response = client.post(response.headers["Location"], data={
        "receiver": str(receiver_unit.id), "copies": [str(unit.id) for unit, _ in copies],
        "legal_basis": definition.legal_bases[0].value})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    edit_url = response.headers["Location"]
    handover_id = int(re.search(r"/handovers/(\d+)/edit", edit_url).group(1))

    page = client.get(edit_url).get_data(as_text=True)
    form = FormFields(page).form("child_name")
    for group in list(form["add_rows"]):  # a second row in every repeating group
        response = client.post(edit_url, data={**fill(definition, form["fields"], flags),
                                               "add_row": group})
        assert response.status_code == 200
        form = FormFields(response.get_data(as_text=True)).form("child_name")
        assert any(name.startswith(f"{group}-1-") for name in form["fields"]), group
    fillable = {f.key for f in definition.fields() if f.shown_for(sender_unit.kind)}
    assert _leaves(form["fields"]) == fillable  # every field the sender fills is on the page

    posted = fill(definition, form["fields"], flags)
    response = client.post(edit_url, data={**posted, "preview": "1"})
    assert response.status_code == 302, _problems(response)
    preview = client.get(f"/handovers/{handover_id}/preview").get_data(as_text=True)
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', preview).group(1)
    response = client.post(f"/handovers/{handover_id}/send", data={"submission_token": token})
    assert response.headers["Location"].endswith(f"/handovers/{handover_id}/sent")
    return handover_id, copies, posted, definition


def _problems(response):
    page = response.get_data(as_text=True)
    return re.findall(r'<p class="field__error"[^>]*>([^<]*)</p>', page) or page[:2000]


def _printed_at_candidates(app, start):
    from flask_babel import force_locale

    from handover.i18n import format_datetime

    with app.test_request_context(), force_locale("en"):
        moments = {start + timedelta(minutes=m) for m in range(0, 3)}
        return {format_datetime(moment, "short") for moment in moments}


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("form_key", JOURNEYS)
def test_every_field_sent_through_the_pages_reads_right_for_each_reader(
        app, people, form_key, flag):
    hid, copies, posted, definition = send_through_the_pages(app, form_key, people,
                                                             FLAGS[flag])
    protected = flag != "none"
    (sender_unit, sender), (receiver_unit, receiver) = _units_for(form_key, people)

    readers = [(receiver_unit, receiver, False)] + [(u, r, True) for u, r in copies]
    for unit, user, as_copy in readers:
        client = _client(app, user)
        visible = {s.key for s in definition.visible_sections(unit.kind, as_copy=as_copy)}
        started = utcnow()
        for url in (f"/handovers/{hid}", f"/handovers/{hid}/print"):
            response = client.get(url)
            assert response.status_code == 200, (url, unit.kind)
            page = response.get_data(as_text=True)
            assert (BANNER in page) == protected, (url, unit.kind)
            check_reader(page, definition, posted, visible, protected and as_copy)
            # The copy units can include the placement itself: a copy of a protected child's
            # handover must not name them, the receiver (a professional) still sees them.
            listed = re.search(r"<dt>Copies</dt><dd>(.*?)</dd>", page, re.S).group(1)
            for copy_unit, _reader in copies:
                named = copy_unit.name in listed
                assert named == (not (protected and as_copy)), (url, unit.kind, copy_unit.name)
        assert user.name in page
        printed = re.search(rf"Printed by {re.escape(user.name)} on ([^<–]+?)\s*–", page)
        assert printed and printed.group(1) in _printed_at_candidates(app, started - timedelta(
            minutes=1)), page[:1000]

    page = _client(app, sender).get(f"/handovers/{hid}").get_data(as_text=True)
    assert (BANNER in page) == protected
    check_reader(page, definition, posted, {s.key for s in definition.sections}, False)


@pytest.mark.parametrize("form_key", [key for key, replies in REPLY_FORMS.items() if replies])
def test_receiver_answers_with_the_reply_forms_and_the_sender_reads_them(app, people, form_key):
    hid, copies, _posted, definition = send_through_the_pages(app, form_key, people, {})
    (_sender_unit, sender), (_receiver_unit, receiver) = _units_for(form_key, people)
    client = _client(app, receiver)
    answers = {}
    for reply_key in REPLY_FORMS[form_key]:
        url = f"/handovers/{hid}/reply/{reply_key}"
        reply = definition.reply_form(reply_key)
        page = client.get(url).get_data(as_text=True)
        first = next(iter(reply.fields())).key
        fields = FormFields(page).form(first)["fields"]
        # Beside the reply form's own fields, the reply's basis of disclosure (its form's list).
        bases = re.findall(r'name="legal_basis" value="([^"]+)"', page)
        assert _leaves(fields) == {f.key for f in reply.fields()} | ({"legal_basis"} if bases
                                                                      else set())
        posted = {name: (PAST if reply.field(name).type == "date" else f"[{reply_key}:{name}]")
                  for name in fields if name != "legal_basis"}
        if bases:
            posted["legal_basis"] = bases[-1]
        response = client.post(url, data=posted)
        assert response.status_code == 302, _problems(response)
        answers[reply_key] = (reply, posted)

    sender_page = _client(app, sender).get(f"/handovers/{hid}").get_data(as_text=True)
    thread = sender_page.split('id="thread"', 1)[1]
    for reply, posted in answers.values():
        for name, value in posted.items():
            if name == "legal_basis":
                continue
            for piece in _shown(reply.field(name), value):
                assert piece in thread, (name, piece)
    for _unit, user in copies:  # a copy gets the form's minimum, not the thread
        page = _client(app, user).get(f"/handovers/{hid}").get_data(as_text=True)
        assert not [v for _r, p in answers.values() for v in p.values()
                    if v.startswith("[") and v in page]
