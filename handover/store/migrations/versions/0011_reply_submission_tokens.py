"""a reply remembers the one-time token of the page it was posted from

``replies`` gains ``submission_token``, unique: a repeat of the same post (a double click, a
retry after a timeout) finds the reply the first post made instead of adding a second. A
random token, never client data. Replies made before this revision have none.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and a unique index, not batch mode (see 0009: batch mode on SQLite would
    # copy and drop the table).
    op.add_column('replies', sa.Column('submission_token', sa.String(length=64), nullable=True))
    op.create_index('ix_replies_submission_token', 'replies', ['submission_token'], unique=True)


def downgrade():
    op.drop_index('ix_replies_submission_token', table_name='replies')
    op.drop_column('replies', 'submission_token')
