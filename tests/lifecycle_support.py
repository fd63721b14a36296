"""Shared by the lifecycle tests: the test-only form plugin, a small world of units and people,
a fast login, and helpers that write and send a handover.

Import the fixtures into a test module (``from lifecycle_support import app_config, world``).
"""

import re
import secrets
import shutil
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select
from support import create_unit, create_user

from handover.store.database import db
from handover.store.models import Handover, KeptTyping, UserSession
from handover.store.models.base import utcnow
from handover.web.handovers import keeping

PLUGINS = Path(__file__).parent / "plugins"
FORM_KEY = "lifecycle_test"

#: A child that exists only in tests: temporary-range identity code, an unusual name, and a
#: free-text marker; raw-storage tests search the database for each of them.
CHILD_NAME = "Ilmari Testilapsi-Kuusikko"
CHILD_CODE = "010594Y9032"
FREE_TEXT_MARKER = "MARKER-7f3a-sleeps-with-the-blue-lamp"
#: What the withdrawal page posts: the reason chosen (`services.withdrawal.WITHDRAWAL_REASONS`).
WITHDRAWN = {"reason": "wrong_unit"}
ADDRESS = "Salainenkatu 13 B 7"


def install_plugin(instance_path):
    """Copy the test-only form plugin into the instance's plugins folder."""
    for suffix in (".py", ".toml"):
        shutil.copy(PLUGINS / f"lifecycle_form{suffix}", instance_path / "plugins")


@pytest.fixture
def app_config(app_config, instance_path):
    """The default test configuration, with the lifecycle test plugin installed."""
    install_plugin(instance_path)
    return app_config


@dataclass
class World:
    units: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)

    def user(self, name):
        return db.session.get(type(self.users[name]), self.users[name].id)

    def unit(self, name):
        return db.session.get(type(self.units[name]), self.units[name].id)


UNIT_KINDS = {
    "sending": "child_welfare_institution",
    "receiving": "psychiatric_ward",
    "copy": "child_welfare_social_work",
    "other": "psychiatric_ward",
}


@pytest.fixture
def world(app, monkeypatch):
    """Four units (sending institution, receiving ward, copied social work, an unrelated ward),
    a sender, receiver and lead in each, an admin and an auditor. Their passwords are never
    used (`login_as`), so they skip the deliberately slow password hashing."""
    import support

    monkeypatch.setattr(support, "hash_password", lambda password: "not-a-password-hash")
    made = World()
    with app.app_context():
        for name, kind in UNIT_KINDS.items():
            unit = create_unit(f"{name.title()} unit", kind=kind, email="")
            made.units[name] = unit
            for role in ("sender", "receiver", "lead"):
                made.users[f"{name}_{role}"] = create_user(
                    f"{name}.{role}@example.test", memberships=[(unit, role)]
                )
        made.users["admin"] = create_user("admin@example.test", admin=True)
        made.users["auditor"] = create_user("auditor@example.test", auditor=True)
        for item in list(made.units.values()) + list(made.users.values()):
            db.session.refresh(item)
            db.session.expunge(item)
    return made


def login_as(client, app, user):
    """Log in without the two-step form (that has its own tests): a server-side session row and
    the cookie pointing at it, exactly what a finished login leaves behind (with the mark that
    typing kept from an expired session waits, when it does)."""
    with app.app_context():
        row = UserSession(id=secrets.token_urlsafe(32), user_id=user.id)
        db.session.add(row)
        db.session.commit()
        session_id = row.id
        typing_waits = db.session.execute(select(KeptTyping.id).where(
            KeptTyping.user_id == user.id, KeptTyping.expires_at > utcnow())).first() is not None
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["language"] = "en"  # the tests read the English texts
        if typing_waits:
            session[keeping.TYPING_WAITS] = True
    return client


def content(**overrides):
    """A complete, valid filling of the test form."""
    values = {
        "child_name": CHILD_NAME,
        "child_identity_code": CHILD_CODE,
        "non_disclosure": "no",
        "location_hidden": "no",
        "placement_address": ADDRESS,
        "health_notes": FREE_TEXT_MARKER,
    }
    values.update(overrides)
    return values


def send_handover(world, *, copies=True, now=None, **overrides):
    """Draft and send one handover from the sending unit to the receiving unit (service level).
    Needs an app context; returns the handover's id."""
    from handover.services import drafts, sending

    sender = world.user("sending_sender")
    draft = drafts.start(
        sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
        [world.unit("copy")] if copies else [], "lsl_disclosure",
    )
    drafts.save(sender, draft, content(**overrides))
    handover = sending.send(sender, draft, secrets.token_urlsafe(16), now=now)
    return handover.id


#: A small PDF for attachment tests.
PDF = b"%PDF-1.7\n% a tiny test document\n%%EOF\n"


def draft_with_attachment(app, world, code=CHILD_CODE):
    """A draft saved with the child's ``code``, a file attached and downloaded (service
    level); returns the draft's id."""
    from handover.services import attachments, drafts

    with app.app_context():
        sender = world.user("sending_sender")
        draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("receiving"),
                             [], "lsl_disclosure")
        drafts.save(sender, draft, content(child_identity_code=code))
        attached = attachments.add(access_for(world, "sending_sender", draft.id, "attach"),
                                   sender, "lausunto.pdf", PDF)
        attachments.download(access_for(world, "sending_sender", draft.id, "read"), sender,
                             attached.id)
        return draft.id


def access_for(world, user_name, handover_id, capability="read"):
    from handover.services import policy as access

    return access.require(world.user(user_name), handover_id, capability)


def handover(handover_id):
    return db.session.get(Handover, handover_id)


def tampered_handover(app, world):
    """A sent handover whose sealed content has one bit flipped."""
    with app.app_context():
        handover_id = send_handover(world)
        stored = handover(handover_id)
        sealed = bytearray(stored.content)
        sealed[-5] ^= 0x01
        stored.content = bytes(sealed)
        db.session.commit()
    return handover_id


def empty_draft(app, world):
    """The id of an empty draft of the test form, from the sending unit to the receiving unit
    (no copies)."""
    from handover.services import drafts

    with app.app_context():
        return drafts.start(world.user("sending_sender"), world.unit("sending"), FORM_KEY,
                            world.unit("receiving"), [], "lsl_disclosure").id


@pytest.fixture
def ward_draft(app, world):
    """The id of an empty draft of the ward form, routed with its legal basis."""
    from handover.services import drafts

    with app.app_context():
        return drafts.start(world.user("sending_sender"), world.unit("sending"),
                            "psychiatric_ward_preinfo", world.unit("receiving"), [],
                            "child_welfare_necessary").id


@pytest.fixture
def sent(app, world):
    """The id of a handover sent from the sending unit to the receiving unit."""
    with app.app_context():
        return send_handover(world)


def child_report(client, code=CHILD_CODE, language="en"):
    """The auditor's report for ``code``: the page and its event table's rows, each a list of
    its cells' texts (time, who, unit, what happened, handover, outcome, client address)."""
    client.post("/language", data={"language": language, "next": "/"})
    response = client.post("/audit/child-report", data={"identity_code": code})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    body = page.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in page else ""
    rows = [[unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)]
            for row in body.split("</tr>") if "<td" in row]
    return page, rows


def meanwhile(app, action):
    """Run ``action()`` as another request would, in an app context (a session and a
    connection) of its own, committed before returning: the race tests' other request."""
    with app.app_context():
        action()


def stored_handover(app, handover_id):
    """The handover as stored now, detached from any session, to assert on."""
    with app.app_context():
        stored = db.session.get(Handover, handover_id)
        db.session.expunge(stored)
        return stored
