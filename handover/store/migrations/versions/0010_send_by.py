"""when a draft should be sent by, from its form's timing (issue 16)

``handovers`` gains ``send_by_at`` (indexed: the overdue job reads only drafts past it) and
``late_notified_at`` (the sending unit's leads were told, once). Both are times, stored in the
clear as ``due_at`` is. Drafts existing before this revision get their send-by time on their
next save: it is computed from the sealed content, which a migration does not open.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = ('send_by_at', 'late_notified_at')


def upgrade():
    # Plain ADD COLUMN, not batch mode (see 0009: batch mode on SQLite would copy and drop
    # ``handovers``, and the drop cascades to replies and attachments).
    for column in COLUMNS:
        op.add_column('handovers', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_handovers_send_by_at', 'handovers', ['send_by_at'], unique=False)


def downgrade():
    op.drop_index('ix_handovers_send_by_at', table_name='handovers')
    for column in reversed(COLUMNS):
        op.drop_column('handovers', column)
