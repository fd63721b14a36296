"""The child's access report says through which unit each person saw the child's handover in a
list (their inbox or outbox, the results of a search by identity code, the list of the
child's earlier handovers on another handover's page): the unit of theirs that had it, not a
bare dash. An older event that recorded no unit says so in words."""

import re
from html import unescape

import lifecycle_support
from lifecycle_support import CHILD_CODE, FORM_KEY, login_as, send_handover
from support import create_user

from handover.services import drafts, sending
from handover.store import audit
from handover.store.database import db

app_config = lifecycle_support.app_config
world = lifecycle_support.world

LISTED = "Shown in a list"
EARLIER_SHOWN = "Shown in the list of the child's earlier handovers"


def report(app, world, language="en"):
    """The auditor's report for the child, as rows of cell texts (time, who, unit, what
    happened, handover, outcome, client address)."""
    client = login_as(app.test_client(), app, world.users["auditor"])
    client.post("/language", data={"language": language, "next": "/"})
    response = client.post("/audit/child-report", data={"identity_code": CHILD_CODE})
    assert response.status_code == 200
    body = response.get_data(as_text=True).split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)]
            for row in body.split("</tr>") if "<td" in row]


def seen(rows, label):
    """{(who, unit)} of the rows saying ``label``."""
    return {(row[1], row[2]) for row in rows if row[3].startswith(label)}


def to_other_ward(world, copies=()):
    """A handover of the same child from the sending unit to the other ward."""
    sender = world.user("sending_sender")
    draft = drafts.start(sender, world.unit("sending"), FORM_KEY, world.unit("other"),
                         [world.unit(name) for name in copies], "lsl_disclosure")
    drafts.save(sender, draft, lifecycle_support.content())
    return sending.send(sender, draft, f"token-other-{len(copies)}").id


def test_a_handover_shown_in_a_list_names_the_unit_it_was_listed_through(app, world):
    with app.app_context():
        send_handover(world, copies=True)
    for person, path in (("receiving_receiver", "/handovers/inbox"),
                         ("copy_receiver", "/handovers/inbox"),
                         ("sending_sender", "/handovers/outbox"),
                         ("receiving_lead", "/")):
        reader = login_as(app.test_client(), app, world.users[person])
        assert reader.get(path).status_code == 200, path
    searcher = login_as(app.test_client(), app, world.users["copy_lead"])
    assert searcher.post("/handovers/find",
                         data={"identity_code": CHILD_CODE}).status_code == 200
    rows = report(app, world)
    assert seen(rows, LISTED) == {
        ("Receiving.Receiver", "Receiving unit"), ("Copy.Receiver", "Copy unit"),
        ("Sending.Sender", "Sending unit"), ("Receiving.Lead", "Receiving unit"),
        ("Copy.Lead", "Copy unit")}
    assert all(row[2] not in ("—", "") for row in rows if row[3].startswith(LISTED))


def test_an_earlier_handover_is_named_with_the_unit_that_had_it(app, world):
    """A person in two units reads the child's handover to the other ward: the list of the
    child's earlier handovers shows the one the receiving ward got, through that ward."""
    with app.app_context():
        send_handover(world, copies=True)
        later = to_other_ward(world, copies=["copy"])
        both = create_user("two.wards@example.test", memberships=[
            (world.unit("receiving"), "receiver"), (world.unit("other"), "receiver")])
        db.session.refresh(both)
        db.session.expunge(both)
    for user in (both, world.users["copy_receiver"]):
        reader = login_as(app.test_client(), app, user)
        assert reader.get(f"/handovers/{later}").status_code == 200
    assert seen(report(app, world), EARLIER_SHOWN) == {
        ("Two.Wards", "Receiving unit"), ("Copy.Receiver", "Copy unit")}


def test_an_older_list_event_without_its_unit_says_not_recorded(app, world):
    with app.app_context():
        handover_id = send_handover(world)
        # As a list recorded it before it named the unit.
        audit.record_all([("handover.listed", handover_id)],
                         actor=world.user("receiving_receiver"))
        db.session.commit()
    for language, words, label in (("fi", "Ei kirjattu", "Näytetty listassa"),
                                   ("sv", "Inte registrerad", "Visad i en lista"),
                                   ("en", "Not recorded", LISTED)):
        rows = report(app, world, language)
        assert seen(rows, label) == {("Receiving.Receiver", words)}, language
    # Other events without a unit (the views of the report) keep the plain dash.
    assert {row[2] for row in rows if row[3].startswith("Report for one child")} == {"—"}
