"""The database's own refusal to change history: triggers that make ``audit_events``
append-only, per dialect (`APPEND_ONLY_GUARD`).

They are installed wherever the table is created: importing this module (as `store.audit`
does) hooks them to the table's ``after_create``, so `db.create_all` in tests gets them, and the
migration that creates the table runs the same statements (`install_append_only_guard`) for
`flask db upgrade` in production. Apart from `store.audit`, because the guard is schema, not
recording: nothing here runs per event. `store.audit` answers for these names too.
"""

from sqlalchemy import DDL, event

from handover.store.database import db
from handover.store.models import AuditEvent

#: The SQL that makes ``audit_events`` append-only, per dialect. The migration that creates
#: the table runs the same statements (`install_append_only_guard`), so `db.create_all` in
#: tests and `flask db upgrade` in production give the same protection.
APPEND_ONLY_GUARD = {
    "postgresql": [
        """
        CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- No format placeholder: DDL and text() would both read a percent sign.
            RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused';
        END
        $$
        """,
        """
        CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END
        """,
        """
        CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END
        """,
    ],
}


def install_append_only_guard(connection):
    """Create the trigger(s) on ``connection`` (for the Alembic migration: ``op.get_bind()``)."""
    for statement in APPEND_ONLY_GUARD.get(connection.dialect.name, []):
        connection.execute(db.text(statement))


for _dialect, _statements in APPEND_ONLY_GUARD.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
