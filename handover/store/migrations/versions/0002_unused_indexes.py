"""drop three indexes no query uses

Every index is one more write for each row inserted, and for each update of an indexed column:
PostgreSQL cannot update a handover's status in place (its status is in the unit indexes), so
a send or first view writes a new entry into every index of ``handovers``.

- ``ix_audit_events_actor_id``: the audit page finds a user by name or address, through
  ``actor_label``; nothing filters on ``actor_id``. A receiver's first view writes two events.
- ``ix_handovers_form_key`` and ``ix_handovers_sent_at``: lists filter by form and order by
  sending time within one unit, through ``ix_handovers_receiver_sent`` and
  ``ix_handovers_sender_sent``; no query looks either up across all units.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

DROPPED = (
    ('audit_events', 'ix_audit_events_actor_id', ['actor_id']),
    ('handovers', 'ix_handovers_form_key', ['form_key']),
    ('handovers', 'ix_handovers_sent_at', ['sent_at']),
)


def upgrade():
    for table, index, _columns in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)


def downgrade():
    for table, index, columns in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(index, columns, unique=False)
