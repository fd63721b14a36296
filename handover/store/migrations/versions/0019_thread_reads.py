"""how far each person has read a handover's thread

``thread_reads`` keeps, per person and handover, the newest reply shown to them the last time
they opened it, so that the inbox and the outbox can mark a handover with a message from the
other unit that they have not seen. Ids only. It starts from the audit log: for each person
who viewed or printed a handover, the newest reply written before their last view, so that threads they
had already read are not all marked new at the upgrade.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'thread_reads',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('handover_id', sa.Integer(), nullable=False),
        sa.Column('last_reply_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'handover_id'),
    )
    op.execute("""
        INSERT INTO thread_reads (user_id, handover_id, last_reply_id)
        SELECT viewed.actor_id, viewed.handover_id, MAX(replies.id)
        FROM (SELECT actor_id, handover_id, MAX(occurred_at) AS last_view
              FROM audit_events
              WHERE action IN ('handover.viewed', 'handover.printed')
                AND actor_id IS NOT NULL
                AND handover_id IS NOT NULL
              GROUP BY actor_id, handover_id) AS viewed
        JOIN users ON users.id = viewed.actor_id
        JOIN replies ON replies.handover_id = viewed.handover_id
                    AND replies.created_at <= viewed.last_view
        GROUP BY viewed.actor_id, viewed.handover_id
    """)


def downgrade():
    op.drop_table('thread_reads')
