"""what the staff-experience work stores (issue 14): typing kept across an expired session

``kept_typing`` holds what a section page posted after its session had ended, sealed under the
handover's data key and bound to the person who typed it, until they log in again (at most a
day; the purge deletes what nobody came back for).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from handover.store.models.base import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kept_typing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('handover_id', sa.Integer(), nullable=False),
        sa.Column('section_key', sa.String(length=100), nullable=False),
        sa.Column('fields', sa.LargeBinary(), nullable=False),
        sa.Column('kept_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'handover_id', 'section_key',
                            name='uq_kept_typing_user_handover_section'),
    )
    op.create_index('ix_kept_typing_user_id', 'kept_typing', ['user_id'])
    op.create_index('ix_kept_typing_handover_id', 'kept_typing', ['handover_id'])
    op.create_index('ix_kept_typing_expires_at', 'kept_typing', ['expires_at'])


def downgrade():
    op.drop_index('ix_kept_typing_expires_at', table_name='kept_typing')
    op.drop_index('ix_kept_typing_handover_id', table_name='kept_typing')
    op.drop_index('ix_kept_typing_user_id', table_name='kept_typing')
    op.drop_table('kept_typing')
