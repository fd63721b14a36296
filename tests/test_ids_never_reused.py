"""An id, once given, is never given again: not after a discarded draft, a removed attachment
or membership, and not on SQLite, which (without AUTOINCREMENT) gave the next row the largest
id in the table plus one. Audit events, the access report, URLs, the API and webhooks name
handovers by id: a discarded draft's events must never read as another child's handover's.

Also the migration (0013) that gives an existing SQLite database the same: rows, indexes and
foreign keys kept, and no id given again that the database still names, not even one of a draft
discarded just before the upgrade."""

import lifecycle_support
import pytest
from flask_migrate import downgrade, upgrade
from lifecycle_support import CHILD_CODE, FORM_KEY, content, login_as, send_handover
from sqlalchemy import inspect, select, text
from support import (
    LATER_COLUMNS,
    add_later_columns,
    create_unit,
    create_user,
    drop_later_columns,
    empty_database,
)

from handover.services import accounts, attachments, drafts, policy
from handover.store import audit
from handover.store.database import db
from handover.store.models import (
    Attachment,
    AuditEvent,
    Handover,
    HandoverCopy,
    Membership,
    OidcIdentity,
    Unit,
    User,
)

app_config = lifecycle_support.app_config
world = lifecycle_support.world

OTHER_CHILD = "020594X903P"
PDF = b"%PDF-1.7\n% a tiny test document\n%%EOF\n"

#: The tables whose rows are deleted and whose ids are named outside the row (see migration
#: 0013 for each one's reason): they count on, on SQLite too.
COUNTING_ON = {"handovers", "attachments", "replies", "memberships", "oidc_identities"}
#: Every other table with an integer id, and why its ids need no counter of their own. A new
#: table fails `test_every_table_with_an_id_was_decided` until it is in one of the two.
KEPT_AS_THEY_ARE = {
    "users": "never deleted: deactivated",
    "units": "never deleted: deactivated",
    "integration_clients": "never deleted: revoked",
    "webhook_endpoints": "never deleted: switched off",
    "deliveries": "never deleted: marked delivered or failed",
    "audit_events": "append-only: the database refuses DELETE",
    "uploaded_forms": "never deleted: every version stays",
    "uploaded_forms_generation": "one row, never deleted",
    "handover_copies": "deleted, but found by handover and unit, never by id",
    "handover_returns": "deleted only with the handover, found by it",
    "disclosures": "deleted only with the handover, found by it",
    "kept_typing": "deleted, but found by user, handover and section; sealed to the user",
    "idempotency_keys": "deleted, but found by client and key",
}


def test_every_table_with_an_id_was_decided():
    with_ids = {table.name for table in db.metadata.sorted_tables
                if [(c.name, c.type.python_type) for c in table.primary_key.columns] == [
                    ("id", int)]}
    counting = {table.name for table in db.metadata.sorted_tables
                if table.dialect_options["sqlite"]["autoincrement"]}
    assert counting == COUNTING_ON
    assert with_ids == COUNTING_ON | KEPT_AS_THEY_ARE.keys()


def test_a_discarded_drafts_id_and_events_never_reach_the_next_handover(app, client, world):
    """Child A's draft, the newest handover, is discarded; child B's handover comes next. It
    has an id of its own, and B's access report shows none of A's draft's events."""
    with app.app_context():
        first = _draft(world, CHILD_CODE)
    login_as(client, app, world.users["sending_sender"])
    assert client.post(f"/handovers/{first}/discard").status_code == 302
    with app.app_context():
        second = send_handover(world, child_identity_code=OTHER_CHILD)
        assert second > first
        assert "handover.draft_discarded" not in _actions_on(second)
        assert _actions_on(first) == ["handover.draft_created", "handover.draft_saved",
                                      "handover.draft_discarded"]
    auditor = login_as(app.test_client(), app, world.users["auditor"])
    page = auditor.post("/audit/child-report", data={"identity_code": OTHER_CHILD})
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert f"#{second}:" in shown and f"#{first}:" not in shown
    assert _cell("Handover sent") in shown and _cell("Draft deleted") not in shown
    # And the discarded draft's address finds nothing, rather than child B's handover.
    assert client.get(f"/handovers/{second}").status_code == 200
    assert client.get(f"/handovers/{first}").status_code == 404


def test_a_removed_attachment_or_membership_leaves_its_id_unused(app, world):
    with app.app_context():
        sender = world.users["sending_sender"].id
        draft = _draft(world, CHILD_CODE)
        removed = _attach(sender, draft)
        _remove_attachment(sender, draft, removed)
        assert _attach(sender, draft) > removed
        newest = db.session.scalar(select(Membership).order_by(Membership.id.desc()))
        membership_id, person, unit, role = (newest.id, newest.user, newest.unit,
                                             newest.role)
        accounts.remove_membership(newest)
        assert accounts.add_membership(person, unit, role).id > membership_id


# --- the migration ------------------------------------------------------------------------


@pytest.fixture
def at_0012(app, monkeypatch):
    """The database as revision 0012 left it, emptied; the test's schema again afterwards."""
    import support

    monkeypatch.setattr(support, "hash_password", lambda password: "not-a-password-hash")
    with app.app_context():
        empty_database()
        upgrade(revision="0012")
        add_later_columns()
    yield
    with app.app_context():
        db.session.remove()
        empty_database()
        db.create_all()


def test_an_upgraded_database_keeps_its_rows_and_never_gives_an_id_again(app, at_0012,
                                                                        database_backend):
    """Before 0013, SQLite gave a discarded draft's id to the next draft. An instance that
    discarded its newest draft, attachment and membership just before upgrading: every row
    is kept, and none of the three ids, which its audit log still names, is given again."""
    with app.app_context():
        sending, receiving, sender = _people()
        kept = _draft_of(sender, sending, receiving, CHILD_CODE)
        kept_attachment = _attach(sender, kept)
        removed_attachment = _attach(sender, kept)
        _remove_attachment(sender, kept, removed_attachment)
        discarded = _draft_of(sender, sending, receiving, OTHER_CHILD)
        drafts.discard(db.session.get(User, sender), db.session.get(Handover, discarded))
        reader = create_user("reader@example.test").id
        removed_membership = accounts.add_membership(
            db.session.get(User, reader), db.session.get(Unit, receiving), "receiver").id
        accounts.remove_membership(db.session.get(Membership, removed_membership))
        before = _rows()
        db.session.remove()

        _upgrade()

        assert _rows() == before
        assert drafts.content_of(db.session.get(Handover, kept))["child_identity_code"] == (
            CHILD_CODE)
        assert [a.id for a in db.session.get(Handover, kept).attachments] == [kept_attachment]
        assert audit.verify_chain()[0]
        new = _draft_of(sender, sending, receiving, OTHER_CHILD)
        assert new > discarded
        assert _actions_on(new) == ["handover.draft_created", "handover.draft_saved"]
        assert _attach(sender, new) > removed_attachment
        assert accounts.add_membership(db.session.get(User, reader),
                                       db.session.get(Unit, receiving), "lead").id > (
            removed_membership)
        _assert_foreign_keys_hold(database_backend, sender)


def test_a_database_without_rows_upgrades_and_counts_from_one(app, at_0012):
    with app.app_context():
        _upgrade()
        sending, receiving, sender = _people()
        assert _draft_of(sender, sending, receiving, CHILD_CODE) == 1


def test_the_migrated_tables_count_on_as_the_models_say(app, database_backend):
    """compare_metadata does not compare AUTOINCREMENT: the migrated SQLite schema must still
    declare it on exactly the tables whose models do, and a downgrade takes it away again."""
    if database_backend != "sqlite":
        pytest.skip("AUTOINCREMENT is SQLite's; PostgreSQL's sequences never give an id twice")
    with app.app_context():
        assert _counting_tables() == COUNTING_ON   # db.create_all, as the tests make it
        empty_database()
        upgrade()
        assert _counting_tables() == COUNTING_ON
        downgrade(revision="0012")
        assert _counting_tables() == set()
        assert {index["name"] for index in inspect(db.engine).get_indexes("handovers")} >= {
            "ix_handovers_receiver_sent", "ix_handovers_sender_sent", "ix_handovers_status"}
        upgrade()
        assert _counting_tables() == COUNTING_ON


# --- helpers ------------------------------------------------------------------------------

def _upgrade():
    """`upgrade()` from the `at_0012` database, without the columns it added."""
    drop_later_columns()
    upgrade()


def _draft(world, code):
    return _draft_of(world.users["sending_sender"].id, world.units["sending"].id,
                     world.units["receiving"].id, code)


def _draft_of(sender_id, sending_id, receiving_id, code):
    """A saved draft of the lifecycle form about the child ``code``; its id."""
    sender = db.session.get(User, sender_id)
    draft = drafts.start(sender, db.session.get(Unit, sending_id), FORM_KEY,
                         db.session.get(Unit, receiving_id), [], "lsl_disclosure")
    drafts.save(sender, draft, content(child_identity_code=code))
    return draft.id


def _attach(sender_id, handover_id):
    sender = db.session.get(User, sender_id)
    return attachments.add(policy.require(sender, handover_id, "attach"), sender,
                           "report.pdf", PDF).id


def _remove_attachment(sender_id, handover_id, attachment_id):
    sender = db.session.get(User, sender_id)
    attachments.remove(policy.require(sender, handover_id, "attach"), sender, attachment_id)


def _people():
    """The ids of a sending institution, a ward, and a sender: what the lifecycle form routes
    between. The membership is made as the admin pages make one, with its audit event."""
    sending = create_unit("Sending unit", kind="child_welfare_institution")
    receiving = create_unit("Receiving unit", kind="psychiatric_ward")
    sender = create_user("sender@example.test")
    accounts.add_membership(sender, sending, "sender")
    return sending.id, receiving.id, sender.id


def _cell(words):
    return f'<td class="govuk-table__cell">{words}</td>'


def _actions_on(handover_id):
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.handover_id == handover_id).order_by(AuditEvent.id)))


def _rows():
    """Every row of the tables the migration copies, and the ones that refer to them."""
    later = {table: {name for name, _kind in columns}
             for table, columns in LATER_COLUMNS.items()}
    return {model.__tablename__: db.session.execute(
        select(*[column for column in model.__table__.columns
                 if column.name not in later.get(model.__tablename__, ())])
        .order_by(model.id)).all()
        for model in (Handover, Attachment, HandoverCopy, Membership, OidcIdentity,
                      AuditEvent)}


def _assert_foreign_keys_hold(database_backend, sender):
    """The copy ran with SQLite's foreign keys off; every connection enforces them again, and
    deleting a draft still deletes what hangs on it."""
    if database_backend == "sqlite":
        idle = db.engine.pool.checkedin()
        connections = [db.engine.connect() for _ in range(idle + 1)]
        try:
            assert all(c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                       for c in connections)
            assert connections[0].exec_driver_sql("PRAGMA foreign_key_check").all() == []
        finally:
            for connection in connections:
                connection.close()
    draft = db.session.scalar(select(Handover).order_by(Handover.id.desc()))
    drafts.discard(db.session.get(User, sender), draft)
    assert db.session.scalar(select(Attachment.id).where(
        Attachment.handover_id == draft.id)) is None


def _counting_tables():
    return {name for name, sql in db.session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
        if "AUTOINCREMENT" in (sql or "")}


def test_a_probe_of_the_largest_id_before_the_upgrade_moves_no_counter(app, at_0012):
    """Before 0013 a refused read recorded the id asked for as the event's handover. Counting
    such an id as given would let anyone signed in who probed /handovers/2147483647 push
    every later handover beyond the ids the service accepts."""
    with app.app_context():
        sending, receiving, sender = _people()
        audit.record("handover.access_denied", actor=db.session.get(User, sender),
                     handover_id=2147483647, outcome="denied", detail={"wanted": "view"})
        db.session.commit()
        db.session.remove()
        _upgrade()
        assert _draft_of(sender, sending, receiving, CHILD_CODE) == 1
